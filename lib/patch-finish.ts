import { DIFF_CONST_NAMES, type Patch, type PatchAction } from './protocol.js'
import type { VNode } from './html-tree.js'

const key = (name: typeof DIFF_CONST_NAMES[number]): string => String(DIFF_CONST_NAMES.indexOf(name))
/** diff-dom's compressed keys, as strings (object keys). */
export const K = {
  action: key('action'), route: key('route'), name: key('name'), value: key('value'), element: key('element'),
  oldValue: key('oldValue'), newValue: key('newValue'), from: key('from'), to: key('to'), groupLength: key('groupLength')
}
/** diff-dom's compressed action numbers. */
export const A = Object.fromEntries(DIFF_CONST_NAMES.map((n, i) => [n, i])) as Record<typeof DIFF_CONST_NAMES[number], number>
// Property writes: what a form field shows is derived by the client from its markup (its
// `value`, `checked` and `selected` attributes, a textarea's text), as a fresh parse would
// show it; a written property would mean something else on many elements (an output's
// text, a progress bar's number, an li's ordinal) and outlive the attribute it came from.
const PROPERTIES = new Set([A.modifyValue, A.modifyChecked, A.modifySelected])

/**
 * Moves actions diffed under a stand-in parent to the real element (`route`, whose first
 * `offset` children were left out), and drops what the browser never reads (old values,
 * property writes).
 */
export function finish (actions: PatchAction[], route: number[], offset: number, before: VNode[], after: VNode[]): Patch {
  const patch: Patch = []
  for (const action of actions) {
    const kind = action[K.action] as number
    if (PROPERTIES.has(kind)) continue
    const at = action[K.route] as number[]
    if (at.length === 0 && kind === A.replaceElement) {
      // diff-dom gave up on the children as a whole: replace them one by one, never the parent.
      for (let i = before.length - 1; i >= 0; i--) patch.push({ [K.action]: A.removeElement, [K.route]: [...route, offset + i] })
      after.forEach((node, i) => { patch.push({ [K.action]: A.addElement, [K.route]: [...route, offset + i], [K.element]: slim(node) }) })
      continue
    }
    const plain: PatchAction = {}
    for (const k of Object.keys(action)) if (k !== K.oldValue) plain[k] = action[k]
    if (kind === A.addElement) plain[K.element] = slim(plain[K.element] as VNode)
    if (kind === A.replaceElement) plain[K.newValue] = slim(plain[K.newValue] as VNode)
    plain[K.route] = at.length === 0 ? route : [...route, (at[0] as number) + offset, ...at.slice(1)]
    if (kind === A.relocateGroup && at.length === 0) {
      plain[K.from] = (plain[K.from] as number) + offset
      plain[K.to] = (plain[K.to] as number) + offset
    }
    patch.push(plain)
  }
  return patch
}

/** A node as the client builds it: no empty child lists, no form state (derived from the attributes). */
function slim (node: VNode): VNode {
  if (node.data !== undefined) return { nodeName: node.nodeName, data: node.data }
  const out: VNode = { nodeName: node.nodeName }
  if (node.attributes !== undefined) out.attributes = node.attributes
  if (node.childNodes !== undefined && node.childNodes.length > 0) out.childNodes = node.childNodes.map(slim)
  return out
}

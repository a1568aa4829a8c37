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
// Attributes that only set a form field's default: once the field is dirty (the user, or an
// earlier patch, changed it) the browser ignores them, so the live property follows too.
const PROPERTY_OF: Record<string, number> = { checked: A.modifyChecked, selected: A.modifySelected, value: A.modifyValue }

/**
 * Moves actions diffed under a stand-in parent to the real element (`route`, whose first
 * `offset` children were left out), drops what the browser never reads, and adds the
 * property updates attributes of form fields need.
 */
export function finish (actions: PatchAction[], route: number[], offset: number, before: VNode[], after: VNode[]): Patch {
  const patch: Patch = []
  for (const action of actions) {
    const kind = action[K.action] as number
    const at = action[K.route] as number[]
    if (at.length === 0 && kind === A.replaceElement) {
      // diff-dom gave up on the children as a whole: replace them one by one, never the parent.
      for (let i = before.length - 1; i >= 0; i--) patch.push({ [K.action]: A.removeElement, [K.route]: [...route, offset + i] })
      after.forEach((node, i) => { patch.push({ [K.action]: A.addElement, [K.route]: [...route, offset + i], [K.element]: node }) })
      continue
    }
    const plain: PatchAction = {}
    for (const k of Object.keys(action)) if (k !== K.oldValue) plain[k] = action[k]
    plain[K.route] = at.length === 0 ? route : [...route, (at[0] as number) + offset, ...at.slice(1)]
    if (kind === A.relocateGroup && at.length === 0) {
      plain[K.from] = (plain[K.from] as number) + offset
      plain[K.to] = (plain[K.to] as number) + offset
    }
    patch.push(plain)
    if (kind !== A.addAttribute && kind !== A.modifyAttribute && kind !== A.removeAttribute) continue
    const name = plain[K.name] as string
    const property = PROPERTY_OF[name]
    if (property === undefined) continue
    const present = kind !== A.removeAttribute
    const value = name === 'value' ? (present ? (plain[K.value] ?? plain[K.newValue]) : '') : present
    patch.push({ [K.action]: property, [K.route]: plain[K.route], [K.newValue]: value })
  }
  return patch
}

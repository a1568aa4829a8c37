import { DiffDOM } from 'diff-dom'
import { DIFF_CONST_NAMES, type Patch } from './protocol.js'
import { parseTree, type VNode } from './html-tree.js'

// Compressed keys (numbers) keep patches small on the wire; the client maps them back.
const differ = new DiffDOM({ compress: true, valueDiffing: true })
const key = (name: typeof DIFF_CONST_NAMES[number]): string => String(DIFF_CONST_NAMES.indexOf(name))
const K = {
  action: key('action'), route: key('route'), name: key('name'), value: key('value'),
  oldValue: key('oldValue'), newValue: key('newValue')
}
const ADD_ATTR = DIFF_CONST_NAMES.indexOf('addAttribute')
const MODIFY_ATTR = DIFF_CONST_NAMES.indexOf('modifyAttribute')
const REMOVE_ATTR = DIFF_CONST_NAMES.indexOf('removeAttribute')
// Attributes that only set a form field's default: once the field is dirty (the user, or an
// earlier patch, changed it) the browser ignores them, so the live property follows too.
const PROPERTY_OF: Record<string, number> = {
  checked: DIFF_CONST_NAMES.indexOf('modifyChecked'),
  selected: DIFF_CONST_NAMES.indexOf('modifySelected'),
  value: DIFF_CONST_NAMES.indexOf('modifyValue')
}

/** A rendered page: its HTML and, parsed lazily, its tree. */
export class Rendered {
  readonly html: string
  #tree: VNode | undefined

  constructor (html: string, tree?: VNode) {
    this.html = html
    this.#tree = tree
  }

  get tree (): VNode {
    this.#tree ??= parseTree(this.html)
    return this.#tree
  }
}

/**
 * The diff-dom patch that turns `prev` into `next`, with routes relative to the live root,
 * or undefined when the HTML did not change.
 */
export function diffRendered (prev: Rendered, next: Rendered): Patch | undefined {
  if (prev.html === next.html) return undefined
  const actions = differ.diff(prev.tree as never, next.tree as never) as unknown as Array<Record<string, unknown>>
  const patch: Patch = []
  for (const action of actions) {
    const plain: Record<string, unknown> = {}
    // The value before the change: the browser never reads it.
    for (const k of Object.keys(action)) if (k !== K.oldValue) plain[k] = action[k]
    patch.push(plain)
    const kind = plain[K.action]
    if (kind !== ADD_ATTR && kind !== MODIFY_ATTR && kind !== REMOVE_ATTR) continue
    const name = plain[K.name] as string
    const property = PROPERTY_OF[name]
    if (property === undefined) continue
    const present = kind !== REMOVE_ATTR
    const value = name === 'value' ? (present ? (plain[K.value] ?? plain[K.newValue]) : '') : present
    patch.push({ [K.action]: property, [K.route]: plain[K.route], [K.newValue]: value })
  }
  return patch
}

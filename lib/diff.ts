import { DiffDOM } from 'diff-dom'
import { DIFF_CONST_NAMES, type Patch } from './protocol.js'
import { parseTree, type VNode } from './html-tree.js'

// Compressed keys (numbers) keep patches small on the wire; the client maps them back.
const differ = new DiffDOM({ compress: true, valueDiffing: true })
// diff-dom's key for the value before the change: the browser never reads it.
const OLD_VALUE = String(DIFF_CONST_NAMES.indexOf('oldValue'))

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
    for (const key of Object.keys(action)) if (key !== OLD_VALUE) plain[key] = action[key]
    patch.push(plain)
  }
  return patch
}

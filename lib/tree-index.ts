/**
 * The shape of a render, kept between events: a tree of the live root's nodes (element,
 * text, comment) with their lengths in the HTML, never their absolute offsets. An
 * element knows where its children start relative to its own content (computed when
 * first needed), so a change is located by a descent from the root, and a changed run of
 * children is replaced by splicing one array: the nodes after it, and unchanged subtrees
 * reused from the old render, need no update. The cost of keeping the index follows the
 * change, not the page.
 */

export const ELEMENT = 0
export const TEXT = 1
export const COMMENT = 2

export interface INode {
  kind: number
  /** Tag name as the parser keeps it ('' for text and comments, and the root). */
  name: string
  /** Namespace: 0 HTML, 1 SVG, 2 MathML. */
  ns: number
  /** The element has `lv-update="ignore"`. */
  ignored: boolean
  /** Length of the whole node in the HTML. */
  len: number
  /** Length of the start tag (0 for text and comments). */
  open: number
  /** Length of the end tag (0 when it has none: void and self-closed elements, text, comments). */
  close: number
  kids: INode[] | undefined
  /** Start of each child relative to this element's content, when computed. */
  rel: number[] | undefined
}

// Elements whose content a fragment parse would read differently (raw text, a dropped
// leading newline): a change inside one is handled as a change of the whole element.
export const OPAQUE = new Set(['script', 'style', 'xmp', 'iframe', 'noembed', 'noframes', 'noscript', 'textarea', 'title', 'pre', 'listing'])

/** What the scan records nodes into (see scan.ts): slots are this builder's own numbers. */
export interface IndexSink {
  add: (kind: number, start: number, contentStart: number, end: number, parent: number, index: number, name: string, ns: number, ignored: boolean) => number
  close: (slot: number, closeStart: number, closeEnd: number) => void
}

/** Builds nodes from a scan; nodes whose parent is -1 (a fragment's top level) land in `roots`. */
export class TreeBuilder implements IndexSink {
  readonly roots: INode[] = []
  readonly #nodes: INode[] = []
  readonly #starts: number[] = []

  add (kind: number, start: number, contentStart: number, end: number, parent: number, _index: number, name: string, ns: number, ignored: boolean): number {
    const node: INode = { kind, name, ns, ignored, len: end - start, open: contentStart - start, close: 0, kids: undefined, rel: undefined }
    const slot = this.#nodes.length
    this.#nodes.push(node)
    this.#starts.push(start)
    if (parent === -1) {
      this.roots.push(node)
    } else {
      const p = this.#nodes[parent] as INode
      if (p.kids === undefined) p.kids = [node]
      else p.kids.push(node)
    }
    return slot
  }

  close (slot: number, closeStart: number, closeEnd: number): void {
    const node = this.#nodes[slot] as INode
    node.len = closeEnd - (this.#starts[slot] as number)
    node.close = closeEnd - closeStart
  }
}

/** True for an element with an end tag: its content can hold a change. */
export const isContainer = (n: INode): boolean => n.kind === ELEMENT && n.close > 0 && !OPAQUE.has(n.name)

/** Child starts relative to `node`'s content. */
export function relOf (node: INode): number[] {
  if (node.rel !== undefined) return node.rel
  const kids = node.kids ?? []
  const rel = new Array<number>(kids.length)
  let at = 0
  for (let i = 0; i < kids.length; i++) {
    rel[i] = at
    at += (kids[i] as INode).len
  }
  node.rel = rel
  return rel
}

/** The last child of `node` whose start (relative to its content) is ≤ `at`; -1 when none. */
export function childAt (node: INode, at: number): number {
  const rel = relOf(node)
  let lo = 0
  let hi = rel.length - 1
  let found = -1
  while (lo <= hi) {
    const mid = (lo + hi) >> 1
    if ((rel[mid] as number) <= at) {
      found = mid
      lo = mid + 1
    } else {
      hi = mid - 1
    }
  }
  return found
}

/**
 * Replaces children [from, to) of the last node of `path` (root first) with `added`, whose
 * text is `delta` characters longer in total, and lengthens the elements around it.
 * `at` holds, for each node of `path` but the last, the index of the next one in it.
 */
export function splice (path: INode[], at: number[], from: number, to: number, added: INode[], delta: number): void {
  const node = path[path.length - 1] as INode
  node.kids ??= []
  node.kids.splice(from, to - from, ...added)
  const rel = node.rel
  if (rel !== undefined) {
    // Offsets of the new children from their lengths; those after them move by delta.
    if (added.length !== to - from) rel.splice(from, to - from, ...new Array<number>(added.length).fill(0))
    let at = from === 0 ? 0 : (rel[from - 1] as number) + (node.kids[from - 1] as INode).len
    for (let i = from; i < from + added.length; i++) {
      rel[i] = at
      at += (node.kids[i] as INode).len
    }
    if (delta !== 0) for (let i = from + added.length; i < rel.length; i++) rel[i] = (rel[i] as number) + delta
  }
  node.len += delta
  if (delta === 0) return
  for (let d = path.length - 2; d >= 0; d--) {
    const p = path[d] as INode
    p.len += delta
    const rel = p.rel
    if (rel !== undefined) for (let i = (at[d] as number) + 1; i < rel.length; i++) rel[i] = (rel[i] as number) + delta
  }
}

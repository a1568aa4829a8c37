/**
 * The shape of a render, kept between events: every node of the live root's content in
 * document order (element, text, comment), with its offsets in the HTML, its parent, its
 * position among its siblings and where its subtree ends. With it, the next render's
 * change is located without reading the unchanged text again, and the index itself is
 * updated by splicing in the changed children's nodes and shifting the rest.
 */

export const ELEMENT = 0
export const TEXT = 1
export const COMMENT = 2

/** Where a change sits in an indexed render. */
export interface IndexSite {
  /** The innermost node (element, or 0 the root) whose content holds the change. */
  node: number
  /** Its children wholly before the change, and where the changed ones start. */
  before: number
  start: number
  /** Where the changed children end in this render (the first unchanged child's start). */
  end: number
  /** Node slots of the changed children: [from, to). */
  from: number
  to: number
  /** Count of changed children. */
  count: number
}

// Elements whose content a fragment parse would read differently (raw text, a dropped
// leading newline): a change inside one is handled as a change of the whole element.
const OPAQUE = new Set(['script', 'style', 'xmp', 'iframe', 'noembed', 'noframes', 'noscript', 'textarea', 'title', 'pre', 'listing'])

export class DomIndex {
  count = 0
  kind = new Uint8Array(16)
  ns = new Uint8Array(16)
  ignored = new Uint8Array(16)
  start = new Int32Array(16)
  contentStart = new Int32Array(16)
  contentEnd = new Int32Array(16)
  end = new Int32Array(16)
  parent = new Int32Array(16)
  next = new Int32Array(16)
  index = new Int32Array(16)
  names: string[] = []

  #grow (need: number): void {
    let size = this.kind.length
    if (need <= size) return
    while (size < need) size *= 2
    const grow8 = (a: Uint8Array<ArrayBuffer>): Uint8Array<ArrayBuffer> => { const b = new Uint8Array(size); b.set(a); return b }
    const grow32 = (a: Int32Array<ArrayBuffer>): Int32Array<ArrayBuffer> => { const b = new Int32Array(size); b.set(a); return b }
    this.kind = grow8(this.kind)
    this.ns = grow8(this.ns)
    this.ignored = grow8(this.ignored)
    this.start = grow32(this.start)
    this.contentStart = grow32(this.contentStart)
    this.contentEnd = grow32(this.contentEnd)
    this.end = grow32(this.end)
    this.parent = grow32(this.parent)
    this.next = grow32(this.next)
    this.index = grow32(this.index)
  }

  /** Adds a node; an element's end is set when it closes. Returns its slot. */
  add (kind: number, start: number, contentStart: number, end: number, parent: number, index: number, name: string, ns: number, ignored: boolean): number {
    const slot = this.count++
    this.#grow(this.count)
    this.kind[slot] = kind
    this.start[slot] = start
    this.contentStart[slot] = contentStart
    this.contentEnd[slot] = end
    this.end[slot] = end
    this.parent[slot] = parent
    this.next[slot] = slot + 1
    this.index[slot] = index
    this.names[slot] = name
    this.ns[slot] = ns
    this.ignored[slot] = ignored ? 1 : 0
    return slot
  }

  /** Ends an element: its end tag spans [closeStart, closeEnd). */
  close (slot: number, closeStart: number, closeEnd: number): void {
    this.contentEnd[slot] = closeStart
    this.end[slot] = closeEnd
    this.next[slot] = this.count
  }

  /**
   * Locates a change that keeps the first `head` characters and the last characters from
   * `tailStart` on: the innermost element whose content holds it, and its children the
   * change touches. Text at the edge counts as touched (the other render's text may run on).
   */
  site (head: number, tailStart: number): IndexSite {
    let node = 0
    for (;;) {
      let child = node + 1
      let inner = -1
      const stop = this.next[node] as number
      while (child < stop) {
        if ((this.start[child] as number) > head) break
        if (this.kind[child] === ELEMENT && !OPAQUE.has(this.names[child] as string) && (this.contentStart[child] as number) <= head && (this.contentEnd[child] as number) >= tailStart && (this.end[child] as number) > (this.contentStart[child] as number)) {
          inner = child
          break
        }
        child = this.next[child] as number
      }
      if (inner === -1) break
      node = inner
    }
    return this.siteAt(node, head, tailStart)
  }

  /** The children of `node` that a change (as for `site`) touches. */
  siteAt (node: number, head: number, tailStart: number): IndexSite {
    let before = 0
    let start = this.contentStart[node] as number
    let from = node + 1
    let child = node + 1
    const stop = this.next[node] as number
    while (child < stop) {
      const text = this.kind[child] === TEXT
      const e = this.end[child] as number
      if (text ? e < head : e <= head) {
        before++
        start = e
        child = this.next[child] as number
        from = child
      } else {
        break
      }
    }
    let to = from
    let count = 0
    let end = this.contentEnd[node] as number
    while (to < stop) {
      const s = this.start[to] as number
      if (this.kind[to] === TEXT ? s > tailStart : s >= tailStart) {
        end = s
        break
      }
      count++
      to = this.next[to] as number
    }
    return { node, before, start, end, from, to, count }
  }

  /** True when the node or one around it has lv-update="ignore". */
  ignoredAt (node: number): boolean {
    for (let n = node; n > 0; n = this.parent[n] as number) if (this.ignored[n] === 1) return true
    return false
  }

  /** The elements from the root's child down to `node`. */
  path (node: number): number[] {
    const out: number[] = []
    for (let n = node; n > 0; n = this.parent[n] as number) out.push(n)
    return out.reverse()
  }

  /** Child-index route from the live root to `node`. */
  route (node: number): number[] {
    return this.path(node).map((n) => this.index[n] as number)
  }

  /**
   * Replaces the changed children of `site` with `part`'s nodes (an index of the new
   * children alone, whose parent -1 is the site's node) and moves everything after by
   * `shift` characters.
   */
  splice (site: IndexSite, part: DomIndex, shift: number, childCount: number): void {
    const { node, from, to } = site
    const added = part.count
    const delta = added - (to - from)
    const oldCount = this.count
    this.#grow(oldCount + delta)
    if (delta !== 0) {
      for (const a of [this.kind, this.ns, this.ignored, this.start, this.contentStart, this.contentEnd, this.end, this.parent, this.next, this.index]) {
        a.copyWithin(to + delta, to, oldCount)
      }
      this.names.splice(from, to - from, ...new Array<string>(added))
    }
    this.count = oldCount + delta
    // The element holding the change and those around it end later.
    for (let n = node; ; n = this.parent[n] as number) {
      this.contentEnd[n] = (this.contentEnd[n] as number) + shift
      this.end[n] = (this.end[n] as number) + shift
      this.next[n] = (this.next[n] as number) + delta
      if (n === 0) break
    }
    // Everything after the changed children moves.
    const childShift = childCount - site.count
    for (let n = from + added; n < this.count; n++) {
      this.start[n] = (this.start[n] as number) + shift
      this.contentStart[n] = (this.contentStart[n] as number) + shift
      this.contentEnd[n] = (this.contentEnd[n] as number) + shift
      this.end[n] = (this.end[n] as number) + shift
      this.next[n] = (this.next[n] as number) + delta
      const p = this.parent[n] as number
      if (p >= to) this.parent[n] = p + delta
      else if (p === node) this.index[n] = (this.index[n] as number) + childShift
    }
    // The new children's nodes, in the gap at `from`.
    for (let k = 0; k < added; k++) {
      const n = from + k
      this.kind[n] = part.kind[k] as number
      this.ns[n] = part.ns[k] as number
      this.ignored[n] = part.ignored[k] as number
      this.start[n] = part.start[k] as number
      this.contentStart[n] = part.contentStart[k] as number
      this.contentEnd[n] = part.contentEnd[k] as number
      this.end[n] = part.end[k] as number
      const p = part.parent[k] as number
      this.parent[n] = p === -1 ? node : from + p
      this.next[n] = from + (part.next[k] as number)
      this.index[n] = part.index[k] as number
      this.names[n] = part.names[k] as string
    }
  }
}

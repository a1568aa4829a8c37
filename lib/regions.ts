import { Scanner, frameOf, type Frame } from './scan.js'
import { A, K } from './patch-finish.js'
import type { PatchAction } from './protocol.js'
import { ELEMENT, TEXT, TreeBuilder, childAt, isContainer, relOf, type INode } from './tree-index.js'

/**
 * One changed place between two renders: children [from, to) of an element of the old
 * render (the last of `path`) became `added`, the children the new render has there.
 */
export interface Region {
  /** The elements from the root (the live root itself, first) down to the one holding the change. */
  path: INode[]
  /** For each element of `path` but the last, the index of the next one among its children. */
  at: number[]
  from: number
  to: number
  aStart: number
  aEnd: number
  bStart: number
  bEnd: number
  added: INode[]
  /** The new text of the region has `lv-update` in it. */
  ignorable: boolean
}

// Characters of old text that must follow a region in the new render too, and how far the
// new render is searched for them.
const ANCHOR = 48
const WINDOW = 16384
// Bigger insertions are still found, as a change of the element after them (it is matched unchanged).
const INSERT_WINDOW = 2048
const TRIES = 4

/**
 * Every changed place between `a` (indexed by `root`) and `b`, in document order, each
 * narrowed to the innermost element whose new children can be read alone. The unchanged
 * text between them is compared natively and never scanned. Undefined when the new
 * render has markup the scan does not understand around a change (diff whole trees).
 */
export function findRegions (a: string, b: string, root: INode): Region[] | undefined {
  const regions: Region[] = []
  let pa = common(a, 0, b, 0)
  for (;;) {
    const delta = deltaAt(regions, pa)
    if (pa === a.length && pa + delta === b.length) return joinMoves(a, b, regions)
    const region = regionAt(a, b, root, pa, regions)
    if (region === undefined) return undefined
    // A region widened over earlier ones (in both renders) takes their place; an insertion
    // just before it (its old text empty, its new text before this one's) stays.
    while (regions.length > 0 && (regions[regions.length - 1] as Region).aStart >= region.aStart && (regions[regions.length - 1] as Region).bStart >= region.bStart) regions.pop()
    regions.push(region)
    pa = region.aEnd + common(a, region.aEnd, b, region.bEnd)
  }
}

/** The b − a offset of the unchanged text at old offset `at`. */
function deltaAt (regions: Region[], at: number): number {
  for (let k = regions.length - 1; k >= 0; k--) {
    const r = regions[k] as Region
    if (r.aEnd <= at) return r.bEnd - r.aEnd
  }
  return 0
}

/**
 * Length of the common run of `a` from `i` and `b` from `j`: native comparisons of doubling
 * spans until one differs, then a binary search inside that span.
 */
export function common (a: string, i: number, b: string, j: number): number {
  const limit = Math.min(a.length - i, b.length - j)
  let at = 0
  let step = 32
  let hi = limit
  while (at < limit) {
    const n = Math.min(step, limit - at)
    if (a.substring(i + at, i + at + n) !== b.substring(j + at, j + at + n)) {
      hi = at + n
      break
    }
    at += n
    step *= 2
  }
  while (hi - at > 1) {
    const mid = (at + hi) >> 1
    if (a.substring(i + at, i + mid) === b.substring(j + at, j + mid)) at = mid
    else hi = mid
  }
  return at < limit && a.charCodeAt(i + at) === b.charCodeAt(j + at) ? at + 1 : at
}

/** The region of the first difference at old offset `pa`. */
function regionAt (a: string, b: string, root: INode, pa: number, regions: Region[]): Region | undefined {
  // Every tag starts with '<': a difference just after one is a difference of the whole tag.
  if (a.charCodeAt(pa - 1) === 60) pa--
  else if (a.charCodeAt(pa - 1) === 47 && a.charCodeAt(pa - 2) === 60) pa -= 2
  // Down to the innermost element whose content holds pa.
  const path: INode[] = [root]
  const at: number[] = []
  const starts: number[] = [0]
  let node = root
  let cs = 0
  for (;;) {
    const i = childAt(node, pa - cs)
    if (i === -1) break
    const kid = (node.kids as INode[])[i] as INode
    const s = cs + (relOf(node)[i] as number)
    if (!isContainer(kid) || pa < s + kid.open || pa > s + kid.len - kid.close) break
    path.push(kid)
    at.push(i)
    cs = s + kid.open
    starts.push(cs)
    node = kid
  }
  // The children it touches: text at either edge counts (the new text may run on into it).
  let level = path.length - 1
  const kids = node.kids ?? []
  const rel = relOf(node)
  const i = childAt(node, pa - cs)
  let from: number
  let to: number
  if (i === -1 || pa >= cs + (rel[i] as number) + (kids[i] as INode).len) {
    from = to = i + 1
  } else {
    from = i
    to = i + 1
  }
  if (from > 0 && (kids[from - 1] as INode).kind === TEXT && pa === cs + (rel[from - 1] as number) + (kids[from - 1] as INode).len) from--
  // A difference inside an element's start tag: the element changed, went, or others came
  // before it (keyed siblings tell which). When reading it as changed finds more new
  // children than one, reading it as insertion is tried too: the smaller wins.
  const touched = kids[to - 1]
  const inTag = to - from === 1 && touched !== undefined && touched.kind === ELEMENT && touched.open > touched.name.length + 2 &&
    pa <= cs + (rel[to - 1] as number) + touched.open
  for (;;) {
    const r = tryRegion(a, b, path, at, starts, level, from, to, regions, EXTEND, WINDOW)
    if (inTag && level === path.length - 1 && (r === undefined || r.added.filter((n) => n.kind === ELEMENT).length > 1)) {
      const inserted = tryRegion(a, b, path, at, starts, level, to - 1, to - 1, regions, 0, INSERT_WINDOW)
      if (inserted !== undefined && (r === undefined || size(inserted) <= size(r))) return inserted
    }
    if (r !== undefined) return r
    if (level === 0) return undefined
    // Widen: the element becomes the changed child of its parent.
    from = at[level - 1] as number
    to = from + 1
    level--
  }
}

const size = (r: Region): number => r.aEnd - r.aStart + r.bEnd - r.bStart
const EXTEND = 8

/**
 * Children [from, to) of `path[level]` as a region, if the new render's text for them can be
 * found and read: it ends where the next old child's start tag (or the element's end tag)
 * shows again. When that tag changed too, the region takes in up to `extend` more children.
 */
function tryRegion (a: string, b: string, path: INode[], at: number[], starts: number[], level: number, from: number, to: number, regions: Region[], extend: number, window: number): Region | undefined {
  const node = path[level] as INode
  const kids = node.kids ?? []
  const rel = relOf(node)
  const cs = starts[level] as number
  const contentEnd = cs + node.len - node.open - node.close
  const aStart = from < kids.length ? cs + (rel[from] as number) : contentEnd
  const bStart = aStart + deltaAt(regions, aStart)
  let stack: Frame[] | undefined
  for (let e = 0; e <= extend; e++) {
    if (to < kids.length && to > from && (kids[to] as INode).kind === TEXT) to++
    const aEnd = to < kids.length ? cs + (rel[to] as number) : contentEnd
    // The start of the next child, or the element's end tag (the root has none: the end).
    // (Up to ANCHOR characters of the child: more than its start tag, which siblings often share.)
    const anchor = to < kids.length ? a.substring(aEnd, aEnd + Math.min(ANCHOR, (kids[to] as INode).len)) : a.substring(contentEnd, contentEnd + node.close)
    const limit = Math.min(b.length, bStart + window + 4 * (aEnd - aStart))
    let search = bStart
    for (let k = 0; k < TRIES; k++) {
      // Searched within the window only: a miss must not cost the rest of the page.
      const found = anchor.length === 0 ? 0 : b.substring(search, limit + anchor.length).indexOf(anchor)
      if (found === -1) break
      const bEnd = anchor.length === 0 ? b.length : search + found
      if (!(aEnd === aStart && bEnd === bStart)) {
        // Text in place of text (a count, a message): one text node, nothing to scan.
        if (textOnly(b, bStart, bEnd, kids, from, to, node.name)) {
          const added: INode[] = bEnd === bStart ? [] : [{ kind: TEXT, name: '', ns: 0, ignored: false, len: bEnd - bStart, open: 0, close: 0, kids: undefined, rel: undefined }]
          return { path: path.slice(0, level + 1), at: at.slice(0, level), from, to, aStart, aEnd, bStart, bEnd, added, ignorable: false }
        }
        const ignorable = b.substring(bStart, bEnd).includes('lv-update')
        const builder = new TreeBuilder()
        stack ??= framesOf(path, level)
        const frames = stack.map((f) => ({ ...f }))
        const scanner = new Scanner(b, { index: builder, ignorable, fragment: { stack: frames, start: bStart, end: bEnd } })
        if (scanner.run() === 'done' && edgesOk(kids, from, to, builder.roots)) {
          return { path: path.slice(0, level + 1), at: at.slice(0, level), from, to, aStart, aEnd, bStart, bEnd, added: builder.roots, ignorable }
        }
      }
      if (anchor.length === 0) break
      search = bEnd + 1
    }
    if (to >= kids.length || to === from) return undefined
    to++
  }
  return undefined
}

function framesOf (path: INode[], level: number): Frame[] {
  const stack = [frameOf('', 0, false)]
  for (let d = 1; d <= level; d++) stack.push(frameOf((path[d] as INode).name, (path[d] as INode).ns, (path[d] as INode).ignored))
  return stack
}

// Where the parser moves text elsewhere (foster parenting) or drops it.
const NO_TEXT = new Set(['table', 'thead', 'tbody', 'tfoot', 'tr', 'colgroup', 'select', 'optgroup'])

/** True when old text (or nothing) becomes plain text (or nothing) the parser keeps as it is. */
function textOnly (b: string, bStart: number, bEnd: number, kids: INode[], from: number, to: number, name: string): boolean {
  for (let k = from; k < to; k++) if ((kids[k] as INode).kind !== TEXT) return false
  if (NO_TEXT.has(name)) return false
  const text = b.substring(bStart, bEnd)
  return !text.includes('<') && !text.includes('\0')
}

/** New text at a region's edge must not run into old text next to it (the browser would join them). */
function edgesOk (kids: INode[], from: number, to: number, added: INode[]): boolean {
  const before = from > 0 && (kids[from - 1] as INode).kind === TEXT
  const after = to < kids.length && (kids[to] as INode).kind === TEXT
  if (added.length === 0) return !(before && after)
  if ((added[0] as INode).kind === TEXT && before) return false
  if ((added[added.length - 1] as INode).kind === TEXT && after) return false
  return true
}

/**
 * Regions of one element where a child left one place and the same child (equal text)
 * arrived at another: a move. They become one region, so the move is a relocation of the
 * node (which keeps its identity and state) and not a removal and an addition.
 */
function joinMoves (a: string, b: string, regions: Region[]): Region[] | undefined {
  for (let i = 0; i < regions.length; i++) {
    const ri = regions[i] as Region
    const node = ri.path[ri.path.length - 1] as INode
    for (let j = regions.length - 1; j > i; j--) {
      const rj = regions[j] as Region
      if (rj.path[rj.path.length - 1] !== node || !(moved(a, b, ri, rj) || moved(a, b, rj, ri))) continue
      if (j === i + 1 && pureMove(a, b, ri, rj) !== undefined) break
      const frames = framesOf(ri.path, ri.path.length - 1)
      const ignorable = b.substring(ri.bStart, rj.bEnd).includes('lv-update')
      const builder = new TreeBuilder()
      if (new Scanner(b, { index: builder, ignorable, fragment: { stack: frames, start: ri.bStart, end: rj.bEnd } }).run() !== 'done') return undefined
      const joined: Region = { ...ri, to: rj.to, aEnd: rj.aEnd, bEnd: rj.bEnd, added: builder.roots, ignorable }
      regions.splice(i, j - i + 1, joined)
      break
    }
  }
  return regions
}

/** True when an element `from` removes has the text of one `to` adds. */
function moved (a: string, b: string, from: Region, to: Region): boolean {
  const kids = (from.path[from.path.length - 1] as INode).kids ?? []
  // Lengths first: texts are compared only where they could be equal.
  const lengths = new Map<number, number[]>()
  let at = to.bStart
  for (const n of to.added) {
    if (n.kind === ELEMENT) lengths.set(n.len, [...(lengths.get(n.len) ?? []), at])
    at += n.len
  }
  if (lengths.size === 0) return false
  at = from.aStart
  for (let k = from.from; k < from.to; k++) {
    const n = kids[k] as INode
    const starts = n.kind === ELEMENT ? lengths.get(n.len) : undefined
    if (starts !== undefined && starts.some((s) => a.substring(at, at + n.len) === b.substring(s, s + n.len))) return true
    at += n.len
  }
  return false
}

/**
 * One relocation when two neighbouring regions of one element are a pure move: the first
 * only removes children and the second only adds the same ones (by text, in order), or the
 * other way round; nothing else changed between them.
 */
export function pureMove (a: string, b: string, ri: Region, rj: Region): PatchAction | undefined {
  const node = ri.path[ri.path.length - 1] as INode
  if (rj.path[rj.path.length - 1] !== node) return undefined
  const forward = ri.added.length === 0 && rj.from === rj.to
  const backward = ri.from === ri.to && rj.added.length === 0
  if (!forward && !backward) return undefined
  const gone = forward ? ri : rj
  const come = forward ? rj : ri
  const count = gone.to - gone.from
  if (count === 0 || come.added.length !== count || gone.aEnd - gone.aStart !== come.bEnd - come.bStart) return undefined
  if (a.substring(gone.aStart, gone.aEnd) !== b.substring(come.bStart, come.bEnd)) return undefined
  if (come.added.some((n, k) => n.len !== ((node.kids as INode[])[gone.from + k] as INode).len)) return undefined
  const to = forward ? rj.from - count : ri.from
  return { [K.action]: A.relocateGroup, [K.route]: ri.at, [K.from]: gone.from, [K.to]: to, [K.groupLength]: count }
}

import { DiffDOM } from 'diff-dom'
import type { Patch, PatchAction } from './protocol.js'
import { A, K, finish } from './patch-finish.js'
import { parseChildren, type VNode } from './html-tree.js'
import { DomIndex, TEXT } from './dom-index.js'
import { Rendered } from './rendered.js'

export { Rendered }
import { Scanner, frameOf, type Frame } from './scan.js'

// Compressed keys (numbers) keep patches small on the wire; the client maps them back.
const differ = new DiffDOM({ compress: true, valueDiffing: true })

/** How many diffs took each path, for tests and the benchmark. */
export const diffPaths = { scan: 0, whole: 0 }

/** Returned by `diffRendered` when only full HTML can update the page (see there). */
export const FULL_HTML = Symbol('full-html')

/**
 * The diff-dom patch that turns `prev` into `next`, routes relative to the live root:
 * undefined when nothing changed, FULL_HTML when a patch must not be used (it would
 * replace an `lv-update="ignore"` region the client owns).
 *
 * The cost follows the change, not the page: the two renders' common start and end tell
 * where they differ; a scan locates that span's element and children, and only those are
 * parsed (in their element's context, as the browser parsed them) and diffed. Markup the
 * scan does not understand falls back to parsing and diffing the whole trees.
 */
export function diffRendered (prev: Rendered, next: Rendered): Patch | undefined | typeof FULL_HTML {
  const a = prev.html
  const b = next.html
  if (a === b) {
    const index = prev.takeIndex()
    if (index !== undefined) next.giveIndex(index)
    return undefined
  }
  const [head, tail] = commonEnds(a, b)
  const index = prev.takeIndex()
  if (index !== undefined) {
    // Without lv-update in the old render nor around the change, the new one has none either.
    if (!prev.ignorable && !b.slice(Math.max(0, head - 9), b.length - tail + 9).includes('lv-update')) next.ignorable = false
    const shift = b.length - a.length
    // The innermost element holding the change in the old render; when the new text does not
    // fit in it (the common ends can cut across elements), the element around it, and so on.
    for (let site = index.site(head, a.length - tail); ; site = index.siteAt(index.parent[site.node] as number, head, a.length - tail)) {
      const node = site.node
      // The changed children of the new render, read in the context of the elements around them.
      const stack = [frameOf('', 0, false), ...index.path(node).map((n) => frameOf(index.names[n] as string, index.ns[n] as number, index.ignored[n] === 1))]
      const holder = stack[stack.length - 1] as Frame
      holder.children = site.before
      const part = new DomIndex()
      const scanner = new Scanner(b, { index: part, ignorable: next.ignorable, fragment: { stack, start: site.start, end: site.end + shift } })
      if (scanner.run() === 'done') {
        const name = node === 0 ? 'div' : index.names[node] as string
        const ns = index.ns[node] as number
        const route = index.route(node)
        const ignored = index.ignoredAt(node)
        // One text node became another: the common case (a counter, a cell) needs no parser.
        const textOnly = site.count === 1 && index.kind[site.from] === TEXT && part.count === 1 && part.kind[0] === TEXT
        index.splice(site, part, shift, holder.children - site.before)
        next.giveIndex(index)
        if (ignored) return []
        if (textOnly) {
          const text = b.slice(site.start, site.end + shift)
          if (!text.includes('&') && !text.includes('\r') && !text.includes('\0')) {
            diffPaths.scan++
            return [{ [K.action]: A.modifyTextElement, [K.route]: [...route, site.before], [K.newValue]: text }]
          }
        }
        const before = parseChildren(a.slice(site.start, site.end), name, ns)
        const after = parseChildren(b.slice(site.start, site.end + shift), name, ns)
        if (before.some(ignores) || after.some(ignores)) return FULL_HTML
        diffPaths.scan++
        return finish(keyedMoves(before, after) ?? diffChildren(before, after), route, site.before, before, after)
      }
      if (node === 0) break
    }
  }
  diffPaths.whole++
  const before = prev.tree.childNodes ?? []
  const after = next.tree.childNodes ?? []
  // A whole-tree patch may reach into a region the client owns: full HTML, which the client
  // morphs in around it, is safe.
  if ((prev.ignorable && before.some(ignores)) || (next.ignorable && after.some(ignores))) return FULL_HTML
  return finish(diffChildren(before, after), [], 0, before, after)
}

/** Lengths of the common start and the common end of two strings (not overlapping). */
export function commonEnds (a: string, b: string): [number, number] {
  const max = Math.min(a.length, b.length)
  const head = gallop(max, (at, n) => a.substring(at, at + n) === b.substring(at, at + n))
  const tail = gallop(max - head, (at, n) => a.substring(a.length - at - n, a.length - at) === b.substring(b.length - at - n, b.length - at))
  return [head, tail]
}

/**
 * How far two strings agree, up to `limit`, where `same(at, n)` compares the `n` characters
 * `at` from the start (or the end): native substring comparison in doubling, then halving steps.
 */
function gallop (limit: number, same: (at: number, n: number) => boolean): number {
  let at = 0
  let step = 64
  while (at < limit) {
    const n = Math.min(step, limit - at)
    if (same(at, n)) {
      at += n
      step *= 2
    } else if (n > 1) {
      step = Math.max(1, n >> 1)
    } else {
      break
    }
  }
  return at
}

/**
 * Children that only changed order, keyed elements (`id` or `data-key`) moved around
 * unchanged: one `relocateGroup` per node out of place, computed from a longest increasing
 * run, instead of diff-dom's child-by-child replacements (two rows swapped in a long table
 * cost two actions, not the rows between). Undefined when the change is anything else.
 */
function keyedMoves (before: VNode[], after: VNode[]): PatchAction[] | undefined {
  if (before.length !== after.length || before.length < 2) return undefined
  // Text and comments by their data; elements by key and whole content (moved unchanged).
  const sign = (n: VNode): string | undefined => {
    if (n.nodeName === '#text' || n.nodeName === '#comment') return `${n.nodeName}:${n.data ?? ''}`
    const key = n.attributes?.id ?? n.attributes?.['data-key']
    return key === undefined ? undefined : `k:${JSON.stringify(n)}`
  }
  // Where each node of the new order was in the old one (equal nodes matched in order).
  const queues = new Map<string, number[]>()
  let keyed = 0
  for (let i = 0; i < before.length; i++) {
    const sig = sign(before[i] as VNode)
    if (sig === undefined) return undefined
    if (sig.startsWith('k:')) keyed++
    const queue = queues.get(sig)
    if (queue === undefined) queues.set(sig, [i])
    else queue.push(i)
  }
  if (keyed === 0) return undefined
  const from: number[] = []
  for (const node of after) {
    const sig = sign(node)
    const i = sig === undefined ? undefined : queues.get(sig)?.shift()
    if (i === undefined) return undefined
    from.push(i)
  }
  // Nodes on a longest increasing run stay; each other one moves right after its new predecessor.
  const stays = longestIncreasing(from)
  const cur = before.map((_, i) => i)
  const moves: PatchAction[] = []
  for (let p = 0; p < from.length; p++) {
    const x = from[p] as number
    if (stays.has(x)) continue
    const q = cur.indexOf(x)
    cur.splice(q, 1)
    const r = p === 0 ? 0 : cur.indexOf(from[p - 1] as number) + 1
    cur.splice(r, 0, x)
    moves.push({ [K.action]: A.relocateGroup, [K.route]: [], [K.from]: q, [K.to]: r, [K.groupLength]: 1 })
  }
  for (let p = 0; p < from.length; p++) if (cur[p] !== from[p]) return undefined
  return moves.length > 0 ? moves : undefined
}

/** The values of a longest strictly increasing subsequence of `xs` (patience sorting). */
function longestIncreasing (xs: number[]): Set<number> {
  const tails: number[] = []
  const prev: number[] = new Array<number>(xs.length)
  for (let i = 0; i < xs.length; i++) {
    const x = xs[i] as number
    let lo = 0
    let hi = tails.length
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if ((xs[tails[mid] as number] as number) < x) lo = mid + 1
      else hi = mid
    }
    prev[i] = lo > 0 ? tails[lo - 1] as number : -1
    tails[lo] = i
  }
  const out = new Set<number>()
  for (let i = tails.length > 0 ? tails[tails.length - 1] as number : -1; i !== -1; i = prev[i] as number) out.add(xs[i] as number)
  return out
}

function diffChildren (before: VNode[], after: VNode[]): PatchAction[] {
  return differ.diff({ nodeName: 'DIV', childNodes: before } as never, { nodeName: 'DIV', childNodes: after } as never) as unknown as PatchAction[]
}

function ignores (node: VNode): boolean {
  if (node.attributes?.['lv-update'] === 'ignore') return true
  return node.childNodes?.some(ignores) ?? false
}

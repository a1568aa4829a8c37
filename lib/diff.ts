import type { Patch, PatchAction } from './protocol.js'
import { finish } from './patch-finish.js'
import { Rendered } from './rendered.js'
import { findRegions, pureMove, type Region } from './regions.js'
import { NeedsFullHtml, diffKids, ignores, type Texts } from './kids-diff.js'
import { diffChildren } from './keyed.js'
import { splice } from './tree-index.js'
import { browserDisagrees } from './html-tree.js'

export { Rendered }

/** How many diffs took each path, for tests and the benchmark. */
export const diffPaths = { scan: 0, whole: 0 }

/** Returned by `diffRendered` when only full HTML can update the page (see there). */
export const FULL_HTML = Symbol('full-html')

/**
 * The diff-dom patch that turns `prev` into `next`, routes relative to the live root:
 * undefined when nothing changed, FULL_HTML when a patch must not be used (it would
 * replace an `lv-update="ignore"` region the client owns).
 *
 * The cost follows the change, not the page: the old render's index (tree-index.ts) and
 * native comparisons of the two texts find every changed place (regions.ts), each narrowed
 * to its own innermost element; only the new text of those places is read, and like
 * children are diffed in place (kids-diff.ts). The index is then updated by splicing the
 * new children in. Markup the scan does not understand falls back to parsing and diffing
 * the whole trees.
 */
export function diffRendered (prev: Rendered, next: Rendered): Patch | undefined | typeof FULL_HTML {
  const a = prev.html
  const b = next.html
  const root = prev.takeIndex()
  const regions = root === undefined ? undefined : findRegions(a, b, root)
  if (regions !== undefined && root !== undefined) {
    if (regions.length === 0) {
      next.giveIndex(root)
      return undefined
    }
    next.ignorable = prev.ignorable || regions.some((r) => r.ignorable)
    const t: Texts = { a, b, out: [] }
    let full = false
    // Last first: the routes of earlier places stay valid while later ones change.
    for (let k = regions.length - 1; k >= 0 && !full; k--) {
      // A child moved (removed here, the same text added there): one relocation keeps the node.
      const move = k > 0 ? pureMove(a, b, regions[k - 1] as Region, regions[k] as Region) : undefined
      if (move !== undefined && !(regions[k] as Region).path.some((n) => n.ignored)) {
        t.out.push(move)
        k--
        continue
      }
      full = !regionPatch(t, regions[k] as Region)
    }
    // The index follows the new render (last first too: an earlier splice would move later offsets).
    for (let k = regions.length - 1; k >= 0; k--) {
      const r = regions[k] as Region
      splice(r.path, r.at, r.from, r.to, r.added, (r.bEnd - r.bStart) - (r.aEnd - r.aStart))
    }
    next.giveIndex(root)
    diffPaths.scan++
    return full ? FULL_HTML : t.out
  }
  if (a === b) return undefined
  diffPaths.whole++
  const before = prev.tree.childNodes ?? []
  const after = next.tree.childNodes ?? []
  // A whole-tree patch may reach into a region the client owns: full HTML, which the client
  // morphs in around it, is safe.
  if ((prev.ignorable && before.some(ignores)) || (next.ignorable && after.some(ignores))) return FULL_HTML
  // Markup Chromium parses otherwise than parse5 (the scan refuses it): only full HTML fits.
  if (browserDisagrees(a, prev.tree) || browserDisagrees(b, next.tree)) return FULL_HTML
  return finish(diffChildren(before, after), [], 0, before, after)
}

/** Adds the actions of one region; false when only full HTML may carry it. */
function regionPatch (t: Texts, r: Region): boolean {
  // Inside a region the client owns, nothing is sent.
  if (r.path.some((n) => n.ignored)) return true
  const node = r.path[r.path.length - 1]!
  const out: PatchAction[] = []
  try {
    diffKids({ a: t.a, b: t.b, out }, r.at, node.name, node.ns, (node.kids ?? []).slice(r.from, r.to), r.aStart, r.added, r.bStart, r.from)
  } catch (err) {
    if (err instanceof NeedsFullHtml) return false
    throw err
  }
  t.out.push(...out)
  return true
}


import { scan } from './scan.js'
import { ELEMENT, TEXT, TreeBuilder } from './tree-index.js'

/**
 * Why `html` (trimmed) is not exactly one element, or undefined when it is (or when the scan
 * does not read it: a `<tr>` alone, say, is taken as it is). Components and stream items
 * must render one root element: the server puts its id on it, the client finds it by it.
 */
export function notOneRoot (html: string): string | undefined {
  const builder = new TreeBuilder()
  if (!scan(html, builder)) return undefined
  const top = builder.roots[0]?.kids ?? []
  const elements = top.filter((n) => n.kind === ELEMENT).length
  if (elements !== 1 || top.some((n) => n.kind !== ELEMENT && n.kind !== TEXT)) return `it renders ${top.length} nodes at its top level`
  if (top.length !== 1) return 'it renders text beside its root element'
  return undefined
}

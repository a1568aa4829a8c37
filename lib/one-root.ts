import { escapeAttr } from './render.js'
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

/** An element's start tag up to its name. */
const START_TAG = /^<[A-Za-z][^\s/>]*/

/** `html` with `name="value"` first on its root element; undefined when it does not start with an element. */
export function withRootAttr (html: string, name: string, value: string): string | undefined {
  const tag = START_TAG.exec(html)
  if (tag === null) return undefined
  const at = tag[0].length
  return `${html.slice(0, at)} ${name}="${escapeAttr(value)}"${html.slice(at)}`
}

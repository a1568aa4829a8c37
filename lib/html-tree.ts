import { defaultTreeAdapter, html as parse5Html, parseFragment, type DefaultTreeAdapterMap } from 'parse5'

type P5Node = DefaultTreeAdapterMap['childNode']
type P5Element = DefaultTreeAdapterMap['element']

/**
 * A node in diff-dom's virtual format. Built from a spec-compliant parse (parse5, in
 * the context of a `<div>` in `<body>`, as the browser parses the root's HTML), so routes
 * point where the browser's DOM has its nodes. Entities are decoded in text and in
 * attributes, and form state (`value`, `checked`, `selected`) is set from the
 * attributes, as diff-dom compares those fields.
 */
export interface VNode {
  nodeName: string
  attributes?: Record<string, string>
  childNodes?: VNode[]
  data?: string
  value?: string
  checked?: boolean
  selected?: boolean
}

const NAMESPACES = [parse5Html.NS.HTML, parse5Html.NS.SVG, parse5Html.NS.MATHML] as const
const contexts = new Map<string, P5Element>()

/** Parses the inner HTML of the live root into a virtual `DIV` holding its children. */
export function parseTree (html: string): VNode {
  return { nodeName: 'DIV', childNodes: parseChildren(html, 'div', 0) }
}

/**
 * Parses HTML as the content of an element named `name` (namespace 0 HTML, 1 SVG, 2 MathML),
 * as the browser parses what sits inside that element.
 */
export function parseChildren (html: string, name: string, ns: number): VNode[] {
  const key = `${ns}:${name}`
  let context = contexts.get(key)
  if (context === undefined) {
    context = defaultTreeAdapter.createElement(name, NAMESPACES[ns] ?? parse5Html.NS.HTML, [])
    contexts.set(key, context)
  }
  return parseFragment(context, html, {}).childNodes.map(convert)
}

function convert (node: P5Node): VNode {
  if (node.nodeName === '#text') return { nodeName: '#text', data: (node as DefaultTreeAdapterMap['textNode']).value }
  if (node.nodeName === '#comment') return { nodeName: '#comment', data: (node as DefaultTreeAdapterMap['commentNode']).data }
  if (node.nodeName === '#documentType') return { nodeName: '#comment', data: '' }
  const el = node as P5Element
  const isHtml = el.namespaceURI === parse5Html.NS.HTML
  // Upper case as diff-dom has HTML names, ASCII only as the parser lowercases ('ß' stays).
  const out: VNode = { nodeName: isHtml ? el.tagName.replace(/[a-z]+/g, (s) => s.toUpperCase()) : el.tagName }
  if (el.attrs.length > 0) {
    const attributes: Record<string, string> = {}
    for (const a of el.attrs) attributes[a.prefix ? `${a.prefix}:${a.name}` : a.name] = a.value
    out.attributes = attributes
  }
  const children = el.tagName === 'template' && isHtml
    ? (el as DefaultTreeAdapterMap['template']).content.childNodes
    : el.childNodes
  // Always a list, empty too: diff-dom's group relocation reads it unguarded (and throws).
  out.childNodes = children.map(convert)
  if (isHtml) formState(el.tagName, out)
  return out
}

function formState (tag: string, node: VNode): void {
  const attrs = node.attributes
  if (tag === 'input') {
    const type = (attrs?.type ?? '').toLowerCase()
    if (type === 'checkbox' || type === 'radio') node.checked = attrs !== undefined && 'checked' in attrs
    else node.value = attrs?.value ?? ''
  } else if (tag === 'textarea') {
    node.value = node.childNodes?.map((c) => c.data ?? '').join('') ?? ''
  } else if (tag === 'option' && attrs !== undefined && 'selected' in attrs) {
    // Only when present: diff-dom's own bookkeeping deletes the field when the attribute goes.
    node.selected = true
  }
}

// Chromium's parser nests elements at most 512 deep and adds deeper ones as siblings; the
// page's own elements above the live root count too, so a margin.
export const MAX_DEPTH = 480
// What a <select> holds that Chromium keeps (its customizable select) and parse5 drops.
const SELECT_START = /<select[\s/>]/gi
const SELECT_END = /<\/select[\s/>]/gi
const SELECT_TAG = /<\/?([a-zA-Z][^\s/>]*)/g
const BUTTON = /<(\/?)button[\s/>]/gi

/**
 * True when Chromium (156) parses `html` (whose tree, as parse5 reads it, is `tree`) into
 * another tree than parse5 does, so that a patch computed from parse5's trees would not
 * fit: elements other than option, optgroup and hr inside a select, a processing
 * instruction (`<?…>`, a comment to parse5), nesting deeper than Chromium allows, NULs in
 * a row in SVG or MathML text (one U+FFFD each to Chromium, one for all to parse5), a
 * button in a button (Chromium nests it where parse5 closes the first). Only
 * full HTML, parsed by the browser itself, updates such a page exactly. It may say true
 * for markup that only looks so (`<?` in an attribute): full HTML is always right.
 */
export function browserDisagrees (html: string, tree: VNode): boolean {
  if (html.includes('<?') || (html.includes('\0\0') && /<(svg|math)[\s/>]/i.test(html))) return true
  SELECT_START.lastIndex = 0
  for (let m = SELECT_START.exec(html); m !== null; m = SELECT_START.exec(html)) {
    SELECT_END.lastIndex = m.index + 7
    const end = SELECT_END.exec(html)?.index ?? html.length
    SELECT_TAG.lastIndex = m.index + 7
    for (let t = SELECT_TAG.exec(html); t !== null && t.index < end; t = SELECT_TAG.exec(html)) {
      if (!/^(option|optgroup|hr)$/i.test(t[1] as string)) return true
    }
  }
  BUTTON.lastIndex = 0
  let open = 0
  for (let m = BUTTON.exec(html); m !== null; m = BUTTON.exec(html)) {
    if (m[1] === '/') open = Math.max(0, open - 1)
    else if (open++ > 0) return true
  }
  return depth(tree) > MAX_DEPTH
}

function depth (node: VNode): number {
  let most = 0
  for (const c of node.childNodes ?? []) most = Math.max(most, depth(c))
  return most + 1
}

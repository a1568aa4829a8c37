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
  const out: VNode = { nodeName: isHtml ? el.tagName.toUpperCase() : el.tagName }
  if (el.attrs.length > 0) {
    const attributes: Record<string, string> = {}
    for (const a of el.attrs) attributes[a.prefix ? `${a.prefix}:${a.name}` : a.name] = a.value
    out.attributes = attributes
  }
  const children = el.tagName === 'template' && isHtml
    ? (el as DefaultTreeAdapterMap['template']).content.childNodes
    : el.childNodes
  if (children.length > 0) out.childNodes = children.map(convert)
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

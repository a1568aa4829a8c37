// Nodes and attributes as the HTML parser would have made them: the namespace an element
// gets from where it stands (SVG, MathML, their HTML integration points), the namespaced
// foreign attributes (`xlink:href`…), and a `<template>`'s children in its content.

/** A node of a patch, in diff-dom's virtual format (as lib/html-tree.ts builds it). */
export interface VNode {
  nodeName: string
  attributes?: Record<string, string>
  childNodes?: VNode[]
  data?: string
}

const HTML = 'http://www.w3.org/1999/xhtml'
const SVG = 'http://www.w3.org/2000/svg'
const MATH = 'http://www.w3.org/1998/Math/MathML'

/** The nodes `n` holds: a template's are in its content. */
export const box = (n: Node): Node => n.nodeName === 'TEMPLATE' ? (n as HTMLTemplateElement).content : n

// HTML element names arrive upper-cased (ASCII only), as diff-dom has them.
const lower = (s: string): string => s.replace(/[A-Z]/g, c => c.toLowerCase())

/** The namespace the parser gives an element named `name` (as sent) inside `parent`. */
function namespaceIn (parent: Node, name: string): string {
  const p = parent as Element
  const ns = p.namespaceURI
  const local = p.localName
  if (ns === SVG && !/^(foreignObject|desc|title)$/.test(local)) return SVG
  if (ns === MATH) {
    if (local === 'annotation-xml') {
      if (name === 'svg') return SVG
      if (!/^(text\/html|application\/xhtml\+xml)$/i.test(p.getAttribute('encoding') ?? '')) return MATH
    } else if (!/^(mi|mo|mn|ms|mtext)$/.test(local) || /^(mglyph|malignmark)$/.test(name)) {
      return MATH
    }
  }
  return name === 'svg' ? SVG : name === 'math' ? MATH : HTML
}

/** The namespace of a foreign element's attribute, as the parser adjusts it. */
const attrNamespace = (name: string): string | null =>
  /^xlink:(actuate|arcrole|href|role|show|title|type)$/.test(name)
    ? 'http://www.w3.org/1999/xlink'
    : /^xml:(lang|space)$/.test(name) ? 'http://www.w3.org/XML/1998/namespace' : /^xmlns(:xlink)?$/.test(name) ? 'http://www.w3.org/2000/xmlns/' : null

/** Sets an attribute as the parser would (names it accepts that setAttribute may refuse too). */
export function setAttr (el: Element, name: string, value: string): void {
  const ns = el.namespaceURI === HTML ? null : attrNamespace(name)
  try {
    if (ns === null) el.setAttribute(name, value)
    else el.setAttributeNS(ns, name, value)
  } catch {
    const t = el.ownerDocument.createElement('template')
    t.innerHTML = `<b ${name}>`
    const attr = (t.content.firstChild as Element).attributes[0]!.cloneNode() as Attr
    attr.value = value
    el.setAttributeNode(attr)
  }
}

/**
 * An element as the parser names it: createElementNS would read `my:el` as a prefix and a
 * local name, and createElement may refuse names the parser accepts (`a"b`). Such names are
 * parsed, in their namespace.
 */
function create (doc: Document, ns: string, name: string): Element {
  try {
    if (ns === HTML) return doc.createElement(name)
    if (!name.includes(':')) return doc.createElementNS(ns, name)
  } catch {}
  const t = doc.createElement('template')
  t.innerHTML = ns === HTML ? `<${name}>` : `<${ns === SVG ? 'svg' : 'math'}><${name}>`
  const el = t.content.firstChild as Element
  return ns === HTML ? el : el.firstChild as Element
}

/** Builds `v` to be inserted into `parent` (an element, or a template's content). */
export function build (v: VNode, parent: Node): Node {
  const doc = parent.ownerDocument as Document
  if (v.nodeName === '#text') return doc.createTextNode(v.data ?? '')
  if (v.nodeName === '#comment') return doc.createComment(v.data ?? '')
  const ns = namespaceIn(parent, v.nodeName)
  const el = create(doc, ns, ns === HTML ? lower(v.nodeName) : v.nodeName)
  for (const [name, value] of Object.entries(v.attributes ?? {})) setAttr(el, name, value)
  // An input sanitises its value as its attributes come (a range's with the min and max it
  // has so far); the parser sets them all at once. Its value attribute once more, now.
  if (ns === HTML && v.nodeName === 'INPUT') {
    const value = el.getAttribute('value')
    el.setAttribute('value', value ?? '')
    if (value === null) el.removeAttribute('value')
  }
  const kids = box(el)
  for (const c of v.childNodes ?? []) kids.appendChild(build(c, el))
  return el
}

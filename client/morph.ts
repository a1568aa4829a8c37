import { ATTR_IGNORE_ATTRS, ATTR_STREAM, ATTR_UPDATE } from '../lib/protocol.js'
import { Fields } from './fields.js'
import { js } from './lazy.js'
import { box } from './nodes.js'

// Morphs the live DOM to new server HTML, keeping element identity (and so focus,
// selection, scroll, listeners) wherever the new HTML has the same element.

/** True for an element marked `lv-update="ignore"`: the client never patches it. */
export const ignored = (n: Node | undefined): boolean =>
  (n as Element | undefined)?.getAttribute?.(ATTR_UPDATE) === 'ignore'

/** True for an attribute `el` lists in `lv-ignore-attributes` (a name, or a prefix ending in `*`): the client's. */
export const owned = (el: Element, name: string): boolean | undefined =>
  el.getAttribute(ATTR_IGNORE_ATTRS)?.split(/[\s,]+/).some(p => p === name || (p.endsWith('*') && name.startsWith(p.slice(0, -1))))

const key = (n: Node): string | null =>
  n.nodeType === 1 ? (n as Element).getAttribute('id') ?? (n as Element).getAttribute('data-key') : null

let inert: Document | undefined

/** Replaces the children of `root` with `html`, reusing the nodes that match. */
export function morph (root: Element, html: string): void {
  // Parsed as the content of a div, as the page was (a <template> would keep table parts
  // found at the top level). In a document without scripting (no image loads, no handlers
  // run), unless there is a <noscript>: with scripting on, as in the page, its content is text.
  // A comment first: Chromium's innerHTML fast path, which decodes `&not` + a letter in an
  // attribute value as the HTML standard says not to, leaves it to its full parser.
  const doc = root.ownerDocument
  const div = (/<noscript/i.test(html) ? doc : (inert ??= doc.implementation.createHTMLDocument(''))).createElement('div')
  div.innerHTML = '<!---->' + html
  div.removeChild(div.firstChild as Node)
  const fields = new Fields(root, true)
  children(root, div, fields)
  fields.settle()
}

// Unkeyed nodes match in order, by node name.
const same = (a: Node | null, b: Node | null): boolean => !!a && !!b && !key(a) && a.nodeName === b.nodeName

function children (live: Node, next: Node, fields: Fields): void {
  const keyed = new Map<string, Node>()
  for (let n = live.firstChild; n; n = n.nextSibling) {
    const k = key(n)
    if (k) keyed.set(k, n)
  }
  let cur = live.firstChild
  const drop = (until: Node | null): void => {
    while (cur && cur !== until) {
      const gone: Node = cur
      cur = cur.nextSibling
      fields.radios(gone)
      live.removeChild(gone)
    }
  }
  for (let n = next.firstChild, after; n; n = after) {
    after = n.nextSibling
    const k = key(n)
    let match = k ? keyed.get(k) : undefined
    if (k) {
      keyed.delete(k)
      if (match?.nodeName !== n.nodeName) match = undefined
    } else {
      // Look ahead in both lists at once: were live nodes dropped before n (n matches
      // further on in the live list), or was n added (cur matches further on in the new one)?
      let d = cur
      let m: Node | null = n
      while (d && !same(d, n) && !same(cur, m)) {
        d = d.nextSibling
        m = m && m.nextSibling
      }
      if (d && (d === cur || !same(cur, m))) {
        drop(d)
        match = d
      }
    }
    if (match) {
      if (match === cur) {
        cur = cur.nextSibling
      } else {
        // Moved: a checked radio inserted again unchecks the rest of its group.
        fields.radios(match)
        live.insertBefore(match, cur)
      }
      update(match, n, fields)
    } else {
      live.insertBefore(n, cur)
      fields.radios(n)
    }
  }
  drop(null)
}

function update (live: Node, next: Node, fields: Fields): void {
  if (live.nodeType !== 1) {
    if (live.nodeValue !== next.nodeValue) {
      fields.touch(live.parentNode)
      live.nodeValue = next.nodeValue
    }
    return
  }
  const el = live as Element
  const to = next as Element
  // An element the client owns, unless the server no longer marks it so.
  if (ignored(el) && ignored(to)) return
  // Before anything changes: what a field shows, and what it had rendered.
  fields.touch(el)
  for (const { name } of [...el.attributes]) {
    if (!to.hasAttribute(name) && !owned(el, name)) fields.attr(el, name, () => { el.removeAttribute(name) })
  }
  // A copy of the parsed attribute: setAttribute() rejects names the parser accepts (`@click`).
  for (const a of to.attributes) {
    if (el.getAttribute(a.name) !== a.value && !owned(el, a.name)) fields.attr(el, a.name, () => { el.setAttributeNode(a.cloneNode() as Attr) })
  }
  // What commands did to the element stays, unless this render changed it.
  js.s?.(el)
  // A stream container's children are the client's (the server's render has it empty).
  if (!el.hasAttribute(ATTR_STREAM)) children(box(el), box(to), fields)
}

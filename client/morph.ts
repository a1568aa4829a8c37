import { ATTR_UPDATE } from '../lib/protocol.js'
import { isField, keep, read, write, type FieldState } from './fields.js'

// Morphs the live DOM to new server HTML, keeping element identity (and so focus,
// selection, scroll, listeners) wherever the new HTML has the same element.

/** True for an element marked `lv-update="ignore"`: the client never patches it. */
export const ignored = (n: Node | undefined): boolean =>
  (n as Element | undefined)?.getAttribute?.(ATTR_UPDATE) === 'ignore'

const key = (n: Node): string | null =>
  n.nodeType === 1 ? (n as Element).getAttribute('id') ?? (n as Element).getAttribute('data-key') : null

/** Replaces the children of `root` with `html`, reusing the nodes that match. */
export function morph (root: Element, html: string): void {
  const t = root.ownerDocument.createElement('template')
  t.innerHTML = html
  children(root, t.content)
}

// Unkeyed nodes match in order, by node name.
const same = (a: Node | null, b: Node | null): boolean => !!a && !!b && !key(a) && a.nodeName === b.nodeName

function children (live: Node, next: Node): void {
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
      if (match === cur) cur = cur.nextSibling
      else live.insertBefore(match, cur)
      update(match, n)
    } else {
      live.insertBefore(n, cur)
    }
  }
  drop(null)
}

function update (live: Node, next: Node): void {
  if (live.nodeType !== 1) {
    if (live.nodeValue !== next.nodeValue) live.nodeValue = next.nodeValue
    return
  }
  const el = live as Element
  const to = next as Element
  if (ignored(el)) return
  const field = isField(el) ? el : undefined
  // Before the attributes change: a new `value` attribute moves `defaultValue`.
  const kept = field && keep(field)
  const state = field && read(field)
  for (const { name } of [...el.attributes]) if (!to.hasAttribute(name)) el.removeAttribute(name)
  // A copy of the parsed attribute: setAttribute() rejects names the parser accepts (`@click`).
  for (const a of to.attributes) if (el.getAttribute(a.name) !== a.value) el.setAttributeNode(a.cloneNode() as Attr)
  children(el, to)
  if (field) write(field, kept ? state as FieldState : read(to as typeof field))
}

import { ATTR_STREAM, ATTR_VIEWPORT_BOTTOM, ATTR_VIEWPORT_TOP, KEY_ATTR, type StreamOp } from '../lib/protocol.js'
import type { Push } from './bindings.js'

// Streams: the children of a stream container (`lv-stream="name"`) are the client's. The
// server's render has the container empty and sends its items as key-addressed operations.

const containers = (root: Element): NodeListOf<Element> => root.querySelectorAll(`[${ATTR_STREAM}]`)

/**
 * Runs a DOM update from the server (a patch, a morph) and gives each stream container
 * back the children it had, even if the update emptied or replaced it.
 */
export function keep<T> (root: Element, fn: () => T): T {
  const saved = new Map<string | null, Node[]>()
  for (const c of containers(root)) saved.set(c.getAttribute(ATTR_STREAM), [...c.childNodes])
  if (!saved.size) return fn()
  try {
    return fn()
  } finally {
    for (const c of containers(root)) {
      const kids = saved.get(c.getAttribute(ATTR_STREAM))
      if (kids && (c.childNodes.length !== kids.length || kids.some((k, i) => c.childNodes[i] !== k))) c.replaceChildren(...kids)
    }
  }
}

/** Empties every stream container: a mount (a join, a rejoin, a navigation) streams its items again. */
export const clear = (root: Element): void => { for (const c of containers(root)) c.replaceChildren() }

/** Applies stream operations: insert (or replace, by key) at a place with a limit, delete, reset. */
export function apply (root: Element, ops: StreamOp[]): void {
  for (const [name, op, key, html, at, limit] of ops) {
    const c = root.querySelector(`[${ATTR_STREAM}="${name}"]`)
    if (!c) continue
    if (op === 'r') {
      c.replaceChildren()
      continue
    }
    const old = c.querySelector(`:scope>[${KEY_ATTR}="${CSS.escape(key)}"]`)
    if (op === 'd') {
      old?.remove()
      continue
    }
    const t = c.ownerDocument.createElement('template')
    t.innerHTML = html as string
    const el = t.content.firstElementChild as Element
    const kids = c.children
    if (old) old.replaceWith(el)
    else c.insertBefore(el, (at as number) < 0 ? null : kids[at as number] ?? null)
    while (limit && kids.length > Math.abs(limit)) (limit > 0 ? c.lastElementChild : c.firstElementChild)?.remove()
  }
}

/**
 * `lv-viewport-top` / `lv-viewport-bottom` on a stream container: its event is sent when its
 * first (last) item enters the viewport, once per item (by key) that is first (last) then.
 */
export function viewport (root: Element, push: Push): () => void {
  // Once per item key (an item replaced in place is the same item).
  const sent = new Set<string | null>()
  let io: IntersectionObserver | undefined
  const seen = (entries: IntersectionObserverEntry[]): void => {
    for (const e of entries) {
      const item = e.target
      const c = item.parentElement
      const k = c?.getAttribute(ATTR_STREAM) + ' ' + item.getAttribute(KEY_ATTR)
      if (!e.isIntersecting || !c || sent.has(k)) continue
      for (const [attr, end] of [[ATTR_VIEWPORT_TOP, c.firstElementChild], [ATTR_VIEWPORT_BOTTOM, c.lastElementChild]] as const) {
        const event = c.getAttribute(attr)
        if (event && end === item) {
          sent.add(k)
          push(c, event, {})
        }
      }
    }
  }
  return () => {
    const cs = root.querySelectorAll(`[${ATTR_VIEWPORT_TOP}],[${ATTR_VIEWPORT_BOTTOM}]`)
    if (!cs.length && !io) return
    io?.disconnect()
    io ??= new IntersectionObserver(seen)
    for (const c of cs) for (const end of [c.firstElementChild, c.lastElementChild]) if (end) io.observe(end)
  }
}

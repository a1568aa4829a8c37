import { PREFIX } from '../lib/protocol.js'

// Classes the client adds to elements and takes off again (loading states, a drop zone's
// `lv-drag`): counted, so two causes of one class end with the last, and an element that
// had no class attribute before has none after.

const counts = new Map<Element, Map<string, number>>()
const bare = new WeakSet<Element>()

/** Adds (`on`) or takes off `names` on each of `els`, once per cause. */
export function mark (els: Element[], names: string[], on: boolean): void {
  for (const el of els) {
    let m = counts.get(el)
    if (!m) counts.set(el, m = new Map())
    if (!el.hasAttribute('class')) bare.add(el)
    for (const n of names) {
      const c = (m.get(n) ?? 0) + (on ? 1 : -1)
      if (c > 0) m.set(n, c)
      else m.delete(n)
      el.classList.toggle(n, c > 0)
    }
    if (!m.size) {
      counts.delete(el)
      if (bare.delete(el) && el.getAttribute('class') === '') el.removeAttribute('class')
    }
  }
}

/**
 * Marks what an event of binding `kind` from `el` waits on: `lv-loading` and
 * `lv-<kind>-loading` on `el`, its form, and the elements `lv-loading-target` (of `el` or its
 * form) or a command's `loading` select; after `lv-loading-delay` ms when set. Returns what
 * takes them off.
 */
export function loading (el: Element, kind: string | undefined, also?: string): () => void {
  const form = (el as HTMLInputElement).form
  const attr = (name: string): string | null | undefined => el.getAttribute(PREFIX + name) ?? form?.getAttribute(PREFIX + name)
  const els = [el]
  if (form) els.push(form)
  for (const sel of [attr('loading-target'), also]) {
    try {
      if (sel) els.push(...el.ownerDocument.querySelectorAll(sel))
    } catch {}
  }
  const names = [PREFIX + 'loading']
  if (kind) names.push(`${PREFIX}${kind}-loading`)
  let on = false
  const start = (): void => { on = true; mark(els, names, true) }
  const delay = +(attr('loading-delay') ?? 0)
  const t = delay > 0 ? setTimeout(start, delay) : start()
  return () => {
    clearTimeout(t as ReturnType<typeof setTimeout>)
    if (on) mark(els, names, false)
    on = false
  }
}

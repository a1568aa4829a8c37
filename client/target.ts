import { ATTR_TARGET, CID_ATTR } from '../lib/protocol.js'

/**
 * The component an event goes to, by the `lv-target` of its element (or the element's form):
 * `@myself` the component around it, a number that `lv-cid`, else a CSS selector's first match
 * (or the component around it). 0 when it names none (the server refuses it, coded);
 * undefined without `lv-target` (the view).
 */
export function targetOf (el: Element, to?: string | number): number | undefined {
  const t = to !== undefined ? '' + to : el.getAttribute(ATTR_TARGET) ?? (el as HTMLInputElement).form?.getAttribute(ATTR_TARGET)
  if (t == null) return
  let c: Element | null | undefined
  try {
    c = /^\d+$/.test(t) ? null : (t === '@myself' ? el : el.ownerDocument.querySelector(t))?.closest(`[${CID_ATTR}]`)
  } catch {}
  return c ? +(c.getAttribute(CID_ATTR) as string) : /^\d+$/.test(t) ? +t : 0
}

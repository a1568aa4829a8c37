import { PREFIX } from '../lib/protocol.js'

// What a page does around its URL changes and updates: scroll positions kept per history
// entry, and forms the server asks to submit over HTTP (`lv-trigger-action`).

/**
 * Scroll positions by history entry (each live entry carries an id in `history.state`):
 * `push` adds (or replaces) an entry; `restore`, once a URL change's update is in, scrolls
 * back to where an entry was left (back, forward), to the top or the fragment (a
 * navigation), or leaves it (a patch: the same page, filtered).
 */
export function scrolls (win: Window): { push: (to: string, replace?: boolean) => void, restore: (kind: string) => void } {
  const h = history
  const at = new Map<unknown, [number, number]>()
  let id = Date.now()
  if (h.state?.lv === undefined) h.replaceState({ ...h.state, lv: id }, '')
  /** The entry the page shows: back or forward moves the history first, the page once the view has rendered it. */
  let cur: unknown = h.state.lv
  // Positions are the shown entry's (scroll events come a frame late: one while the history is
  // already elsewhere is not), and it is noted again as the page leaves it.
  const note = (): void => { at.set(cur, [win.scrollX, win.scrollY]) }
  win.addEventListener('scroll', () => { if (h.state?.lv === cur) note() }, { passive: true })
  return {
    push: (to, replace) => {
      note()
      h[replace ? 'replaceState' : 'pushState']({ lv: cur = replace ? cur : ++id }, '', to)
    },
    restore: kind => {
      if (kind === 'history') {
        // An entry the page never noted keeps where the browser put it (its own record).
        const p = at.get(cur = h.state?.lv)
        if (p) win.scrollTo(...p)
      } else if (kind === 'navigate') {
        const el = location.hash && win.document.getElementById(decodeURIComponent(location.hash.slice(1)))
        if (el) el.scrollIntoView()
        else win.scrollTo(0, 0)
      }
    }
  }
}

const fired = new WeakSet<Element>()
const TRIGGER = PREFIX + 'trigger-action'

/**
 * Submits over HTTP (to its `action`, natively) each form an update has given
 * `lv-trigger-action`: once, until an update takes the attribute off again.
 */
export function trigger (root: Element): void {
  for (const f of root.querySelectorAll('form')) {
    if (!f.hasAttribute(TRIGGER)) fired.delete(f)
    else if (!fired.has(f)) {
      fired.add(f)
      HTMLFormElement.prototype.submit.call(f)
    }
  }
}

// The command chunk: runs client-side commands (lib/js.ts builds them), keeps what they did
// across server updates, wraps focus in `lv-focus-wrap` containers, announces to screen
// readers, and runs hooks (client/hooks.ts). Loaded by the main script when a page has a
// command binding, a focus wrap or a hook.
import { JS, type Command, type Transition } from '../lib/js.js'
import { PREFIX } from '../lib/protocol.js'
import { hooks } from './hooks.js'
import { load } from './leave.js'
import type { JsPort } from './lazy.js'

const port = (globalThis as unknown as { __lvJs: JsPort }).__lvJs
const doc = document

// What commands did, by element and facet (`c:name` a class, `a:name` an attribute, `d` the
// display): the server's value when a command first changed it, and the command's. A server
// update that writes the facet's attribute keeps the command's value when the server's is
// the same as before, and drops it (the server's wins) when the server changed it.
type Facets = Map<string, [server: string | null, mine: string | null]>
let facets = new WeakMap<Element, Facets>()

const read = (el: Element, k: string): string | null =>
  k[0] === 'c' ? (el.classList.contains(k.slice(2)) ? '' : null) : k[0] === 'a' ? el.getAttribute(k.slice(2)) : (el as HTMLElement).style.display || null

const write = (el: Element, k: string, v: string | null): void => {
  const name = k.slice(2)
  if (k[0] === 'c') el.classList.toggle(name, v !== null)
  else if (k[0] === 'd') (el as HTMLElement).style.display = v ?? ''
  else if (v === null) el.removeAttribute(name)
  else el.setAttribute(name, v)
}

/** Sets a facet as a command does: remembered, so server updates keep it. */
const set = (el: Element, k: string, v: string | null): void => {
  port.d = true
  let m = facets.get(el)
  if (!m) facets.set(el, m = new Map())
  m.set(k, [m.get(k)?.[0] ?? read(el, k), v])
  write(el, k, v)
}

/** The attribute a facet lives in. */
const attrOf = (k: string): string => k[0] === 'c' ? 'class' : k[0] === 'd' ? 'style' : k.slice(2)

port.s = (el, name) => {
  const m = facets.get(el)
  if (!m) return
  for (const [k, [server, mine]] of m) {
    if (name !== undefined && attrOf(k) !== name) continue
    if (read(el, k) !== server) m.delete(k)
    else write(el, k, mine)
  }
}
port.r = () => {
  facets = new WeakMap()
  for (const [end] of showing.values()) end()
  showing.clear()
}

const targets = (el: Element, to: unknown): Element[] => {
  try {
    return typeof to === 'string' ? [...doc.querySelectorAll(to)] : [el]
  } catch {
    return []
  }
}

/** Runs transition classes on `el` for `time` ms, then `done`; returns what ends it early (without `done`). */
function transition (el: Element, t: Transition | undefined, time: number, done?: () => void): () => void {
  if (!t) {
    done?.()
    return () => {}
  }
  const [during, from, to] = (typeof t === 'string' ? [t, '', ''] : t).map(c => c.split(/\s+/).filter(Boolean)) as [string[], string[], string[]]
  let over = false
  const end = (): void => {
    over = true
    clearTimeout(timer)
    el.classList.remove(...during, ...from, ...to)
  }
  el.classList.add(...during, ...from)
  requestAnimationFrame(() => requestAnimationFrame(() => {
    if (over) return
    el.classList.remove(...from)
    el.classList.add(...to)
  }))
  const timer = setTimeout(() => {
    end()
    done?.()
  }, time)
  return end
}

/**
 * Show and hide transitions under way, by element (what ends one early, and whether it hides):
 * a show, hide or toggle of the element ends the one before, and so does a rejoin.
 */
const showing = new Map<Element, [end: () => void, hide: boolean]>()
/** Attributes that hold a URL, and URLs that run script. */
const URL_ATTR = /^(href|src|action|formaction|xlink:href|poster|data|cite|background|ping|srcset|codebase|manifest|longdesc|usemap)$/i
const SCRIPT_URL = /^(javascript|vbscript|data):/i

/** Hidden, or being hidden (a hide's transition under way counts as hidden). */
const hidden = (el: Element): boolean => showing.get(el)?.[1] === true || getComputedStyle(el).display === 'none'

const FOCUSABLE = 'a[href],area[href],button,input,select,textarea,iframe,summary,[tabindex],[contenteditable=""],[contenteditable="true"]'
/** What Tab reaches inside `box`, in order. */
const focusables = (box: Element): HTMLElement[] =>
  [...box.querySelectorAll<HTMLElement>(FOCUSABLE)].filter(e => e.tabIndex >= 0 && !(e as HTMLInputElement).disabled && e.getClientRects().length > 0)

const focused: Element[] = []

let region: HTMLElement | undefined
/** Says `text` through a visually hidden `aria-live` region (outside the live root). */
function announce (text: string, politeness = 'polite'): void {
  if (!region?.isConnected) {
    region = doc.createElement('div')
    region.id = 'lv-announce'
    region.style.cssText = 'position:absolute;width:1px;height:1px;margin:-1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap'
    doc.body.append(region)
  }
  const r = region
  r.setAttribute('aria-live', politeness)
  // A change of text is what screen readers announce: emptied first, so the same text is said again.
  r.textContent = ''
  setTimeout(() => { r.textContent = text }, 50)
}

function run (el: Element, [name, a]: Command, go: Parameters<NonNullable<JsPort['x']>>[2]): void {
  const time = typeof a.time === 'number' ? a.time : 200
  const els = targets(el, a.to)
  const names = typeof a.names === 'string' ? a.names.split(/\s+/).filter(Boolean) : []
  switch (name) {
    case 'show':
    case 'hide':
    case 'toggle':
      for (const t of els) {
        const show = name === 'toggle' ? hidden(t) : name === 'show'
        const tr = (a.transition ?? (show ? a.in : a.out)) as Transition | undefined
        // Another show or hide of the element ends the one under way (its display is not set later).
        showing.get(t)?.[0]()
        showing.delete(t)
        if (show) set(t, 'd', (a.display as string | undefined) ?? 'block')
        const end = transition(t, tr, time, () => {
          showing.delete(t)
          if (!show) set(t, 'd', 'none')
        })
        if (tr) showing.set(t, [end, !show])
      }
      return
    case 'addClass':
    case 'removeClass':
    case 'toggleClass':
      for (const t of els) {
        for (const n of names) set(t, 'c:' + n, (name === 'toggleClass' ? !t.classList.contains(n) : name === 'addClass') ? '' : null)
        transition(t, a.transition as Transition | undefined, time)
      }
      return
    case 'setAttribute':
    case 'removeAttribute':
    case 'toggleAttribute': {
      const attr = String(a.name)
      const value = name === 'setAttribute' ? String(a.value) : null
      const [on, off] = Array.isArray(a.values) ? a.values.map(String) : []
      // No script through an attribute (a binding's value may hold data): no event handler or
      // srcdoc set, no script URL in an attribute that holds a URL (read as the browser reads it).
      const values = name === 'removeAttribute' ? [] : Array.isArray(a.values) ? a.values : [value ?? '']
      if (values.length > 0 && (/^on|^srcdoc$/i.test(attr) || (URL_ATTR.test(attr) && values.some(v => SCRIPT_URL.test(String(v).replace(/[\t\n\r]/g, '').replace(/^[\0-\x20]+/, '')))))) return
      for (const t of els) {
        const now = name !== 'toggleAttribute' ? value : on === undefined ? (t.hasAttribute(attr) ? null : '') : t.getAttribute(attr) === on ? off ?? null : on
        set(t, 'a:' + attr, now)
      }
      return
    }
    case 'transition':
      for (const t of els) transition(t, a.transition as Transition, time)
      return
    case 'focus':
      return (els[0] as HTMLElement | undefined)?.focus()
    case 'focusFirst':
      return els[0] && focusables(els[0])[0]?.focus()
    case 'pushFocus': {
      const f = a.to === undefined ? doc.activeElement : els[0]
      if (f) focused.push(f)
      return
    }
    case 'popFocus':
      return (focused.pop() as HTMLElement | undefined)?.focus()
    case 'dispatch':
      for (const t of els) t.dispatchEvent(new CustomEvent(String(a.event), { bubbles: a.bubbles !== false, detail: a.detail }))
      return
    case 'push':
      return go(String(a.event), a.value as Record<string, unknown> | undefined, a.target as string | number | undefined, a.loading as string | undefined)
    case 'navigate':
    case 'patch': {
      // Same URL rules as the server's navigation: this origin only.
      const to = new URL(String(a.href), location.href)
      if (to.origin !== location.origin) return
      if (!port.p?.(el, to.href, a.replace === true, name === 'navigate')) load(to.href)
      return
    }
    case 'announce':
      return announce(String(a.text), a.politeness === 'assertive' ? 'assertive' : 'polite')
  }
}

port.x = (el, what, go) => {
  let list: Command[] = []
  try {
    if (typeof what === 'string') list = JSON.parse(what) as Command[]
    else (new JS([], c => { list.push(c) }) as unknown as Record<string, (...a: unknown[]) => unknown>)[what[0]]?.(...what[1])
  } catch (e) {
    // A malformed list (hand-written, not the builder's) is the page's bug: reported, not run.
    setTimeout(() => { throw e })
    return
  }
  const commands = (Array.isArray(list) ? list : []).filter(c => Array.isArray(c))
  // The last push of a list is told so (it carries the binding's lv-disable-with and after).
  let pushes = commands.filter(c => c[0] === 'push').length
  const last: typeof go = (event, value, target, loading) => { go(event, value, target, loading, --pushes === 0) }
  for (const c of commands) run(el, [String(c[0]), (c[1] ?? {}) as Record<string, unknown>], last)
}
for (const q of port.q.splice(0)) port.x(...q)
port.w = hooks(port.root as Element, port.push as NonNullable<JsPort['push']>, port.x)

// Focus wraps: Tab from the last focusable element of an `lv-focus-wrap` container goes to
// the first, Shift+Tab from the first to the last (a modal keeps the focus inside).
doc.addEventListener('keydown', e => {
  if (e.key !== 'Tab') return
  const box = (e.target as Element).closest?.(`[${PREFIX}focus-wrap]`)
  if (!box) return
  const all = focusables(box)
  const first = all[0]
  const last = all[all.length - 1]
  if (!first || !last) return e.preventDefault()
  const at = doc.activeElement
  if (e.shiftKey ? at === first || at === box : at === last) {
    e.preventDefault()
    ;(e.shiftKey ? last : first).focus()
  }
})

import {
  ATTR_CLICK, ATTR_CLICK_AWAY, ATTR_CONFIRM, ATTR_DEBOUNCE, ATTR_DISABLE_WITH, ATTR_KEY, ATTR_NAVIGATE, ATTR_PATCH, ATTR_SUBMIT, ATTR_THROTTLE, ATTR_VALUE, ATTR_WINDOW, DOM_CONNECTED, DOM_EVENT, PREFIX
} from '../lib/protocol.js'
import { isField, reset, use, used } from './fields.js'
import type { Reply } from './hooks.js'
import type { Patch } from './live.js'
import { exec, type Go } from './lazy.js'

export type Params = Record<string, unknown>
/**
 * What `lv-disable-with` does to an element while its event waits: `off` puts the element
 * back as it was, `on` does it again (to what the element holds now). The connection turns
 * it off around every update from the server, so updates apply to the element as rendered.
 */
export type Busy = [off: () => void, on: () => void]

/**
 * Sends an event; `el` is the element that caused it; `after` runs once its reply is
 * applied; `busy` is turned off when it ends in any way (reply, error, disconnect), before
 * the reply is applied; `reply` gets the handler's return value, or the error that ended it.
 */
export type Push = (el: Element, event: string, params: Params, after?: () => void, busy?: Busy, reply?: Reply, o?: PushOptions) => void
/** The binding that sent it (`click`: its loading class is `lv-click-loading`), an `lv-target` of its own, elements (a selector) that show loading too. */
export type PushOptions = [kind?: string, target?: string | number, loading?: string]


/** `lv-value-foo-bar="x"` → `{ "foo-bar": "x" }`, added to `into`. */
function values (el: Element, into: Params): Params {
  for (const { name, value } of el.attributes) if (name.startsWith(ATTR_VALUE)) into[name.slice(ATTR_VALUE.length)] = value
  return into
}

/** A form's fields as FormData sends them; a repeated name becomes an array. */
function fields (form: HTMLFormElement, submitter?: HTMLElement | null): Params {
  const params: Params = {}
  new FormData(form, submitter).forEach((v, k) => {
    // A file goes to the server as an upload (`lv-upload`), never as params.
    if (typeof v !== 'string') return
    const old = params[k]
    params[k] = old === undefined ? v : Array.isArray(old) ? [...old, v] : [old, v]
  })
  return params
}

type Field = HTMLInputElement

/** The value a lone field would submit: undefined for an unticked box. */
const fieldValue = (f: Field): unknown =>
  f.type === 'checkbox' || f.type === 'radio'
    ? f.checked ? f.value : undefined
    : f.type === 'select-multiple' ? [...(f as unknown as HTMLSelectElement).selectedOptions].map(o => o.value) : f.value

/** `{ value }` for a field, `{}` for anything else. */
const own = (el: Element): Params => isField(el) ? { value: fieldValue(el as Field) } : {}

/** An event held back by `lv-debounce` / `lv-throttle`: its timer and the send it holds. */
interface Held { t?: ReturnType<typeof setTimeout>, run?: () => void }
const held = new WeakMap<Element, Record<string, Held>>()

/** Sends what `h` holds now, and ends its wait. */
function release (h: Held): void {
  clearTimeout(h.t)
  h.t = undefined
  const run = h.run
  h.run = undefined
  run?.()
}

/** Sends every event held for `el` (a field that lost focus, a form being submitted). */
const flush = (el: Element | null | undefined): void => { for (const h of Object.values((el && held.get(el)) ?? {})) release(h) }

/**
 * Runs `send` now or later, as the first of `from` with `lv-debounce` or `lv-throttle`
 * says. A debounced event sends the last params it was given, so no keystroke is lost. A
 * throttled one sends at once, then at most once per period: `last` keeps the latest
 * send of the period for its end (a field's value), where a click or a key is dropped.
 */
function rate (from: Element[], kind: string, send: () => void, last?: boolean): void {
  const el = from.find(e => e.hasAttribute(ATTR_DEBOUNCE) || e.hasAttribute(ATTR_THROTTLE))
  if (!el) return send()
  const all = held.get(el) ?? {}
  held.set(el, all)
  const h = all[kind] ??= {}
  const debounce = el.getAttribute(ATTR_DEBOUNCE)
  if (debounce !== null) {
    clearTimeout(h.t)
    h.run = send
    // `blur`: held until the field loses focus (or its form is submitted).
    if (debounce !== 'blur') h.t = setTimeout(() => { release(h) }, +debounce)
  } else if (h.t) {
    if (last) h.run = send
  } else {
    send()
    const period = +(el.getAttribute(ATTR_THROTTLE) as string)
    const tick = (): void => {
      const had = h.run
      release(h)
      if (had) h.t = setTimeout(tick, period)
    }
    h.t = setTimeout(tick, period)
  }
}

/** Sets `lv-disable-with` on `el` while its event is pending: disabled, showing that text. */
function disable (el: Element): Busy | undefined {
  const text = el.getAttribute(ATTR_DISABLE_WITH)
  if (text === null) return
  let kids: Node[] | undefined
  let was = false
  const on = (): void => {
    kids = [...el.childNodes]
    was = el.hasAttribute('disabled')
    el.textContent = text
    el.setAttribute('disabled', '')
  }
  on()
  return [() => {
    if (!kids) return
    el.replaceChildren(...kids)
    el.toggleAttribute('disabled', was)
    kids = undefined
  }, on]
}

/**
 * Delegates every `lv-` binding inside `root` to `push`: one listener per DOM event type
 * on the document (and the window for `lv-window-*`), so patched-in elements need no setup.
 * `patch` follows `lv-patch` links.
 */
export function bind (root: Element, push: Push, patch: Patch): void {
  const doc = root.ownerDocument
  const win = doc.defaultView as Window
  const on = (type: string, handle: (target: Element, e: Event) => void): void =>
    doc.addEventListener(type, e => {
      const t = e.target as Element
      if (root.contains(t)) handle(t, e)
    })
  const inside = (el: Element | null): el is Element => !!el && root.contains(el)
  /**
   * Asks `lv-confirm` (of `by`, else `el`), then sends with `by`'s (else `el`'s)
   * `lv-disable-with`; `kind` is the binding's. A command list (`[…`) runs instead: its
   * `push` commands send that way.
   */
  const send = (el: Element, kind: string, event: string, params: Params, after?: () => void, by = el): void => {
    const ask = by.getAttribute(ATTR_CONFIRM) ?? el.getAttribute(ATTR_CONFIRM)
    if (ask !== null && !win.confirm(ask)) return
    const busy = (): Busy | undefined => disable(by.hasAttribute(ATTR_DISABLE_WITH) ? by : el)
    if (event[0] !== '[') return push(el, event, values(el, params), after, busy(), undefined, [kind])
    // A command list's pushes (`value` laid over the binding's params) go in the list's order;
    // the last one carries `lv-disable-with` and `after` (its reply comes last).
    exec(el, event, (name, value, target, loading, last) => {
      push(el, name, { ...values(el, { ...params }), ...value }, last ? after : undefined, last ? busy() : undefined, undefined, [kind, target, loading])
    })
  }

  // A click anywhere, in the root or not, is "away" from each `lv-click-away` it is not in
  // that was shown when the click came: those are noted first (capture), and sent after the
  // click's own binding, which may show one (a menu's button outside it) or hide it (a toggle).
  let away: Element[] = []
  doc.addEventListener('click', e => {
    away = [...root.querySelectorAll(`[${ATTR_CLICK_AWAY}]`)].filter(el => !el.contains(e.target as Node) &&
      (el.checkVisibility?.({ visibilityProperty: true } as CheckVisibilityOptions) ?? el.getClientRects().length > 0))
  }, true)
  on('click', t => {
    const el = t.closest(`[${ATTR_CLICK}]`)
    if (inside(el) && !el.hasAttribute('disabled')) rate([el], ATTR_CLICK, () => { send(el, 'click', el.getAttribute(ATTR_CLICK) as string, {}) })
  })
  doc.addEventListener('click', () => {
    for (const el of away.splice(0)) send(el, 'click-away', el.getAttribute(ATTR_CLICK_AWAY) as string, {})
  })
  // A plain left click on an `lv-patch` or `lv-navigate` link to this origin, in the live
  // root or in the layout around it (site navigation), tells the server the URL instead of
  // loading the page (the server patches the view, or mounts the other route's); a new tab
  // or window (modifier keys, `target`) is the browser's.
  doc.addEventListener('click', m => {
    const a = (m.target as Element).closest?.(`a[${ATTR_PATCH}],a[${ATTR_NAVIGATE}]`) as HTMLAnchorElement | null
    if (a && root.isConnected && !m.defaultPrevented && !m.button && !(m.metaKey || m.ctrlKey || m.shiftKey || m.altKey) &&
      (!a.target || a.target === '_self') && a.origin === location.origin && patch(a, a.href)) m.preventDefault()
  })

  on('submit', (form, e) => {
    const name = form.getAttribute(ATTR_SUBMIT)
    if (name === null) return
    e.preventDefault()
    // Held changes go first: the server sees every keystroke before the submit.
    for (const el of [form, ...(form as HTMLFormElement).elements]) flush(el)
    const by = (e as SubmitEvent).submitter
    // A submit uses every field.
    use(form, [...(form as HTMLFormElement).elements].map(f => (f as Field).name))
    // Once the reply is in, the form shows what the server rendered: a view clears a field
    // (a chat input, say) by rendering it empty, focused or not.
    send(form, 'submit', name, fields(form as HTMLFormElement, by), () => { reset(form as HTMLFormElement) }, by ?? form)
  })

  // As Phoenix does: after a rejoin (a new server session), each form with `lv-change`
  // sends what it shows, so a half-filled form survives a server restart.
  let joins = 0
  root.addEventListener(DOM_CONNECTED, () => {
    if (joins++) {
      for (const form of root.querySelectorAll<HTMLFormElement>(`form[${PREFIX}change]`)) {
        const params = fields(form)
        params._target = ([...form.elements] as Field[]).find(f => f.name)?.name
        const name = form.getAttribute(PREFIX + 'change') as string
        if (name[0] !== '[') push(form, name, values(form, params))
      }
    }
  })

  on('reset', form => { used.delete(form) })
  for (const type of ['change', 'input']) {
    const attr = PREFIX + type
    on(type, t => {
      const f = t as Field
      const form = f.form
      if (form) use(form, [f.name])
      const el = f.hasAttribute(attr) ? f : form?.hasAttribute(attr) ? form : null
      if (!inside(el)) return
      const params = el === f ? { [f.name]: fieldValue(f) } : fields(form as HTMLFormElement)
      params._target = f.name
      rate([f, el], type, () => { send(el, type, el.getAttribute(attr) as string, params) }, true)
    })
  }

  for (const type of ['focus', 'blur']) {
    on(type === 'blur' ? 'focusout' : 'focusin', t => {
      if (type === 'blur') {
        flush(t)
        flush((t as Field).form)
      }
      const name = t.getAttribute(PREFIX + type)
      if (name !== null) send(t, type, name, own(t))
    })
  }

  for (const type of ['keydown', 'keyup']) {
    const attr = PREFIX + type
    const global = ATTR_WINDOW + type
    const key = (el: Element, e: KeyboardEvent, name: string | null): void => {
      const want = el.getAttribute(ATTR_KEY)
      if (name === null || (want !== null && want.toLowerCase() !== e.key?.toLowerCase())) return
      rate([el], type, () => { send(el, type, name, { ...own(el), key: e.key }) })
    }
    on(type, (t, e) => {
      const el = t.closest(`[${attr}]`)
      if (inside(el)) key(el, e as KeyboardEvent, el.getAttribute(attr))
    })
    win.addEventListener(type, e => {
      for (const el of root.querySelectorAll(`[${global}]`)) key(el, e as KeyboardEvent, el.getAttribute(global))
    })
  }

  // Other window events: `lv-window-resize` and `-scroll` send the viewport's size and scroll
  // position, as strings like every binding (use lv-throttle or lv-debounce on them); focus,
  // blur, online, offline send nothing.
  for (const type of ['resize', 'scroll', 'focus', 'blur', 'online', 'offline']) {
    const attr = ATTR_WINDOW + type
    win.addEventListener(type, () => {
      for (const el of root.querySelectorAll(`[${attr}]`)) {
        const params = type === 'resize' || type === 'scroll'
          ? { width: '' + win.innerWidth, height: '' + win.innerHeight, scrollX: '' + win.scrollX, scrollY: '' + win.scrollY }
          : {}
        rate([el], attr, () => { send(el, 'window-' + type, el.getAttribute(attr) as string, params) })
      }
    }, { passive: true })
  }
}

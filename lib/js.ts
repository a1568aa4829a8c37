// Client-side commands: what a binding (or a hook) runs in the browser without a round trip.
//
// `JS.show('#menu').push('opened')` is a list of commands, rendered into a binding's value
// (`lv-click="<%= JS.show('#menu') %>"`, escaped: a `push` value may carry user data) as
// JSON: `[["show",{"to":"#menu"}],["push",{"event":"opened"}]]`. The client tells a command
// list from an event name by its first character, `[` (an event name starts with a letter).
// This module is shared: the server renders lists with it, the client's command chunk builds
// a hook's `this.js()` calls with it.

/** A CSS selector of the elements a command acts on (every match in the document); without one, the element the binding (or hook) is on. */
export type Target = string

/**
 * CSS classes applied while something shows, hides or changes: one string (classes kept for
 * `time`), or `[during, from, to]` as Tailwind-style transitions have it (`during` and `from`
 * first, then `from` swapped for `to` on the next frame, all gone after `time`).
 */
export type Transition = string | readonly [during: string, from: string, to: string]

export interface TimeOptions {
  /** How long the transition lasts, in milliseconds. Default: 200 */
  time?: number
}
export interface ShowOptions extends TimeOptions {
  /** The `display` shown. Default: `block` */
  display?: string
  transition?: Transition
}
export interface HideOptions extends TimeOptions { transition?: Transition }
export interface ToggleOptions extends TimeOptions {
  display?: string
  /** The transition when it shows. */
  in?: Transition
  /** The transition when it hides. */
  out?: Transition
}
export interface ClassOptions extends TimeOptions { transition?: Transition }
export interface DispatchOptions {
  /** `event.detail`. */
  detail?: unknown
  /** Default: true */
  bubbles?: boolean
}
export interface PushOptions {
  /** Where the event goes, as `lv-target` says it: `@myself`, a selector, a component's `lv-cid`. Default: the element's `lv-target`. */
  target?: string | number
  /** Elements (a selector) that get the loading classes while the event waits for its reply, besides the element. */
  loading?: Target
  /** Params added to the binding's own (its `lv-value-*`, a form's fields). */
  value?: Record<string, unknown>
}
export interface UrlOptions {
  /** Replace the history entry instead of adding one. Default: false */
  replace?: boolean
}
export interface AnnounceOptions {
  /** How the screen reader announces it (`aria-live`). Default: `polite` */
  politeness?: 'polite' | 'assertive'
}

/** One command as it travels: its name and its arguments. */
export type Command = [name: string, args: Record<string, unknown>]

/** Drops undefined values (JSON drops them too; the list stays short in the page). */
function args (o: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const k in o) if (o[k] !== undefined) out[k] = o[k]
  return out
}

/** A URL a command may go to: a path, or http(s). Another origin is refused by the client. */
function url (href: string): string {
  if (typeof href !== 'string' || /^\s*(?!https?:)[a-z][a-z0-9+.-]*:/i.test(href)) throw new TypeError(`JS: not an http(s) URL or path: ${String(href).slice(0, 80)}`)
  return href
}

/**
 * A list of client-side commands. Every method returns a new list with one more command (a
 * list is never changed), so a shared one (`const close = JS.hide('#modal')`) can start others.
 */
export class JS {
  readonly commands: readonly Command[]
  readonly #run: ((c: Command) => void) | undefined

  /** @internal `run`: a hook's `this.js()`, which runs each command as it is added. */
  constructor (commands: readonly Command[] = [], run?: (c: Command) => void) {
    this.commands = commands
    this.#run = run
  }

  #add (name: string, a: Record<string, unknown>): JS {
    const c: Command = [name, args(a)]
    if (this.#run !== undefined) {
      this.#run(c)
      return this
    }
    return new JS([...this.commands, c])
  }

  /** Shows the elements (`display`, default `block`), with an optional transition. */
  show (to?: Target, o: ShowOptions = {}): JS { return this.#add('show', { to, ...o }) }
  /** Hides the elements (`display: none` once the transition is over). */
  hide (to?: Target, o: HideOptions = {}): JS { return this.#add('hide', { to, ...o }) }
  /** Shows the elements that are hidden, hides the others. */
  toggle (to?: Target, o: ToggleOptions = {}): JS { return this.#add('toggle', { to, ...o }) }
  /** Adds classes (space-separated). */
  addClass (names: string, to?: Target, o: ClassOptions = {}): JS { return this.#add('addClass', { names, to, ...o }) }
  removeClass (names: string, to?: Target, o: ClassOptions = {}): JS { return this.#add('removeClass', { names, to, ...o }) }
  toggleClass (names: string, to?: Target, o: ClassOptions = {}): JS { return this.#add('toggleClass', { names, to, ...o }) }
  setAttribute (name: string, value: string, to?: Target): JS { return this.#add('setAttribute', { name, value: String(value), to }) }
  removeAttribute (name: string, to?: Target): JS { return this.#add('removeAttribute', { name, to }) }
  /** Switches an attribute between two values (`aria-expanded`: `['true', 'false']`), or on and off without them. */
  toggleAttribute (name: string, values?: readonly [string, string], to?: Target): JS { return this.#add('toggleAttribute', { name, values, to }) }
  /** Applies transition classes for `time` (the element stays as it is). */
  transition (transition: Transition, to?: Target, o: TimeOptions = {}): JS { return this.#add('transition', { transition, to, ...o }) }
  /** Focuses the (first) element. */
  focus (to?: Target): JS { return this.#add('focus', { to }) }
  /** Focuses the first focusable element inside. */
  focusFirst (to?: Target): JS { return this.#add('focusFirst', { to }) }
  /** Remembers the focused element (or the target), for `popFocus`. */
  pushFocus (to?: Target): JS { return this.#add('pushFocus', { to }) }
  /** Focuses the element the last `pushFocus` remembered. */
  popFocus (): JS { return this.#add('popFocus', {}) }
  /** Dispatches a DOM event (`CustomEvent`) on the elements. */
  dispatch (event: string, to?: Target, o: DispatchOptions = {}): JS { return this.#add('dispatch', { event, to, ...o }) }
  /** Sends an event to the server, as the binding would with that name. */
  push (event: string, o: PushOptions = {}): JS { return this.#add('push', { event, ...o }) }
  /** Goes to another live route of this origin (`lv-navigate`). */
  navigate (href: string, o: UrlOptions = {}): JS { return this.#add('navigate', { href: url(href), ...o }) }
  /** Changes the URL within the view (`lv-patch`). */
  patch (href: string, o: UrlOptions = {}): JS { return this.#add('patch', { href: url(href), ...o }) }
  /** Says `text` to screen readers, through an `aria-live` region of the page. */
  announce (text: string, o: AnnounceOptions = {}): JS { return this.#add('announce', { text: String(text), ...o }) }

  /** The list as a binding's value: JSON (output it escaped, `<%= %>`). */
  toString (): string { return JSON.stringify(this.commands) }
  toJSON (): readonly Command[] { return this.commands }

  static show (to?: Target, o?: ShowOptions): JS { return new JS().show(to, o) }
  static hide (to?: Target, o?: HideOptions): JS { return new JS().hide(to, o) }
  static toggle (to?: Target, o?: ToggleOptions): JS { return new JS().toggle(to, o) }
  static addClass (names: string, to?: Target, o?: ClassOptions): JS { return new JS().addClass(names, to, o) }
  static removeClass (names: string, to?: Target, o?: ClassOptions): JS { return new JS().removeClass(names, to, o) }
  static toggleClass (names: string, to?: Target, o?: ClassOptions): JS { return new JS().toggleClass(names, to, o) }
  static setAttribute (name: string, value: string, to?: Target): JS { return new JS().setAttribute(name, value, to) }
  static removeAttribute (name: string, to?: Target): JS { return new JS().removeAttribute(name, to) }
  static toggleAttribute (name: string, values?: readonly [string, string], to?: Target): JS { return new JS().toggleAttribute(name, values, to) }
  static transition (transition: Transition, to?: Target, o?: TimeOptions): JS { return new JS().transition(transition, to, o) }
  static focus (to?: Target): JS { return new JS().focus(to) }
  static focusFirst (to?: Target): JS { return new JS().focusFirst(to) }
  static pushFocus (to?: Target): JS { return new JS().pushFocus(to) }
  static popFocus (): JS { return new JS().popFocus() }
  static dispatch (event: string, to?: Target, o?: DispatchOptions): JS { return new JS().dispatch(event, to, o) }
  static push (event: string, o?: PushOptions): JS { return new JS().push(event, o) }
  static navigate (href: string, o?: UrlOptions): JS { return new JS().navigate(href, o) }
  static patch (href: string, o?: UrlOptions): JS { return new JS().patch(href, o) }
  static announce (text: string, o?: AnnounceOptions): JS { return new JS().announce(text, o) }
}

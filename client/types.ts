/**
 * Types for an app's front-end code: `import type { LiveHook } from 'fastify-liveview/client'`.
 * Loading them also types `window.lvHooks` and the live root's `lv:*` DOM events. Types
 * only: the client script itself is served by the plugin.
 */

/** What `pushEvent` rejects with, and `lv:error`'s detail (with `ref`). */
export interface LiveError {
  /** An `FST_LIVEVIEW_*` code (`FST_LIVEVIEW_DISCONNECTED` when the page was not connected). */
  code: string
  message: string
}

/** What a hook's callbacks see as `this`: the hook object, plus these. */
export interface HookContext {
  /** The element with `lv-hook`. */
  readonly el: Element
  /**
   * Sends an event to the view; resolves with its handler's return value, rejects with a
   * `LiveError`. Its params reach a handler declared `{ hook: true }` (typed `unknown`) or
   * one with a schema.
   */
  pushEvent: (event: string, params?: Record<string, unknown>) => Promise<unknown>
  /**
   * Client-side commands on this hook's element (the default target), each run as it is
   * called: `this.js().show('#menu').focusFirst('#menu')`. The same commands as the
   * server's `JS` builder (fastify-liveview's main entry).
   */
  js: () => HookCommands
  /** Calls `callback` with the payload of every `event` the view pushes; returns what stops it. */
  handleEvent: (event: string, callback: (payload: unknown) => void) => () => void
}

/** What a hook's `this.js()` runs (see `JS` of the package's main entry for each command's options). */
export interface HookCommands {
  show: (to?: string, options?: { display?: string, transition?: Transition, time?: number }) => HookCommands
  hide: (to?: string, options?: { transition?: Transition, time?: number }) => HookCommands
  toggle: (to?: string, options?: { display?: string, in?: Transition, out?: Transition, time?: number }) => HookCommands
  addClass: (names: string, to?: string, options?: { transition?: Transition, time?: number }) => HookCommands
  removeClass: (names: string, to?: string, options?: { transition?: Transition, time?: number }) => HookCommands
  toggleClass: (names: string, to?: string, options?: { transition?: Transition, time?: number }) => HookCommands
  setAttribute: (name: string, value: string, to?: string) => HookCommands
  removeAttribute: (name: string, to?: string) => HookCommands
  toggleAttribute: (name: string, values?: readonly [string, string], to?: string) => HookCommands
  transition: (transition: Transition, to?: string, options?: { time?: number }) => HookCommands
  focus: (to?: string) => HookCommands
  focusFirst: (to?: string) => HookCommands
  pushFocus: (to?: string) => HookCommands
  popFocus: () => HookCommands
  dispatch: (event: string, to?: string, options?: { detail?: unknown, bubbles?: boolean }) => HookCommands
  push: (event: string, options?: { target?: string | number, loading?: string, value?: Record<string, unknown> }) => HookCommands
  navigate: (href: string, options?: { replace?: boolean }) => HookCommands
  patch: (href: string, options?: { replace?: boolean }) => HookCommands
  announce: (text: string, options?: { politeness?: 'polite' | 'assertive' }) => HookCommands
}

/** Transition classes: one string, or `[during, from, to]`. */
export type Transition = string | readonly [string, string, string]

/** The callbacks a hook may have. */
export interface HookCallbacks {
  /** The element was first seen: after the page joined, or a server update added it. */
  mounted?: () => void
  /** A server update changed the element or anything inside it. */
  updated?: () => void
  /** A server update removed the element (or changed its `lv-hook`). */
  destroyed?: () => void
  disconnected?: () => void
  reconnected?: () => void
}

/**
 * A hook: callbacks and any state of your own (`S`), with `this` typed as the instance.
 *
 * @example
 * const Chart: LiveHook<{ chart?: Chart }> = {
 *   mounted () { this.chart = new Chart(this.el); this.handleEvent('points', (p) => this.chart?.draw(p)) },
 *   destroyed () { this.chart?.destroy() }
 * }
 */
export type LiveHook<S extends object = {}> = HookCallbacks & Partial<S> & ThisType<HookContext & HookCallbacks & S>

/** `window.lvHooks`: hooks by the name `lv-hook` gives. */
export type LiveHooks = Record<string, HookCallbacks & ThisType<HookContext & HookCallbacks & Record<string, any>>>

/** `lv:event`'s detail: an event the view pushed (`this.pushEvent(event, payload)` on the server). */
export interface LiveEventDetail { event: string, payload: unknown }

/** `lv:error`'s detail: the error reply of the event `ref` (0: not an event's). */
export interface LiveErrorDetail extends LiveError { ref: number }

declare global {
  interface Window {
    /** The page's hooks, by the name `lv-hook` gives; read when an element needs its hook. */
    lvHooks?: LiveHooks
  }
  interface ElementEventMap {
    /** The live root joined (or rejoined) the server. */
    'lv:connected': CustomEvent<undefined>
    /** The live root's socket dropped. */
    'lv:disconnected': CustomEvent<undefined>
    /** An error reply (the root also gets the class `lv-error`). */
    'lv:error': CustomEvent<LiveErrorDetail>
    /** An event the view pushed. */
    'lv:event': CustomEvent<LiveEventDetail>
  }
}

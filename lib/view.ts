import type { FastifyRequest } from 'fastify'
import type { PersistOption } from './persist.js'
import type { PresenceList } from './presence.js'
import type { ComponentId, LiveComponent, LiveComponentClass, PropsOf } from './component.js'
import type { AsyncOptions, AsyncResult } from './async-result.js'
import type { StreamInsertOptions, StreamOptions, StreamSpec } from './streams.js'
import type { ConsumedEntry, UploadEntry, UploadOptions } from './uploads.js'
import type { Uploads } from './session/uploads.js'
import type { EventSpecFor, HandlerParams } from './event-types.js'
import { kLive, type RedirectOptions, type TerminateReason, type ViewPort } from './view-port.js'
import type { ErrorMessages, FieldErrors, UsedFields } from './forms.js'

/** Route params merged with the query string, as a view's `mount` gets them. */
export type Params = Record<string, string | string[] | undefined>

/** JSON Schema of an event's params (a literal, or TypeBox's), checked with Fastify's validator (ajv) before the handler runs. */
export type EventSchema = object

/**
 * How one event is declared: `true`, or with a params schema, or `{ hook: true }` (sent by a
 * hook's `pushEvent`). With a schema, `onInvalid: 'render'` makes params that fail it field
 * errors (`it.errors`, worded by `messages`) and renders, the handler not run; by default
 * (`'refuse'`) the event is refused with FST_LIVEVIEW_PARAMS_INVALID.
 */
export type EventSpec = true | { schema?: EventSchema | undefined, hook?: boolean | undefined, onInvalid?: 'render' | 'refuse' | undefined, messages?: ErrorMessages | undefined }

/** Names of the methods a view declares itself (not those of LiveView). */
export type HandlerName<V> = {
  [K in keyof V]: K extends (V extends LiveComponent<any> ? keyof LiveComponent<any> : keyof LiveView) ? never : V[K] extends (...args: any[]) => unknown ? K : never
}[keyof V] & string

/**
 * The events of a view: each key a handler method of the view, declared in a way its
 * params type fits (see `EventSpecFor`): `true` only for a handler that takes what DOM
 * bindings send (`DomParams`), `{ hook: true }` for one that takes `unknown`, a schema
 * whose type agrees with the handler's otherwise.
 */
export type EventDeclarations<V> = { [K in HandlerName<V>]?: EventSpecFor<HandlerParams<V[K]>> }

/** The params a handler of view V takes for event E. */
export type EventParams<V, E extends HandlerName<V>> =
  V[E] extends (params: infer P, ...rest: any[]) => unknown ? (unknown extends P ? Record<string, unknown> : P) : never

/** What `context()` of view V returns (awaited). */
export type ContextOf<V> = V extends { context (): infer C } ? Awaited<C> : never

/**
 * Declares a view's event handlers, type-checked against the view's own methods.
 *
 * @example
 * class Counter extends LiveView {
 *   static events = defineEvents<Counter>({ inc: true, set: { schema: { type: 'object', required: ['n'] } } })
 *   inc () { this.count++ }
 *   set (params: { n: number }) { this.count = params.n }
 * }
 */
export function defineEvents<V> (events: EventDeclarations<V>): EventDeclarations<V> {
  return events
}

export { kLive, NO_FLASH, type RedirectOptions, type TerminateReason, type ViewPort } from './view-port.js'

/**
 * Base class of every live view. A subclass names its template, declares its events,
 * and returns its template data from `context()`.
 *
 * @example
 * class Counter extends LiveView {
 *   static template = 'counter'          // views/counter.eta
 *   static events = defineEvents<Counter>({ inc: true })
 *   count = 0
 *   mount (params: Params) { this.count = Number(params.start ?? 0) }
 *   inc () { this.count++ }
 *   context () { return { count: this.count } }
 * }
 */
export abstract class LiveView {
  /** Template name under the plugin's `root`, without `.eta`. Required. */
  static template: string
  /** Page title for the layout. Default: the class name. */
  static title?: string
  /** Declared event handlers; nothing else is callable from the client. Default: none */
  static events?: Record<string, EventSpec>
  /** Components its template renders (`it.component('card', props)`), by name. Default: none */
  static components?: Record<string, LiveComponentClass>
  /** Its streams, by name: each item's template (and key field, default `id`). Default: none */
  static streams?: Record<string, StreamSpec>
  /**
   * Fields kept across restarts and deploys: saved after each message, laid over a fresh
   * `mount` when the page rejoins (on any process), then `restored()` runs. A list of field
   * names, or `{ fields, version, migrate }`. See the README's "State that survives a restart".
   */
  static persist?: PersistOption

  /** @internal */
  declare [kLive]: ViewPort

  /** False during the HTTP render, true once the page's socket has joined. */
  get connected (): boolean { return this[kLive].connected }

  /** Id of this session (also in the logs); on the HTTP render, that request's id. */
  get sessionId (): string { return this[kLive].sessionId }

  /** The page's HTTP request, or once connected the WebSocket upgrade request (its cookies and headers). */
  get request (): FastifyRequest { return this[kLive].request }

  /**
   * Sends this view a server-originated message: it reaches `handleInfo(msg)` through the
   * session's mailbox, one at a time with events, and any change it makes is sent to the
   * page as a diff. Returns false (and drops the message) when the session is not
   * connected, is closed, or its mailbox is full.
   */
  sendInfo (msg: unknown): boolean { return this[kLive].sendInfo(msg) }

  /**
   * Pushes an event to the page's hooks (their `handleEvent(event, callback)`), with a
   * JSON-serialisable payload. Pushed from a handler, it reaches the page after that event's
   * update, and is dropped if the handler fails. Returns false when not connected.
   */
  pushEvent (event: string, payload?: unknown): boolean { return this[kLive].push(event, payload) }

  /**
   * Subscribes this session to a PubSub topic: every message broadcast on it reaches
   * `handleInfo(msg)` through the mailbox. Unsubscribed when the session ends. Returns false
   * when not connected (the HTTP render): subscribe in `mount` when `this.connected`.
   */
  subscribe (topic: string): boolean { return this[kLive].subscribe(topic) }

  /** Ends a subscription. Returns false when there was none. */
  unsubscribe (topic: string): boolean { return this[kLive].unsubscribe(topic) }

  /**
   * Tracks this session's presence on `topic` under `key` (a user id, say) with `meta` (JSON:
   * `{ name, typing }`); calling it again changes the meta. Every session subscribed to the
   * topic, on every process, gets `{ event: 'presence_diff', topic, joins, leaves }` in
   * `handleInfo`. It ends with the view (a navigation, the socket closing) or `untrack`; a
   * process that dies leaves within the presence timeout. False when not connected.
   */
  track (topic: string, key: string, meta: unknown = {}): boolean { return this[kLive].effects()?.track(topic, String(key), meta) ?? false }

  /** Ends a tracking of this view. Returns false when there was none. */
  untrack (topic: string, key: string): boolean { return this[kLive].effects()?.untrack(topic, String(key)) ?? false }

  /** Who is on `topic` now, across processes: `{ [key]: { metas: [meta, …] } }` (one meta per tracking). */
  presence (topic: string): PresenceList { return this[kLive].presence.list(topic) }

  /**
   * Broadcasts `msg` on a topic: every subscribed session (of every process, with a shared
   * adapter) gets it in `handleInfo`, this one too if subscribed. Works connected or not.
   */
  broadcast (topic: string, msg: unknown): void | Promise<void> { return this[kLive].broadcast(topic, msg) }

  /**
   * Sends `msg` to this view's `handleInfo` every `ms` milliseconds while the session lives.
   * A tick that finds the previous one still waiting is skipped: ticks never pile up.
   * Returns what cancels it (a no-op when not connected).
   */
  every (ms: number, msg: unknown): () => void { return this[kLive].timer(ms, msg, true) }

  /** Sends `msg` to this view's `handleInfo` once, after `ms` milliseconds. Returns what cancels it. */
  after (ms: number, msg: unknown): () => void { return this[kLive].timer(ms, msg, false) }

  /**
   * The page title. Set it (in mount, a handler, handleInfo) and the layout's `<title>` and
   * the browser's title follow. Default: the class's `static title`, else its name.
   */
  get pageTitle (): string | undefined { return this[kLive].title }
  set pageTitle (title: string | undefined) { this[kLive].title = title === undefined ? undefined : String(title) }

  /**
   * Flash messages: `putFlash('info', 'Saved')` shows it in the next render (templates get
   * `it.flash`, unless `context()` returns its own `flash`), and it is gone after the user's
   * next event or URL change.
   */
  putFlash (kind: string, message: string): void { this[kLive].putFlash(kind, message) }

  /** The flash messages to show now, by kind. */
  get flash (): Readonly<Record<string, string>> { return this[kLive].flash }

  /**
   * Changes the page's URL within this view's route (a filter, a page number) without a
   * remount: once the current handler is done, `handleParams(params, url)` runs with the new
   * URL's params and the browser's history gets the URL. A URL of another route throws
   * FST_LIVEVIEW_PATCH_REFUSED, one of another origin or scheme FST_LIVEVIEW_URL_UNSAFE. A
   * change of path params (`/doc/1` → `/doc/2`) runs the route's checks again (a query-only
   * change does not). In `mount` on the HTTP render: a 302 to it.
   */
  pushPatch (url: string): void { this[kLive].patchUrl(url) }

  /**
   * Goes to another live route without a page load: after the current handler's update, the
   * route's view mounts on the same socket (same session data) and, once it has rendered,
   * replaces this one (which then ends); the browser's history gets the URL and the new view
   * shows the flash set before. If the new view fails to mount, this one stays and the
   * browser loads the URL in full. The new route's checks (its hooks, `onMount`) run first;
   * a route of another live session is a full page load. A URL that is no live route throws
   * FST_LIVEVIEW_PATCH_REFUSED (use `redirect` for those), one of another origin or scheme
   * FST_LIVEVIEW_URL_UNSAFE. In `mount` on the HTTP render: a 302.
   */
  pushNavigate (url: string): void { this[kLive].navigate(url) }

  /**
   * Makes the browser load `url` (a full page load), e.g. after a sign-out. The flash set
   * before goes along (signed; shown once by the next page). Only URLs of the page's origin,
   * unless `{ external: true }` allows another http(s) origin; anything else (`javascript:`,
   * `//evil`) throws FST_LIVEVIEW_URL_UNSAFE. In `mount` on the HTTP render: a 302.
   */
  redirect (url: string, options?: RedirectOptions): void { this[kLive].redirect(url, options) }

  /**
   * Updates one of this page's components: `props` are laid over its props, its `update`
   * (or its class's `updateMany`, with this one) runs, and it renders again, alone. They
   * last until its owner renders it with other props than before. Through the mailbox, after
   * the current message. Returns false when not connected; a component that is not on the
   * page is logged and skipped.
   */
  sendUpdate<C extends LiveComponent<any>> (Component: LiveComponentClass<C>, id: ComponentId, props: Partial<Omit<PropsOf<C>, 'id'>>): boolean {
    return this[kLive].sendUpdate(Component as unknown as LiveComponentClass, id, props)
  }

  /**
   * Loads a field in the background: it holds `AsyncResult.loading()` at once (with its last
   * value while it reloads), and `ok` with the value or `failed` with the error once `fn`
   * settles, which re-renders the page. `fn` runs outside the session's mailbox (events go
   * on meanwhile); its result comes back through it. Its `signal` aborts when the view ends,
   * when the same key is loaded again, on `cancelAsync(key)`, and on URL patches if
   * `abortOnPatch`. Started by a handler that throws, it never starts. On the HTTP render
   * it does not run (the page shows the loading state) unless `http: 'await'`. Declare the
   * field `AsyncResult<T>` (`stats: AsyncResult<Stats> = AsyncResult.loading()`): `key` is
   * checked to be a field of the view; what `fn` resolves to is not checked against `T`
   * (TypeScript cannot relate them inside the class).
   */
  assignAsync<K extends keyof this & string> (key: K, fn: (signal: AbortSignal) => Promise<unknown>, options?: AsyncOptions): void {
    this[kLive].async('assign', key, fn, options)
  }

  /**
   * Runs `fn` in the background (as `assignAsync` does) and hands its result to
   * `handleAsync(name, result)` through the mailbox. Starting a name again aborts the one before.
   */
  startAsync (name: string, fn: (signal: AbortSignal) => Promise<unknown>, options?: AsyncOptions): void {
    this[kLive].async('start', name, fn, options)
  }

  /** Cancels the `assignAsync` of `key` or the `startAsync` of that name (its signal aborts, its result is dropped). True when one ran. */
  cancelAsync (key: string): boolean {
    const port = this[kLive]
    const assigned = port.cancelAsync('assign', key)
    return port.cancelAsync('start', key) || assigned
  }

  /**
   * Sends items to a stream the view declares (`static streams`): each is rendered with the
   * stream's item template now and sent to the client, which keeps it in the container
   * (`<ul id="feed" lv-stream="feed"><%~ it.streams.feed %></ul>`); the server keeps no
   * copy. An item whose key is in the stream already replaces it. `reset` empties the stream
   * first; `at` and `limit` as for `streamInsert`. An async iterable (a database cursor) is
   * sent in pages of 50, each once the client has read the one before, after the current
   * message (events go on meanwhile); streaming again stops it. Sent after the message's
   * update; dropped when the handler throws.
   */
  stream (name: string, items: Iterable<unknown> | AsyncIterable<unknown>, options?: StreamOptions): void { this[kLive].stream(name, items, options) }

  /** Inserts (or replaces, by key) one item: `at` -1 (the end, default), 0 (the start) or an index; `limit` prunes the other end on the client. */
  streamInsert (name: string, item: unknown, options?: StreamInsertOptions): void { this[kLive].streamInsert(name, item, options) }

  /** Removes an item (given, or its key) from a stream. */
  streamDelete (name: string, itemOrKey: unknown): void { this[kLive].streamDelete(name, itemOrKey) }

  /**
   * Allows uploads named `name` (call it in `mount`): a file input with
   * `<%~ it.uploads.name.attrs %>` (or `lv-upload="name"`) and any `lv-drop="name"` zone
   * send their files to it, chunked over the socket (or to `presign`'s URL); the template
   * shows them as `it.uploads.name.entries`. Calling it again changes the settings and keeps the entries.
   */
  allowUpload (name: string, options?: UploadOptions): void { this[kLive].allowUpload(name, options) }

  /** Ends the upload `name`: its entries and their data go. */
  disallowUpload (name: string): void { this[kLive].uploadsOf().disallow(name) }

  /** The entries of the upload `name`, as its template shows them (progress, errors). */
  uploadedEntries (name: string): readonly UploadEntry[] { return this[kLive].uploadsOf().entries(name) }

  /** Cancels an entry (`lv-click="cancel" lv-value-ref="<%= entry.ref %>"`): its data goes, the client stops sending it. False when there is none. */
  cancelUpload (name: string, ref: string): boolean { return this[kLive].uploadsOf().cancel(name, ref) }

  /**
   * Hands each finished entry of `name` to `fn`, one at a time, with its bytes as a Node
   * `Readable` (`entry.stream`, read from temporary storage: stream it to disk or object
   * storage) and returns what `fn` returned. Each entry and its temporary data are gone
   * once `fn` settles, even when it throws: a handler that throws after consuming does not
   * get its uploads back. Entries still under way or with errors stay.
   */
  consumeUploads<R> (name: string, fn: (entry: ConsumedEntry) => R | Promise<R>): Promise<R[]> { return this[kLive].uploadsOf().consume(name, fn) }

  /**
   * Shows `message` as the error of `field` (`it.errors[field]`) from the next render on, as
   * an event declared `onInvalid: 'render'` does for params that fail its schema. Such an
   * event replaces all field errors: its valid params clear them before its handler runs.
   */
  addError (field: string, message: string): void { this[kLive].formOf().add(String(field), String(message)) }

  /** Clears the error of `field`, or all field errors. */
  clearErrors (field?: string): void { this[kLive].formOf().clear(field) }

  /** The field errors the template shows as `it.errors`. */
  fieldErrors (): FieldErrors { return this[kLive].formOf().errors }

  /**
   * The fields the user has used (typed in, changed, or submitted), as the client said with
   * the last event of a form (`it.used`): show a field's error once it is used.
   */
  usedFields (): UsedFields { return this[kLive].formOf().used }

  /** Receives what a `startAsync(name, fn)` settled with. */
  handleAsync? (name: string, result: AsyncResult<unknown>): void | Promise<void>

  /** Called on the HTTP render (`connected` false) and again when the socket joins. */
  mount? (params: Params, session: any): void | Promise<void>

  /** The data the template renders, as `it`. Must return an object. */
  abstract context (): object | Promise<object>

  /**
   * Called after `mount` (on the HTTP render and on join) and whenever the URL changes within
   * the route: an `lv-patch` link, back or forward, or `pushPatch`. Gets the URL's params
   * (route params over the query string) and the URL.
   */
  handleParams? (params: Params, url: URL): void | Promise<void>

  /**
   * Called on a rejoin that restored persisted fields (`static persist`): after the connected
   * `mount` and the fields laid over it, before `handleParams`. Re-validate them here (the
   * world may have moved on while the page was away). Throwing fails the mount.
   */
  restored? (): void | Promise<void>

  /** Receives what `sendInfo` sent. */
  handleInfo? (msg: any): void | Promise<void>

  /**
   * Called once when this view ends: the socket closed or a navigation moved on (`'closed'`),
   * the server shut down (`'shutdown'`, awaited within `shutdownTimeoutMs`), or its mount
   * failed (`'error'`). Afterwards every method of the instance is a no-op.
   */
  terminate? (reason: TerminateReason): void | Promise<void>
}

/** A concrete view class, as `app.liveView(path, View)` takes it. */
export interface LiveViewClass<V extends LiveView = LiveView> {
  new (): V
  readonly name: string
  template: string
  title?: string
  events?: Record<string, EventSpec>
  components?: Record<string, LiveComponentClass>
  streams?: Record<string, StreamSpec>
}

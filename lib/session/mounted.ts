import type { FastifyBaseLogger, FastifyRequest } from 'fastify'
import type { Clock } from '../clock.js'
import type { ComponentId, LiveComponentClass } from '../component.js'
import type { Templates } from '../templates.js'
import { ComponentTree, type Instance, type TreeHost } from './components.js'
import type { AsyncOptions, AsyncResult } from '../async-result.js'
import { AsyncTasks, type AsyncHost, type Task } from './async.js'
import { Streams, type StreamHost } from './streams.js'
import type { StreamEntry, StreamInsertOptions, StreamOptions } from '../streams.js'
import type { StreamOp } from '../protocol.js'
import { timedTraced } from './timed.js'
import { Rendered, pack, unpack } from '../rendered.js'
import { clip, errors, describe } from '../errors.js'
import { pushFrame, streamFrame } from '../frames.js'
import type { PubSub } from '../pubsub.js'
import type { Presence } from '../presence.js'
import type { RouteMatch, ViewEntry } from '../registry.js'
import { renderView } from '../render.js'
import type { Services } from '../runtime.js'
import { locationOf, safeUrl } from '../urls.js'
import { NO_FLASH, kLive, type LiveView, type Params, type RedirectOptions, type TerminateReason, type ViewPort } from '../view.js'
import { Effects, type EffectSink, type Timer } from './effects.js'
import type { Outcome } from './outcome.js'
import type { Host } from './host.js'
import { Uploads, type UploadHost } from './uploads.js'
import { EMPTY_FORM, Form } from '../forms.js'
import { trace, traced } from '../telemetry.js'
import { timedRender } from '../stats.js'
import { uploadConfig, type UploadOptions } from '../uploads.js'
import type { UploadStore } from '../upload-store.js'
import { layOver } from '../persist.js'

/**
 * One view instance as the page shows it: its route, URL, title, flash, last render and
 * version base, and what it started (effects). The HTTP render makes one without a host;
 * a session makes one per join and per navigation, and ends it with `dispose`, after which
 * everything the view calls is a no-op. It is also what the view reaches as `this[kLive]`.
 */
export class MountedView implements ViewPort, EffectSink, TreeHost, AsyncHost, StreamHost, UploadHost {
  readonly #services: Services
  readonly #host: Host | undefined
  readonly #request: FastifyRequest | undefined
  readonly entry: ViewEntry
  readonly pattern: string
  /** The live session of its route: navigating to another one is a full page load. */
  readonly liveSession: string
  /** The route's layout (a live navigation to a route with another is a full load). */
  readonly layout: string | false
  /** Names this mount on the wire (events carry it). */
  readonly id: number
  readonly view: LiveView
  url: string
  /** The render the page shows, packed while the session hibernates (see `hibernate`). */
  #rendered: Rendered | string | undefined
  /** The title the view set (undefined: the class's). */
  title: string | undefined
  flash: Record<string, string> = NO_FLASH
  /** The outcome of the message running for this view, if any. */
  out: Outcome | undefined
  #effects: Effects | undefined
  #alive = true
  /** Its live components (once it renders any). */
  components: ComponentTree | undefined
  /** Its async work (once it starts any). */
  tasks: AsyncTasks | undefined
  /** Its streams (once it uses one). */
  streams: Streams | undefined
  /** Its uploads (once it allows one). */
  uploads: Uploads | undefined
  /** Its field errors and used fields (once it has any). */
  form: Form | undefined

  constructor (services: Services, host: Host | undefined, request: FastifyRequest | undefined, match: RouteMatch, url: string, id: number) {
    this.#services = services
    this.#host = host
    this.#request = host === undefined ? request : undefined
    this.entry = match.entry
    this.pattern = match.pattern
    this.liveSession = match.liveSession
    this.layout = match.layout
    this.url = url
    this.id = id
    this.view = new match.entry.View()
    Object.defineProperty(this.view, kLive, { value: this, enumerable: false })
  }

  get connected (): boolean { return this.#host !== undefined && this.#alive }
  get sessionId (): string { return this.#host?.id ?? this.#request!.id }
  get request (): FastifyRequest { return this.#host?.request ?? this.#request! }
  get clock (): Clock { return this.#services.clock }
  get pubsub (): PubSub { return this.#services.pubsub }
  get presence (): Presence { return this.#services.presence }
  get log (): FastifyBaseLogger { return this.#host?.log ?? this.#request!.log }
  get templates (): Templates { return this.#services.templates }
  get production (): boolean { return this.#services.options.production }
  /** The title the page shows. */
  get pageTitle (): string { return this.title ?? this.entry.title }

  /** The render the page shows (a session's; undefined until rendered). */
  get rendered (): Rendered | undefined {
    const r = this.#rendered
    if (typeof r !== 'string') return r
    return (this.#rendered = new Rendered(unpack(r)))
  }

  set rendered (rendered: Rendered | undefined) { this.#rendered = rendered }

  /** Keeps the render packed (the next message unpacks it, and rebuilds its index). */
  hibernate (): void {
    const r = this.#rendered
    if (r !== undefined && typeof r !== 'string') this.#rendered = pack(r.html)
  }

  /**
   * The app's `onMount` check, `mount`, persisted fields (`restored`) and the view's
   * `restored()`, then `handleParams`; then the render, unless the view is leaving.
   */
  async start (params: Params, session: unknown, url: URL, flash?: Record<string, string>, restored?: Record<string, unknown>): Promise<string | undefined> {
    const view = this.view
    if (flash !== undefined) this.flash = flash
    const onMount = this.#services.options.onMount
    if (onMount !== undefined) {
      await this.timed('onMount', () => onMount({ view, route: this.pattern, liveSession: this.liveSession, url, params, session, connected: this.connected, request: this.request }))
      if (this.#leaving()) return undefined
    }
    if (view.mount !== undefined) await this.timed('mount', () => view.mount!(params, session))
    if (this.#leaving()) return undefined
    if (restored !== undefined) {
      layOver(view, this.entry.persist!, restored)
      if (view.restored !== undefined) await this.timed('restored', () => view.restored!())
      if (this.#leaving()) return undefined
    }
    // pushPatch in mount changes the URL the view mounts at: handleParams gets that one.
    if (this.out?.patch === undefined && view.handleParams !== undefined) await this.timed('handleParams', () => view.handleParams!(params, url))
    await this.followPatches()
    if (this.#leaving()) return undefined
    // The HTTP render waits for the work that asked for it (`http: 'await'`).
    if (this.#host === undefined) await this.tasks?.awaitHttp()
    return await this.render()
  }

  /**
   * Runs handleParams for the URL a pushPatch asked for, again while handleParams asks for
   * another (up to MAX_PATCHES in a row). True when it followed any.
   */
  async followPatches (): Promise<boolean> {
    const view = this.view
    let hops = 0
    for (let patch = this.out?.patch; patch !== undefined; patch = this.out?.patch) {
      if (hops++ === MAX_PATCHES) throw new Error(`pushPatch in each of ${MAX_PATCHES} handleParams in a row: a loop?`)
      this.out!.patch = undefined
      await this.authorize(patch.url)
      this.url = patch.url.href
      this.tasks?.patched()
      if (view.handleParams !== undefined) {
        const r = this.timed('handleParams', () => view.handleParams!(patch.params, patch.url))
        if (r instanceof Promise) await r
      }
    }
    return hops > 0
  }

  #leaving (): boolean { return this.out?.leaving === true }

  /**
   * A URL change within the route that changes its path (its path params) runs the route's
   * checks again; one that changes only the query does not (views check query-driven
   * access in `handleParams`).
   */
  async authorize (target: URL): Promise<void> {
    if (this.#host === undefined || target.pathname === new URL(this.url).pathname) return
    let sameLang: boolean
    try {
      sameLang = await this.#host.authorize(target)
    } catch (err) {
      // The browser loads the refused URL in full: HTTP answers (a login page, a 403).
      throw Object.assign(err as Error, { url: target.href })
    }
    // Another language: `<html lang>` is the layout's, rendered per page load.
    if (!sameLang) throw Object.assign(new errors.PATCH_REFUSED(clip(target.href), `${this.pattern}, in the page's language`), { url: target.href })
  }

  /** The view's render, with its components' (those whose props and state did not change reuse their last HTML); traced. */
  render (): string | Promise<string> {
    return timedRender(this.#services.stats, () => traced('render') ? trace('render', { view: this.entry.name, sessionId: this.sessionId }, () => this.#render(), (h) => h.length) : this.#render())
  }
  #render (): string | Promise<string> {
    const { entry, view } = this
    const templates = this.#services.templates
    const uploads = this.uploads?.context(0)
    const form = this.form ?? EMPTY_FORM
    const html = entry.components.size === 0
      ? renderView(templates, entry, view, { flash: view.flash, uploads, form })
      : (this.components ??= new ComponentTree(this)).renderPage(entry, (calls) => renderView(templates, entry, view, { flash: view.flash, calls, uploads, form }))
    if (entry.streams.size === 0) return html
    // Stream containers: the HTTP render shows the items, a connected render leaves them to the client.
    const streams = this.streams ??= new Streams(this)
    return typeof html === 'string' ? streams.fill(html) : html.then((h) => streams.fill(h))
  }

  /** The page's render after one component's own message: that component alone renders again. */
  renderComponent (inst: Instance): Promise<string> {
    const html = this.components!.renderOne(inst)
    // The view's pieces still hold its stream marks.
    return this.streams === undefined ? html : html.then((h) => this.streams!.fill(h))
  }

  /** Runs a view callback and returns what it returned; logs it when it runs longer than `slowHandlerMs`; traced. */
  timed (what: string, fn: () => unknown): unknown {
    return timedTraced(this.log, this.clock, this.#services.options.limits.slowHandlerMs, this.entry.name, this.sessionId, what, fn)
  }

  /**
   * Ends this view's effects; from now on everything the view calls is a no-op.
   * `retainUploads`: the socket dropped, its uploads under way wait for the rejoin.
   */
  dispose (retainUploads = false): void {
    this.#alive = false
    this.uploads?.dispose(retainUploads)
    this.out = undefined
    this.#effects?.dispose()
    this.#effects = undefined
    this.tasks?.dispose()
    this.streams?.dispose()
  }

  /** Calls the components' and the view's `terminate` once (errors are logged). */
  async terminate (reason: TerminateReason): Promise<void> {
    const view = this.view
    await this.components?.terminateAll()
    if (view.terminate === undefined) return
    try {
      await view.terminate(reason)
    } catch (err) {
      this.log.error({ err, view: this.entry.name }, 'live view terminate failed')
    }
  }

  /** Runs every timer once now (testing API). */
  fireTimers (): number { return this.#effects?.fireAll() ?? 0 }

  // --- What the view calls (LiveView's methods) -------------------------------------------

  deliver (msg: unknown, timer?: Timer): boolean { return this.#alive && this.#host !== undefined && this.#host.post(this, msg, timer) }

  sendInfo (msg: unknown): boolean { return this.deliver(msg) }

  push (event: string, payload: unknown): boolean {
    if (!this.connected || typeof event !== 'string' || event === '') return false
    let frame: string
    try {
      frame = pushFrame(event, payload)
    } catch (err) {
      this.log.error({ err, view: this.entry.name, event }, 'live view pushEvent payload is not JSON')
      return false
    }
    if (this.out !== undefined) {
      (this.out.pushes ??= []).push(frame)
      return true
    }
    return this.#host!.sendFor(this, frame)
  }

  async (kind: Task['kind'], key: string, fn: (signal: AbortSignal) => unknown, options?: AsyncOptions): void { if (this.#alive) (this.tasks ??= new AsyncTasks(this)).begin(kind, key, fn, options) }

  cancelAsync (kind: Task['kind'], key: string): boolean { return this.tasks?.cancel(kind, key) ?? false }

  stream (name: string, items: Iterable<unknown> | AsyncIterable<unknown>, options?: StreamOptions): void { if (this.#alive) (this.streams ??= new Streams(this)).stream(name, items, options) }

  streamInsert (name: string, item: unknown, options?: StreamInsertOptions): void { if (this.#alive) (this.streams ??= new Streams(this)).insert(name, item, options) }
  streamDelete (name: string, itemOrKey: unknown): void { if (this.#alive) (this.streams ??= new Streams(this)).delete(name, itemOrKey) }
  // StreamHost
  get viewName (): string { return this.entry.name }
  get streamEntries (): Map<string, StreamEntry> { return this.entry.streams }
  deferOps (ops: StreamOp[]): boolean { return this.out !== undefined && ((this.out.streams ??= []).push(...ops), true) }
  sendOps (ops: StreamOp[]): boolean { return this.#alive && this.#host !== undefined && this.#host.sendFor(this, streamFrame(ops)) }
  drained (signal: AbortSignal): Promise<void> { return this.#host?.drained(signal) ?? Promise.resolve() }
  // AsyncHost
  postAsync (task: Task, result: AsyncResult<unknown>): boolean { return this.#alive && this.#host !== undefined && this.#host.postAsync(this, task, result) }
  defer (start: () => void): boolean {
    if (this.out === undefined) return false
    ;(this.out.asyncs ??= []).push(start)
    return true
  }

  // Uploads (UploadHost)
  get uploadStore (): UploadStore | undefined { return this.#host === undefined ? undefined : this.#services.uploads }
  get uploadLimits (): UploadHost['uploadLimits'] { return this.#services.options.limits }
  get sessionKey (): string | undefined { return this.#host?.key }
  sendFrame (frame: string): boolean { return this.#alive && this.#host !== undefined && this.#host.sendFor(this, frame) }
  rerender (owners: Set<number>): boolean {
    // Components whose own uploads changed render again (the view renders every time).
    for (const cid of owners) this.components?.touch(cid)
    return this.#alive && this.#host !== undefined && this.#host.postRender(this)
  }
  uploadEnded (ref: string, ask?: boolean): boolean { return this.#host?.uploadEnded(ref, ask) ?? false }
  allowUpload (name: string, options?: UploadOptions, owner = 0, label = this.entry.name): void {
    if (this.#alive) (this.uploads ??= new Uploads(this)).allow(uploadConfig(label, name, options, this.#services.options.limits.maxFrameBytes), owner)
  }

  uploadsOf (): Uploads { return this.uploads ??= new Uploads(this) }
  formOf (): Form { return this.form ??= new Form() }
  setField (key: string, value: unknown): void { (this.view as unknown as Record<string, unknown>)[key] = value }
  field (key: string): unknown { return (this.view as unknown as Record<string, unknown>)[key] }
  handle (name: string, result: AsyncResult<unknown>): unknown { return this.view.handleAsync?.(name, result) }
  sendUpdate (Component: LiveComponentClass, id: ComponentId, props: object): boolean {
    return this.#alive && this.#host !== undefined && this.#host.postUpdate(this, Component, id, props)
  }
  /** What it started that outlives a message (undefined when not connected: nothing may start). */
  effects (): Effects | undefined { return this.connected ? (this.#effects ??= new Effects(this)) : undefined }
  subscribe (topic: string): boolean { return this.effects()?.subscribe(topic) ?? false }
  unsubscribe (topic: string): boolean { return this.#alive && (this.#effects?.unsubscribe(topic) ?? false) }
  broadcast (topic: string, msg: unknown): void | Promise<void> { return this.#services.pubsub.broadcast(topic, msg) }
  timer (ms: number, msg: unknown, repeat: boolean): () => void { return this.effects()?.timer(ms, msg, repeat) ?? noop }
  putFlash (kind: string, message: string): void {
    if (this.#alive) this.flash = { ...this.flash, [String(kind)]: String(message) }
  }
  patchUrl (url: string): void {
    if (!this.#alive) return
    const target = safeUrl(url, this.url)
    const match = this.#services.registry.match(target)
    if (match === undefined || match.pattern !== this.pattern) throw new errors.PATCH_REFUSED(clip(url), this.pattern)
    if (this.#host === undefined) return this.#leave(target)
    if (this.out !== undefined) this.out.patch = { url: target, params: match.params }
    else this.#host.changeUrl(this, target, false)
  }
  navigate (url: string): void {
    if (!this.#alive) return
    const target = safeUrl(url, this.url)
    if (this.#services.registry.match(target) === undefined) throw new errors.PATCH_REFUSED(clip(url), this.pattern)
    if (this.#host === undefined) return this.#leave(target)
    if (this.out !== undefined) this.out.navigate = target
    else this.#host.changeUrl(this, target, true)
  }
  redirect (url: string, options?: RedirectOptions): void {
    if (!this.#alive) return
    const to = safeUrl(url, this.url, options?.external === true)
    if (this.out !== undefined) this.out.redirect = to
    else this.#host?.redirectNow(this, to)
  }

  /** On the HTTP render, a URL change asked for in `mount` answers the GET with a redirect. */
  #leave (target: URL): void {
    if (this.out !== undefined) this.out.redirect = target
  }

  /** Where a redirect sends the browser, as a `Location` header (a path when same-origin). */
  location (target: URL): string { return this.owns(target) ? locationOf(target) : target.href }

  /** True for a URL of this page's origin. */
  owns (target: URL): boolean { return target.origin === new URL(this.url).origin }
}

export { detail } from '../errors.js'

const noop = (): void => {}

/** How many times in a row `handleParams` may `pushPatch` again before it counts as a loop. */
export const MAX_PATCHES = 10

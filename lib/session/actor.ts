import { randomBytes } from 'node:crypto'
import type { FastifyBaseLogger, FastifyRequest } from 'fastify'
import { FULL_HTML, Rendered, diffRendered } from '../diff.js'
import { errors, isCoded, type CodedError } from '../errors.js'
import {
  decodeClient, errorFrame, htmlFrame, mountFrame, okFrame, patchFrame, redirectFrame, titleFrame, urlFrame,
  type ClientMessage
} from '../frames.js'
import { Mailbox } from '../mailbox.js'
import { CLOSE_GOING_AWAY, CLOSE_JOIN_REFUSED, PROTOCOL_VERSION, type ErrorPayload, type JoinPayload } from '../protocol.js'
import { TokenBucket } from '../rate-limit.js'
import type { RouteMatch } from '../registry.js'
import { renderHash } from '../render.js'
import type { Runtime } from '../runtime.js'
import { NO_FLASH, type LiveView, type Params, type TerminateReason } from '../view.js'
import type { Timer } from './effects.js'
import { MountedView, detail, type Host } from './mounted.js'
import { Outcome } from './outcome.js'
import { Tracker } from './rollback.js'

/**
 * What carries a session's frames. The session knows nothing else of its connection:
 * a WebSocket, the testing API or a benchmark feed it frames and take its replies.
 */
export interface Transport {
  /** Sends one frame (JSON text). */
  send (frame: string): void
  /** Bytes sent but not yet taken by the client; above `coalesceBytes` server-initiated updates wait. */
  backlog (): number
  /** Ends the connection with a WebSocket close code and a reason (an error code). */
  close (code: number, reason: string): void
  /** Told once the session has joined. */
  joined? (): void
}

type Message =
  | ClientMessage
  | { kind: 'info', msg: unknown, to: MountedView, timer?: Timer | undefined }
  | { kind: 'flush', to: MountedView }
  /** A URL change the view asked for outside any message (pushPatch, pushNavigate). */
  | { kind: 'goto', to: MountedView, url: URL }

type State = 'new' | 'joining' | 'joined' | 'closing' | 'closed'

const FLUSH_POLL_MS = 25

/**
 * The session actor of one connection: frames in, a bounded mailbox that runs one message
 * at a time, and replies out in order. It holds the mounted view the page shows; a
 * navigation swaps it for another only once that one has mounted and rendered. Every
 * message's effects go through one outcome (see outcome.ts), applied once it succeeded.
 */
export class Session implements Host {
  readonly id = randomBytes(9).toString('base64url')
  readonly request: FastifyRequest
  readonly #rt: Runtime
  readonly #transport: Transport
  readonly #mailbox: Mailbox<Message>
  readonly #bucket: TokenBucket
  #state: State = 'new'
  #mounted: MountedView | undefined
  /** The app's session data from the page token: every mount of this session gets it. */
  #sessionData: unknown
  #version = 0
  #mounts = 0
  #sentTitle: string | undefined
  /** A server-initiated change is waiting for the client to catch up. */
  #dirty = false
  #flushTimer: unknown
  #tracker: Tracker | undefined
  /** The running message has been answered (every client message gets exactly one reply). */
  #replied = false
  #ended: Promise<void> | undefined

  constructor (runtime: Runtime, transport: Transport, request: FastifyRequest) {
    this.#rt = runtime
    this.#transport = transport
    this.request = request
    const { limits } = runtime.options
    this.#mailbox = new Mailbox<Message>(limits.mailbox, (m) => this.#handle(m), (err) => { this.log.error({ err }, 'live view mailbox failed') })
    this.#bucket = new TokenBucket(limits.eventsPerSecond, limits.eventBurst, runtime.clock.now())
    runtime.sessions.add(this)
  }

  /** The session's logger: the request's, with `lvSession` on every line (made when used). */
  get log (): FastifyBaseLogger { return this.request.log.child({ lvSession: this.id }) }
  get joined (): boolean { return this.#state === 'joined' }
  get closed (): boolean { return this.#state === 'closed' }
  get version (): number { return this.#version }
  /** The mounted view the page shows, once joined. */
  get mounted (): MountedView | undefined { return this.#mounted }
  get view (): LiveView | undefined { return this.#mounted?.view }
  /** The live root's HTML as last sent to the client. */
  get html (): string | undefined { return this.#mounted?.rendered?.html }
  get viewName (): string | undefined { return this.#mounted?.entry.name }

  /** Takes one inbound frame's text. Never throws: bad input gets a coded error frame. */
  receive (text: string): void {
    const state = this.#state
    if (state === 'closed') return
    const limits = this.#rt.options.limits
    const m = decodeClient(text, limits.maxDepth)
    if (m.kind === 'bad') {
      const err = m.deep === true ? new errors.FRAME_TOO_DEEP(limits.maxDepth) : new errors.FRAME_MALFORMED(m.detail)
      if (m.join === true && state === 'new') {
        this.#state = 'joining'
        return this.#refuseJoin(m.ref, err)
      }
      return this.#refuse(m.ref, err)
    }
    if (state === 'closing') return this.#refuse(m.ref, new errors.SHUTTING_DOWN())
    if (m.kind === 'join') {
      if (state !== 'new') return this.#refuse(m.ref, new errors.ALREADY_JOINED())
      this.#state = 'joining'
    } else {
      if (state === 'new') return this.#refuse(m.ref, new errors.JOIN_REQUIRED())
      if (m.kind !== 'sync' && !this.#bucket.take(this.#rt.clock.now())) return this.#refuse(m.ref, new errors.RATE_LIMITED(limits.eventsPerSecond))
    }
    if (!this.#mailbox.push(m)) this.#refuse(m.ref, new errors.MAILBOX_FULL(this.#mailbox.size))
  }

  /** Queues a server message for the mounted view's handleInfo; false when not taken. */
  info (msg: unknown): boolean { return this.#mounted !== undefined && this.post(this.#mounted, msg) }

  /** Runs every timer of the mounted view once now (testing API); returns how many. */
  fireTimers (): number { return this.#mounted?.fireTimers() ?? 0 }

  /** Resolves when the mailbox has nothing running or waiting. */
  idle (): Promise<void> { return this.#mailbox.idle() }

  /** Ends the session: waiting messages are dropped, effects stop, `terminate` runs once. */
  close (reason: TerminateReason = 'closed'): Promise<void> {
    if (this.#ended !== undefined) return this.#ended
    this.#state = 'closed'
    this.#mailbox.close()
    this.#rt.clock.clearTimeout(this.#flushTimer)
    this.#rt.sessions.delete(this)
    const mounted = this.#mounted
    mounted?.dispose()
    this.#ended = this.#mailbox.idle().then(async () => { await mounted?.terminate(reason) })
    return this.#ended
  }

  /**
   * Ends the session for a server shutdown: waiting messages are refused, the running one
   * may finish and reply until `deadline`, then the socket closes (1001) and `terminate` runs.
   */
  async shutdown (deadline: number): Promise<void> {
    if (this.#state !== 'closed') {
      this.#state = 'closing'
      const refused = new errors.SHUTTING_DOWN()
      for (const m of this.#mailbox.drain()) if ('ref' in m && m.ref > 0) this.#sendError(m.ref, refused)
      await this.#until(this.#mailbox.idle(), deadline)
      this.#transport.close(CLOSE_GOING_AWAY, refused.code)
    }
    await this.#until(this.close('shutdown'), deadline)
  }

  // --- Host: what mounted views ask ------------------------------------------------------

  post (to: MountedView, msg: unknown, timer?: Timer): boolean {
    if (this.#state !== 'joined' && this.#state !== 'joining') return false
    if (this.#mailbox.push({ kind: 'info', msg, to, timer })) return true
    this.log.warn({ view: to.entry.name, code: 'FST_LIVEVIEW_MAILBOX_FULL' }, 'live view mailbox full: server message dropped')
    return false
  }

  sendFor (to: MountedView, frame: string): boolean {
    if (to !== this.#mounted || this.#state !== 'joined') return false
    this.#transport.send(frame)
    return true
  }

  changeUrl (to: MountedView, url: URL): void {
    if (!this.#mailbox.push({ kind: 'goto', to, url })) this.log.warn({ code: 'FST_LIVEVIEW_MAILBOX_FULL' }, 'live view URL change dropped')
  }

  redirectNow (to: MountedView, url: string): void {
    if (to === this.#mounted && this.#state === 'joined') this.#redirect(to, url, to.flash)
  }

  // --- Messages --------------------------------------------------------------------------

  #handle (m: Message): void | Promise<void> {
    if (this.#state === 'closed') return
    this.#replied = false
    let result: void | Promise<void>
    try {
      result = this.#dispatch(m)
    } catch (err) {
      return this.#failed(m, err)
    }
    if (result !== undefined) return result.then(undefined, (err: unknown) => { this.#failed(m, err) })
  }

  /** The last resort: a message failed outside a view callback. It is answered all the same. */
  #failed (m: Message, err: unknown): void {
    this.log.error({ err, code: 'FST_LIVEVIEW_MESSAGE_FAILED' }, 'live view session failed a message')
    const mounted = this.#mounted
    if (mounted !== undefined) {
      mounted.out = undefined
      this.#tracker?.rollback(mounted.view)
    }
    if ('ref' in m && m.ref > 0 && !this.#replied) this.#sendError(m.ref, new errors.MESSAGE_FAILED(detail(this.#rt.options.production, err)))
  }

  #dispatch (m: Message): void | Promise<void> {
    switch (m.kind) {
      case 'join': return this.#join(m.ref, m.payload)
      case 'event': return this.#event(m)
      case 'sync': return this.#sync(m.ref)
      case 'url': return this.#url(m.ref, m.url)
      case 'goto': return m.to === this.#mounted ? this.#url(0, m.url.href) : undefined
      case 'info':
        if (m.timer !== undefined) m.timer.waiting = false
        if (m.to !== this.#mounted || this.#state !== 'joined') return
        if (m.to.view.handleInfo === undefined) {
          this.log.warn({ view: m.to.entry.name }, 'live view got a server message but has no handleInfo')
          return
        }
        return this.#step(0, m.to, 'handleInfo', false, () => m.to.view.handleInfo!(m.msg))
      case 'flush': return m.to === this.#mounted && this.#dirty ? this.#flush(m.to) : undefined
    }
  }

  async #join (ref: number, p: JoinPayload): Promise<void> {
    const rt = this.#rt
    let claims
    let match: RouteMatch | undefined
    let url: URL
    try {
      if (p.v !== PROTOCOL_VERSION) throw new errors.PROTOCOL_MISMATCH(String(p.v), PROTOCOL_VERSION)
      claims = rt.tokens.verify(p.token)
      try { url = new URL(p.url) } catch { throw new errors.FRAME_MALFORMED('join url is not a URL') }
      match = rt.registry.match(url)
      if (match === undefined) throw new errors.ROUTE_NOT_FOUND(url.pathname)
      if (match.pattern !== claims.route) throw new errors.TOKEN_ROUTE_MISMATCH(claims.route, url.pathname)
    } catch (err) {
      return this.#refuseJoin(ref, err as CodedError)
    }
    this.#sessionData = claims.session
    const mounted = new MountedView(rt, this, undefined, match, url.href, ++this.#mounts)
    const out = mounted.out = new Outcome()
    let html: string | undefined
    try {
      html = await mounted.start(match.params, claims.session, url, p.pristine === true ? claims.flash : undefined)
    } catch (err) {
      mounted.dispose()
      this.log.error({ err, view: match.entry.name }, 'live view mount failed')
      this.#refuseJoin(ref, isCoded(err) ? err : new errors.MOUNT_FAILED(match.entry.name, detail(rt.options.production, err)))
      await mounted.terminate('error')
      return
    }
    mounted.out = undefined
    if (this.#state !== 'joining' || html === undefined) {
      // Closed meanwhile, or the view sent the browser elsewhere from mount.
      mounted.dispose()
      if (html === undefined && this.#state === 'joining') {
        this.#redirect(mounted, out.redirect ?? out.navigate!.href, mounted.flash)
        this.#transport.close(1000, 'redirect')
      }
      await mounted.terminate('closed')
      return
    }
    this.#mounted = mounted
    this.#state = 'joined'
    this.#transport.joined?.()
    mounted.rendered = new Rendered(html)
    this.#version = 0
    this.#sentTitle = mounted.pageTitle
    const shown = p.pristine === true && renderHash(html) === claims.renderHash
    this.#reply(ref, mountFrame(ref, {
      id: mounted.id,
      version: 0,
      ...(shown ? {} : { html }),
      title: mounted.pageTitle,
      ...(mounted.url === url.href ? {} : { url: mounted.url })
    }))
    this.#sendAll(out.pushes)
    this.log.info({ view: match.entry.name, route: match.pattern }, 'live view joined')
  }

  #refuseJoin (ref: number, err: CodedError): void {
    this.log.warn({ code: err.code, ref }, `live view join refused: ${err.message}`)
    // A retry cannot cure a refused join: the page reloads (the client bounds how often).
    this.#sendError(ref, err, { reload: true })
    this.#transport.close(CLOSE_JOIN_REFUSED, err.code)
  }

  #event (m: Extract<Message, { kind: 'event' }>): void | Promise<void> {
    const mounted = this.#mounted
    if (this.#state !== 'joined' || mounted === undefined) return this.#sendError(m.ref, new errors.JOIN_REQUIRED())
    if (m.mount !== mounted.id) return this.#refuse(m.ref, new errors.EVENT_STALE(m.name, m.mount, mounted.id))
    const { entry, view } = mounted
    const event = entry.events.get(m.name)
    if (event === undefined) return this.#refuse(m.ref, new errors.EVENT_UNKNOWN(entry.name, m.name))
    if (event.validate !== undefined && !event.validate(m.params)) {
      const problems = (event.validate.errors ?? []).map((e) => `${e.instancePath || 'params'} ${e.message ?? 'is invalid'}`).join('; ')
      return this.#refuse(m.ref, new errors.PARAMS_INVALID(m.name, problems))
    }
    const handler = (view as unknown as Record<string, (p: unknown) => unknown>)[m.name]!
    return this.#step(m.ref, mounted, m.name, true, () => handler.call(view, m.params))
  }

  /** The page's URL changed (ref > 0: a link, back, forward), or the view asked (ref 0). */
  #url (ref: number, href: string): void | Promise<void> {
    const mounted = this.#mounted
    if (this.#state !== 'joined' || mounted === undefined) return ref === 0 ? undefined : this.#sendError(ref, new errors.JOIN_REQUIRED())
    let target: URL | undefined
    try { target = new URL(href, mounted.url) } catch {}
    const match = target === undefined || target.origin !== new URL(mounted.url).origin ? undefined : this.#rt.registry.match(target)
    if (target === undefined || match === undefined) {
      if (ref !== 0) this.#refuse(ref, new errors.PATCH_REFUSED(href, mounted.pattern), target === undefined ? undefined : { url: target.href })
      return
    }
    if (match.pattern !== mounted.pattern) return this.#navigate(ref, target, match)
    const view = mounted.view
    const to = target
    // Within the route: handleParams, no remount. The client pushed its own URL; a URL the
    // view asked for goes to the client after the update.
    return this.#step(ref, mounted, 'handleParams', ref !== 0, ref === 0
      ? () => { mounted.out!.patch = { url: to, params: match.params } }
      : () => {
          mounted.url = to.href
          return view.handleParams?.(match.params, to)
        })
  }

  /**
   * Runs one message for the view the page shows: the handler (and the handleParams of a URL
   * it patched to) with its writes tracked, then the render. On failure the view's data,
   * flash, title and URL go back as they were and the outcome is dropped; on success the
   * outcome is applied, in one order.
   */
  async #step (ref: number, mounted: MountedView, what: string, user: boolean, work: () => unknown): Promise<void> {
    const view = mounted.view
    const out = mounted.out = new Outcome()
    const { flash, title, url } = mounted
    const tracker = this.#rt.rollback ? (this.#tracker ??= new Tracker()) : undefined
    tracker?.begin(view)
    let html: string | undefined
    let carried: Record<string, string> | undefined
    let rendering = false
    try {
      // Flash messages are shown by one render: the user's next action starts without them.
      if (user) mounted.flash = NO_FLASH
      let returned = mounted.timed(what, work)
      if (returned instanceof Promise) returned = await returned
      const patch = out.patch
      if (patch !== undefined) {
        mounted.url = patch.url.href
        if (view.handleParams !== undefined) {
          const r = mounted.timed('handleParams', () => view.handleParams!(patch.params, patch.url))
          if (r instanceof Promise) await r
        }
      }
      tracker?.seal(view)
      if (returned !== undefined) out.value = JSON.stringify(returned)
      if (out.leaving) {
        // The flash set now is for the page the view goes to.
        carried = mounted.flash
        mounted.flash = user ? NO_FLASH : flash
      }
      if (ref !== 0 || this.#transport.backlog() <= this.#rt.options.limits.coalesceBytes) {
        rendering = true
        const rendered = mounted.render()
        html = typeof rendered === 'string' ? rendered : await rendered
      }
    } catch (err) {
      tracker?.rollback(view)
      mounted.flash = flash
      mounted.title = title
      mounted.url = url
      mounted.out = undefined
      // A render error keeps its code (context, template); whatever a handler throws is its failure.
      const coded = rendering && isCoded(err)
        ? err
        : what === 'handleInfo'
          ? new errors.INFO_FAILED(mounted.entry.name, detail(this.#rt.options.production, err))
          : new errors.HANDLER_FAILED(what, mounted.entry.name, detail(this.#rt.options.production, err))
      this.log.error({ err, view: mounted.entry.name, event: what, code: coded.code }, 'live view handler failed')
      if (ref !== 0) this.#sendError(ref, coded)
      return
    }
    tracker?.commit()
    mounted.out = undefined
    if (this.#state !== 'joined' && this.#state !== 'closing') return
    if (html === undefined) this.#markDirty(mounted)
    else this.#update(ref, mounted, html, out.value)
    if (out.patch !== undefined) this.#transport.send(urlFrame(mounted.url))
    this.#sendTitle(mounted)
    this.#sendAll(out.pushes)
    if (out.redirect !== undefined) return this.#redirect(mounted, out.redirect, carried)
    const match = out.navigate === undefined ? undefined : this.#rt.registry.match(out.navigate)
    if (match !== undefined) await this.#navigate(0, out.navigate!, match, carried)
  }

  /** Re-renders are diffed against what the page shows and sent as a patch, full HTML, or an ack. */
  #update (ref: number, mounted: MountedView, html: string, value?: string): void {
    const next = new Rendered(html)
    const patch = diffRendered(mounted.rendered!, next)
    mounted.rendered = next
    this.#dirty = false
    if (patch === undefined || (patch !== FULL_HTML && patch.length === 0)) {
      if (ref !== 0) this.#reply(ref, okFrame(ref, this.#version, value))
      return
    }
    const version = ++this.#version
    const json = patch === FULL_HTML ? undefined : JSON.stringify(patch)
    this.#reply(ref, json === undefined || json.length >= html.length ? htmlFrame(ref, version, html, value) : patchFrame(ref, version, json, value))
  }

  async #flush (mounted: MountedView): Promise<void> {
    let html: string
    try {
      html = await mounted.render()
    } catch (err) {
      this.log.error({ err, view: mounted.entry.name }, 'live view render failed')
      return
    }
    this.#update(0, mounted, html)
  }

  async #sync (ref: number): Promise<void> {
    const mounted = this.#mounted
    if (this.#state !== 'joined' || mounted === undefined) return this.#sendError(ref, new errors.JOIN_REQUIRED())
    let html: string
    try {
      html = await mounted.render()
    } catch (err) {
      return this.#sendError(ref, isCoded(err) ? err : new errors.RENDER_FAILED(mounted.entry.name, detail(this.#rt.options.production, err)))
    }
    mounted.rendered = new Rendered(html)
    this.#dirty = false
    this.#reply(ref, htmlFrame(ref, ++this.#version, html))
  }

  /**
   * Mounts another live route's view on this socket, atomically: the new view mounts and
   * renders, and only then replaces the old one (whose effects end, then its `terminate`
   * runs); the page gets it whole in one frame. When the new view fails, the old one stays
   * as it was, what the new one started is ended, and the client loads the URL in full.
   */
  async #navigate (ref: number, target: URL, match: RouteMatch, flash?: Record<string, string>): Promise<void> {
    const rt = this.#rt
    const next = new MountedView(rt, this, undefined, match, target.href, ++this.#mounts)
    const out = next.out = new Outcome()
    let html: string | undefined
    try {
      html = await next.start(match.params, this.#sessionData, target, flash)
    } catch (err) {
      next.dispose()
      this.log.error({ err, view: match.entry.name }, 'live view mount failed on navigation')
      const coded = isCoded(err) ? err : new errors.MOUNT_FAILED(match.entry.name, detail(rt.options.production, err))
      this.#sendError(ref, coded, { url: target.href })
      await next.terminate('error')
      return
    }
    next.out = undefined
    const old = this.#mounted
    if (this.#state !== 'joined' || old === undefined || html === undefined) {
      next.dispose()
      if (html === undefined && this.#state === 'joined') {
        // The new view sent the browser elsewhere from mount: the page loads that instead.
        if (ref !== 0) this.#reply(ref, okFrame(ref, this.#version))
        this.#redirect(next, out.redirect ?? out.navigate!.href, next.flash)
      }
      await next.terminate('closed')
      return
    }
    this.#mounted = next
    this.#dirty = false
    old.dispose()
    next.rendered = new Rendered(html)
    this.#sentTitle = next.pageTitle
    const token = rt.tokens.sign(match.pattern, this.#sessionData, renderHash(html), next.flash === NO_FLASH ? undefined : next.flash)
    this.#reply(ref, mountFrame(ref, { id: next.id, version: ++this.#version, html, token, title: next.pageTitle, url: next.url }))
    this.#sendAll(out.pushes)
    this.log.info({ view: match.entry.name, route: match.pattern }, 'live view navigated')
    await old.terminate('closed')
  }

  /** Sends the browser to `url`; a same-origin one carries the flash along (signed). */
  #redirect (mounted: MountedView, url: string, flash: Record<string, string> | undefined): void {
    let carrier: string | undefined
    if (flash !== undefined && flash !== NO_FLASH && Object.keys(flash).length > 0) {
      let target: URL | undefined
      try { target = new URL(url, mounted.url) } catch {}
      if (target !== undefined && target.origin === new URL(mounted.url).origin) carrier = this.#rt.tokens.signFlash(flash)
    }
    this.#transport.send(redirectFrame(url, carrier))
  }

  #sendTitle (mounted: MountedView): void {
    const title = mounted.pageTitle
    if (title === this.#sentTitle) return
    this.#sentTitle = title
    this.#transport.send(titleFrame(title))
  }

  #sendAll (frames: string[] | undefined): void {
    if (frames !== undefined) for (const frame of frames) this.#transport.send(frame)
  }

  #markDirty (mounted: MountedView): void {
    this.#dirty = true
    if (this.#flushTimer !== undefined) return
    const clock = this.#rt.clock
    const poll = (): void => {
      this.#flushTimer = undefined
      if (this.#state !== 'joined' || !this.#dirty || mounted !== this.#mounted) return
      if (this.#transport.backlog() <= this.#rt.options.limits.coalesceBytes) this.#mailbox.push({ kind: 'flush', to: mounted })
      else this.#flushTimer = clock.setTimeout(poll, FLUSH_POLL_MS)
    }
    this.#flushTimer = clock.setTimeout(poll, FLUSH_POLL_MS)
  }

  #reply (ref: number, frame: string): void {
    if (ref !== 0) this.#replied = true
    this.#transport.send(frame)
  }

  #refuse (ref: number, err: CodedError, extra?: Partial<ErrorPayload>): void {
    this.log.debug({ code: err.code, ref }, err.message)
    this.#sendError(ref, err, extra)
  }

  #sendError (ref: number, err: CodedError, extra?: Partial<ErrorPayload>): void {
    this.#reply(ref, errorFrame(ref, { code: err.code, message: err.message, ...extra }))
  }

  async #until (work: Promise<unknown>, deadline: number): Promise<void> {
    const clock = this.#rt.clock
    let timer: unknown
    await Promise.race([work, new Promise<void>((resolve) => { timer = clock.setTimeout(resolve, Math.max(0, deadline - clock.now())) })])
    clock.clearTimeout(timer)
  }
}

export type { Params }

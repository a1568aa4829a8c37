import { randomBytes } from 'node:crypto'
import type { FastifyBaseLogger, FastifyRequest } from 'fastify'
import { FULL_HTML, Rendered, diffRendered } from './diff.js'
import { errors, describe, isCoded, type CodedError } from './errors.js'
import { Mailbox } from './mailbox.js'
import {
  CLOSE_JOIN_REFUSED, OP_ERROR, OP_EVENT, OP_HTML, OP_JOIN, OP_OK, OP_PATCH, OP_PATCH_URL, OP_PUSH, OP_REDIRECT, OP_SYNC, OP_TITLE, OP_TOKEN, OP_URL, PROTOCOL_VERSION,
  type ErrorPayload, type JoinPayload
} from './protocol.js'
import { TokenBucket } from './rate-limit.js'
import type { ViewEntry } from './registry.js'
import { renderHash, renderView } from './render.js'
import type { Runtime } from './runtime.js'
import { restore, snapshot } from './snapshot.js'
import { NO_FLASH, kLive, type LiveView, type Params, type TerminateReason } from './view.js'

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
  | { kind: 'join', ref: number, payload: unknown }
  | { kind: 'event', ref: number, name: string, params: Record<string, unknown> }
  | { kind: 'sync', ref: number }
  | { kind: 'patch', ref: number, url: string }
  | { kind: 'info', msg: unknown, timer?: Timer }
  | { kind: 'flush' }

type State = 'new' | 'joining' | 'joined' | 'closed'

/** A timer a view started (`every`, `after`): its message waits in the mailbox at most once. */
interface Timer { handle: NodeJS.Timeout, msg: unknown, repeat: boolean, waiting: boolean }

const FLUSH_POLL_MS = 25

/**
 * The session actor of one connection: it holds the view, runs its messages one at a
 * time through a bounded mailbox, re-renders and sends each change as a diff.
 */
export class Session {
  readonly id = randomBytes(9).toString('base64url')
  readonly #rt: Runtime
  readonly #transport: Transport
  readonly #request: FastifyRequest
  readonly #mailbox: Mailbox<Message>
  readonly #bucket: TokenBucket
  #state: State = 'new'
  #entry: ViewEntry | undefined
  #view: LiveView | undefined
  #rendered: Rendered | undefined
  #version = 0
  /** A server-initiated change is waiting for the client to catch up. */
  #dirty = false
  #flushTimer: NodeJS.Timeout | undefined
  /** Events the view pushed while a message runs: sent after its reply or update. */
  #pushes: string[] | undefined
  #busy = false
  /** Timers and subscriptions the view started: they end with the session. */
  #timers: Set<Timer> | undefined
  #subscriptions: Map<string, () => void> | undefined
  /** The route pattern of the mounted view, and the page's URL now. */
  #pattern = ''
  #url = ''
  /** A URL the view patched to during the current message (pushPatch). */
  #pendingPatch: { url: URL, params: Params } | undefined
  /** The title the page shows. */
  #title: string | undefined
  /** The app's session data from the page token: a navigation mounts the next view with it. */
  #sessionData: unknown

  constructor (runtime: Runtime, transport: Transport, request: FastifyRequest) {
    this.#rt = runtime
    this.#transport = transport
    this.#request = request
    const { limits } = runtime.options
    this.#mailbox = new Mailbox<Message>(limits.mailbox, (m) => this.#handle(m), (err) => {
      this.log.error({ err }, 'live view session failed a message')
    })
    this.#bucket = new TokenBucket(limits.eventsPerSecond, limits.eventBurst)
    runtime.sessions.add(this)
  }

  /**
   * The session's logger: the request's, with `lvSession` on every line. Made when used (logs
   * are rare), so an idle session keeps no logger of its own.
   */
  get log (): FastifyBaseLogger { return this.#request.log.child({ lvSession: this.id }) }

  get joined (): boolean { return this.#state === 'joined' }
  get closed (): boolean { return this.#state === 'closed' }
  get version (): number { return this.#version }
  /** The mounted view, once joined. */
  get view (): LiveView | undefined { return this.#view }
  /** The live root's HTML as last sent to the client, once joined. */
  get html (): string | undefined { return this.#rendered?.html }
  /** Name of the mounted view class, once joined. */
  get viewName (): string | undefined { return this.#entry?.name }

  /** Takes one inbound frame's text. Never throws: bad input gets a coded error frame. */
  receive (text: string): void {
    if (this.#state === 'closed') return
    let frame: unknown
    try {
      frame = JSON.parse(text)
    } catch {
      return this.#refuse(0, new errors.FRAME_MALFORMED('not JSON'))
    }
    if (!Array.isArray(frame) || frame.length < 2) return this.#refuse(0, new errors.FRAME_MALFORMED('expected [ref, op, ...]'))
    const ref = frame[0] as unknown
    const op = frame[1] as unknown
    if (typeof ref !== 'number' || !Number.isSafeInteger(ref) || ref <= 0) return this.#refuse(0, new errors.FRAME_MALFORMED('ref must be a positive integer'))
    if (op === OP_EVENT) {
      const name = frame[2] as unknown
      const params = frame[3] as unknown ?? {}
      if (typeof name !== 'string' || params === null || typeof params !== 'object' || Array.isArray(params) || frame.length > 4) {
        return this.#refuse(ref, new errors.FRAME_MALFORMED('expected [ref, "e", name, params]'))
      }
      if (this.#state !== 'joined' && this.#state !== 'joining') return this.#refuse(ref, new errors.JOIN_REQUIRED())
      if (!this.#bucket.take()) return this.#refuse(ref, new errors.RATE_LIMITED(this.#rt.options.limits.eventsPerSecond))
      return this.#enqueue(ref, { kind: 'event', ref, name, params: params as Record<string, unknown> })
    }
    if (op === OP_JOIN) {
      if (this.#state !== 'new') return this.#refuse(ref, new errors.ALREADY_JOINED())
      this.#state = 'joining'
      return this.#enqueue(ref, { kind: 'join', ref, payload: frame[2] })
    }
    if (op === OP_SYNC) {
      if (this.#state !== 'joined' && this.#state !== 'joining') return this.#refuse(ref, new errors.JOIN_REQUIRED())
      return this.#enqueue(ref, { kind: 'sync', ref })
    }
    if (op === OP_PATCH_URL) {
      const url = frame[2] as unknown
      if (typeof url !== 'string' || url.length > 8192) return this.#refuse(ref, new errors.FRAME_MALFORMED('expected [ref, "patch", url]'))
      if (this.#state !== 'joined' && this.#state !== 'joining') return this.#refuse(ref, new errors.JOIN_REQUIRED())
      if (!this.#bucket.take()) return this.#refuse(ref, new errors.RATE_LIMITED(this.#rt.options.limits.eventsPerSecond))
      return this.#enqueue(ref, { kind: 'patch', ref, url })
    }
    return this.#refuse(ref, new errors.FRAME_MALFORMED(`unknown op ${JSON.stringify(op)}`))
  }

  /**
   * Queues a server-originated message for the view's `handleInfo`. Returns false when the
   * session is not joined, is closed, or its mailbox is full (the message is dropped and logged).
   */
  info (msg: unknown): boolean {
    if (this.#state !== 'joined' && this.#state !== 'joining') return false
    if (this.#mailbox.push({ kind: 'info', msg })) return true
    this.log.warn({ view: this.viewName, code: 'FST_LIVEVIEW_MAILBOX_FULL' }, 'live view mailbox full: server message dropped')
    return false
  }

  /** Resolves when the mailbox has nothing running or waiting. */
  idle (): Promise<void> { return this.#mailbox.idle() }

  /** Subscribes the session to a PubSub topic (see LiveView#subscribe). */
  subscribe (topic: string): boolean {
    if (this.#state !== 'joined' && this.#state !== 'joining') return false
    if (typeof topic !== 'string' || topic === '') return false
    this.#subscriptions ??= new Map()
    if (this.#subscriptions.has(topic)) return true
    this.#subscriptions.set(topic, this.#rt.pubsub.subscribe(topic, (msg) => { this.info(msg) }))
    return true
  }

  unsubscribe (topic: string): boolean {
    const off = this.#subscriptions?.get(topic)
    if (off === undefined) return false
    this.#subscriptions!.delete(topic)
    off()
    return true
  }

  /** Starts a timer whose message reaches handleInfo (see LiveView#every and #after). */
  timer (ms: number, msg: unknown, repeat: boolean): () => void {
    if ((this.#state !== 'joined' && this.#state !== 'joining') || !(ms >= 0)) return () => {}
    const timers = this.#timers ??= new Set()
    const timer: Timer = { handle: undefined as unknown as NodeJS.Timeout, msg, repeat, waiting: false }
    const fire = (): void => {
      if (!repeat) timers.delete(timer)
      this.#fire(timer)
    }
    timer.handle = repeat ? setInterval(fire, ms) : setTimeout(fire, ms)
    timers.add(timer)
    return () => {
      clearTimeout(timer.handle)
      timers.delete(timer)
    }
  }

  /** Runs every timer of the session once now (the testing API's way to move time). */
  fireTimers (): number {
    const timers = [...(this.#timers ?? [])]
    for (const timer of timers) {
      if (!timer.repeat) {
        clearTimeout(timer.handle)
        this.#timers!.delete(timer)
      }
      this.#fire(timer)
    }
    return timers.length
  }

  #fire (timer: Timer): void {
    // A tick that finds the last one still waiting is skipped: ticks never pile up.
    if (timer.waiting || this.#state !== 'joined') return
    // Set before the push: the mailbox may run the message at once.
    timer.waiting = true
    if (!this.#mailbox.push({ kind: 'info', msg: timer.msg, timer })) timer.waiting = false
  }

  /** Ends the session: drops waiting messages, stops timers, calls the view's `terminate` once. */
  async close (reason: TerminateReason = 'closed'): Promise<void> {
    if (this.#state === 'closed') return
    this.#state = 'closed'
    this.#mailbox.close()
    clearTimeout(this.#flushTimer)
    for (const timer of this.#timers ?? []) clearTimeout(timer.handle)
    this.#timers = undefined
    for (const off of this.#subscriptions?.values() ?? []) off()
    this.#subscriptions = undefined
    this.#rt.sessions.delete(this)
    await this.#mailbox.idle()
    const view = this.#view
    if (view?.terminate !== undefined) {
      try {
        await view.terminate(reason)
      } catch (err) {
        this.log.error({ err, view: this.viewName }, 'live view terminate failed')
      }
    }
  }

  #enqueue (ref: number, message: Message): void {
    if (!this.#mailbox.push(message)) this.#refuse(ref, new errors.MAILBOX_FULL(this.#mailbox.size))
  }

  #refuse (ref: number, err: CodedError): void {
    this.log.debug({ code: err.code, ref }, err.message)
    this.#sendError(ref, err)
  }

  #sendError (ref: number, err: CodedError, reload = false): void {
    const payload: ErrorPayload = { code: err.code, message: err.message }
    if (reload) payload.reload = true
    this.#transport.send(JSON.stringify([ref, OP_ERROR, payload]))
  }

  /**
   * Sends the client an event for its hooks (`[0, "ev", event, payload]`). During a message it
   * goes after that message's reply or update, and is dropped if the message fails.
   */
  push (event: string, payload: unknown): boolean {
    if (this.#state !== 'joined' || typeof event !== 'string' || event === '') return false
    let frame: string
    try {
      frame = `[0,"${OP_PUSH}",${JSON.stringify(event)},${JSON.stringify(payload ?? null)}]`
    } catch (err) {
      this.log.error({ err, view: this.viewName, event }, 'live view pushEvent payload is not JSON')
      return false
    }
    this.#queue(frame)
    return true
  }

  /** The view patched the URL (see LiveView#pushPatch): handled when its message is done. */
  patchUrl (url: string): void {
    if (this.#state !== 'joined') return
    const target = this.#resolve(url)
    const match = target === undefined ? undefined : this.#rt.registry.match(target)
    if (target === undefined || match === undefined || match.pattern !== this.#pattern) {
      throw new errors.PATCH_REFUSED(url, this.#pattern)
    }
    if (this.#busy) this.#pendingPatch = { url: target, params: match.params }
    else this.#mailbox.push({ kind: 'patch', ref: 0, url: target.href })
  }

  /** The view navigates to another live route (see LiveView#pushNavigate). */
  navigate (url: string): void {
    if (this.#state !== 'joined') return
    const target = this.#resolve(url)
    if (target === undefined || this.#rt.registry.match(target) === undefined) throw new errors.PATCH_REFUSED(url, this.#pattern)
    // After the current message: a message of its own.
    if (!this.#mailbox.push({ kind: 'patch', ref: 0, url: target.href })) this.log.warn({ code: 'FST_LIVEVIEW_MAILBOX_FULL' }, 'live view navigation dropped')
  }

  /** The view sends the browser elsewhere (see LiveView#redirect). */
  redirect (url: string): void {
    if (this.#state !== 'joined') return
    this.#queue(`[0,"${OP_REDIRECT}",${JSON.stringify(String(url))}]`)
  }

  #queue (frame: string): void {
    if (!this.#busy) this.#transport.send(frame)
    else (this.#pushes ??= []).push(frame)
  }

  #resolve (url: string): URL | undefined {
    try { return new URL(url, this.#url) } catch { return undefined }
  }

  #handle (m: Message): void | Promise<void> {
    if (this.#state === 'closed') return
    this.#busy = true
    const result = this.#dispatch(m)
    if (result === undefined) return this.#done()
    return result.finally(() => { this.#done() })
  }

  #done (): void {
    this.#busy = false
    const title = this.#view?.pageTitle ?? this.#entry?.title
    if (this.#state === 'joined' && title !== this.#title) {
      this.#title = title
      ;(this.#pushes ??= []).push(`[0,"${OP_TITLE}",${JSON.stringify(title)}]`)
    }
    const pushes = this.#pushes
    if (pushes === undefined) return
    this.#pushes = undefined
    if (this.#state === 'closed') return
    for (const frame of pushes) this.#transport.send(frame)
  }

  #dispatch (m: Message): void | Promise<void> {
    switch (m.kind) {
      case 'event': return this.#event(m.ref, m.name, m.params)
      case 'info':
        if (m.timer !== undefined) m.timer.waiting = false
        return this.#info(m.msg)
      case 'join': return this.#join(m.ref, m.payload)
      case 'sync': return this.#sync(m.ref)
      case 'patch': return this.#patch(m.ref, m.url)
      case 'flush': return this.#flush()
    }
  }

  async #join (ref: number, payload: unknown): Promise<void> {
    const rt = this.#rt
    let claims
    let match
    try {
      const p = payload as Partial<JoinPayload> | null
      if (p === null || typeof p !== 'object' || typeof p.url !== 'string') throw new errors.FRAME_MALFORMED('expected [ref, "join", { v, token, url }]')
      if (p.v !== PROTOCOL_VERSION) throw new errors.PROTOCOL_MISMATCH(String(p.v), PROTOCOL_VERSION)
      claims = rt.tokens.verify(p.token)
      let url: URL
      try { url = new URL(p.url) } catch { throw new errors.FRAME_MALFORMED('join url is not a URL') }
      match = rt.registry.match(url)
      if (match === undefined) throw new errors.ROUTE_NOT_FOUND(url.pathname)
      if (match.pattern !== claims.route) throw new errors.TOKEN_ROUTE_MISMATCH(claims.route, url.pathname)
    } catch (err) {
      return this.#refuseJoin(ref, err as CodedError)
    }
    const { entry, params } = match
    this.#entry = entry
    this.#pattern = match.pattern
    this.#url = String((payload as JoinPayload).url)
    this.#sessionData = claims.session
    const view = rt.instantiate(entry, this.#request, this.id, this)
    this.#view = view
    let html: string
    try {
      if (view.mount !== undefined) await this.#timed('mount', () => view.mount!(params, claims.session))
      if (view.handleParams !== undefined) await this.#timed('handleParams', () => view.handleParams!(params, new URL(this.#url)))
      if (this.#state === 'closed') return
      html = await renderView(rt.templates, entry, view)
    } catch (err) {
      this.log.error({ err, view: entry.name }, 'live view mount failed')
      const coded = isCoded(err) ? err : new errors.MOUNT_FAILED(entry.name, this.#detail(err))
      this.#refuseJoin(ref, coded)
      // Not awaited: close() waits for the mailbox to be idle, and this message is running in it.
      void this.close('error')
      return
    }
    if ((this.#state as State) === 'closed') return
    this.#state = 'joined'
    this.#title = view.pageTitle ?? entry.title
    this.#transport.joined?.()
    this.#rendered = new Rendered(html)
    this.#version = 0
    this.log.info({ view: entry.name, route: match.pattern }, 'live view joined')
    if (renderHash(html) === claims.renderHash) this.#transport.send(`[${ref},"${OP_OK}",0]`)
    else this.#transport.send(`[${ref},"${OP_HTML}",0,${JSON.stringify(html)}]`)
  }

  #refuseJoin (ref: number, err: CodedError): void {
    const code = err.code
    const reload = code === 'FST_LIVEVIEW_TOKEN_EXPIRED' || code === 'FST_LIVEVIEW_PROTOCOL_MISMATCH'
    this.log.warn({ code, ref }, `live view join refused: ${err.message}`)
    this.#sendError(ref, err, reload)
    this.#transport.close(CLOSE_JOIN_REFUSED, code)
  }

  async #event (ref: number, name: string, params: Record<string, unknown>): Promise<void> {
    if (this.#state !== 'joined') return this.#sendError(ref, new errors.JOIN_REQUIRED())
    const entry = this.#entry!
    const view = this.#view!
    const event = entry.events.get(name)
    if (event === undefined) return this.#refuse(ref, new errors.EVENT_UNKNOWN(entry.name, name))
    if (event.validate !== undefined && !event.validate(params)) {
      const detail = (event.validate.errors ?? []).map((e) => `${e.instancePath || 'params'} ${e.message ?? 'is invalid'}`).join('; ')
      return this.#refuse(ref, new errors.PARAMS_INVALID(name, detail))
    }
    const snap = snapshot(view)
    const flash = view[kLive].flash
    let value: string | undefined
    try {
      // Flash messages are shown by one render: the next event starts without them.
      view[kLive].flash = NO_FLASH
      const handler = (view as unknown as Record<string, (p: unknown) => unknown>)[name]!
      const returned = await this.#timed(name, () => handler.call(view, params))
      // The handler's value goes back with the reply (hooks' pushEvent resolves with it).
      if (returned !== undefined) value = JSON.stringify(returned)
      await this.#applyPatch()
    } catch (err) {
      restore(view, snap)
      view[kLive].flash = flash
      this.#pendingPatch = undefined
      this.#pushes = undefined
      this.log.error({ err, view: entry.name, event: name }, 'live view handler failed')
      return this.#sendError(ref, new errors.HANDLER_FAILED(name, entry.name, this.#detail(err)))
    }
    await this.#update(ref, snap, value)
  }

  async #info (msg: unknown): Promise<void> {
    if (this.#state !== 'joined') return
    const entry = this.#entry!
    const view = this.#view!
    if (view.handleInfo === undefined) {
      this.log.warn({ view: entry.name }, 'live view got a server message but has no handleInfo')
      return
    }
    const snap = snapshot(view)
    try {
      await this.#timed('handleInfo', () => view.handleInfo!(msg))
      await this.#applyPatch()
    } catch (err) {
      restore(view, snap)
      this.#pendingPatch = undefined
      this.#pushes = undefined
      this.log.error({ err, view: entry.name, code: 'FST_LIVEVIEW_INFO_FAILED' }, 'live view handleInfo failed')
      return
    }
    if (this.#transport.backlog() > this.#rt.options.limits.coalesceBytes) {
      // The client is behind: keep only the latest state and send it once it catches up.
      this.#markDirty()
      return
    }
    await this.#update(0, snap)
  }

  async #flush (): Promise<void> {
    if (!this.#dirty || this.#state !== 'joined') return
    await this.#update(0, snapshot(this.#view!))
  }

  /** The client's URL changed (an lv-patch link, back, forward), or the view patched it. */
  async #patch (ref: number, url: string): Promise<void> {
    if (this.#state !== 'joined') return this.#sendError(ref, new errors.JOIN_REQUIRED())
    const view = this.#view!
    const target = this.#resolve(url)
    const match = target === undefined ? undefined : this.#rt.registry.match(target)
    if (target === undefined || match === undefined) {
      if (ref === 0) return
      return this.#refuse(ref, new errors.PATCH_REFUSED(url, this.#pattern))
    }
    if (match !== undefined && match.pattern !== this.#pattern) return await this.#navigate(ref, target!, match)
    const snap = snapshot(view)
    const flash = view[kLive].flash
    if (ref !== 0) view[kLive].flash = NO_FLASH
    try {
      this.#url = target.href
      if (view.handleParams !== undefined) await this.#timed('handleParams', () => view.handleParams!(match.params, target))
    } catch (err) {
      restore(view, snap)
      view[kLive].flash = flash
      this.log.error({ err, view: this.viewName }, 'live view handleParams failed')
      if (ref !== 0) this.#sendError(ref, new errors.HANDLER_FAILED('handleParams', this.viewName ?? '', this.#detail(err)))
      return
    }
    if (ref === 0) (this.#pushes ??= []).unshift(`[0,"${OP_URL}",${JSON.stringify(target.href)}]`)
    await this.#update(ref, snap)
  }

  /**
   * Mounts another live route's view on this socket: the old view ends (its timers and
   * subscriptions with it), the new one mounts with the same session data, and the page gets
   * its full HTML (version 0), its token (for reconnects) and its title.
   */
  async #navigate (ref: number, target: URL, match: NonNullable<ReturnType<Runtime['registry']['match']>>): Promise<void> {
    const rt = this.#rt
    const old = this.#view
    for (const timer of this.#timers ?? []) clearTimeout(timer.handle)
    this.#timers = undefined
    for (const off of this.#subscriptions?.values() ?? []) off()
    this.#subscriptions = undefined
    if (old?.terminate !== undefined) {
      try { await old.terminate('closed') } catch (err) { this.log.error({ err, view: this.viewName }, 'live view terminate failed') }
    }
    const { entry, params, pattern } = match
    const view = rt.instantiate(entry, this.#request, this.id, this)
    this.#entry = entry
    this.#view = view
    this.#pattern = pattern
    this.#url = target.href
    let html: string
    try {
      if (view.mount !== undefined) await this.#timed('mount', () => view.mount!(params, this.#sessionData))
      if (view.handleParams !== undefined) await this.#timed('handleParams', () => view.handleParams!(params, target))
      html = await renderView(rt.templates, entry, view)
    } catch (err) {
      this.log.error({ err, view: entry.name }, 'live view mount failed on navigation')
      // The page cannot show this view live: load it in full.
      this.#queue(`[0,"${OP_REDIRECT}",${JSON.stringify(target.href)}]`)
      if (ref !== 0) this.#sendError(ref, isCoded(err) ? err : new errors.MOUNT_FAILED(entry.name, this.#detail(err)))
      return
    }
    this.#rendered = new Rendered(html)
    this.#version = 0
    this.#dirty = false
    const token = rt.tokens.sign(pattern, this.#sessionData, renderHash(html))
    this.log.info({ view: entry.name, route: pattern }, 'live view navigated')
    this.#transport.send(`[${ref},"${OP_HTML}",0,${JSON.stringify(html)}]`)
    const pushes = (this.#pushes ??= [])
    if (ref === 0) pushes.unshift(`[0,"${OP_URL}",${JSON.stringify(target.href)}]`)
    pushes.unshift(`[0,"${OP_TOKEN}",${JSON.stringify(token)}]`)
  }

  /** Runs handleParams for a URL the view patched to during this message. */
  async #applyPatch (): Promise<void> {
    const pending = this.#pendingPatch
    if (pending === undefined) return
    this.#pendingPatch = undefined
    this.#url = pending.url.href
    const view = this.#view!
    if (view.handleParams !== undefined) await this.#timed('handleParams', () => view.handleParams!(pending.params, pending.url))
    ;(this.#pushes ??= []).unshift(`[0,"${OP_URL}",${JSON.stringify(pending.url.href)}]`)
  }

  async #sync (ref: number): Promise<void> {
    if (this.#state !== 'joined') return this.#sendError(ref, new errors.JOIN_REQUIRED())
    let html: string
    try {
      html = await renderView(this.#rt.templates, this.#entry!, this.#view!)
    } catch (err) {
      return this.#sendError(ref, isCoded(err) ? err : new errors.RENDER_FAILED(this.#entry!.name, describe(err)))
    }
    this.#rendered = new Rendered(html)
    this.#dirty = false
    this.#transport.send(`[${ref},"${OP_HTML}",${++this.#version},${JSON.stringify(html)}]`)
  }

  /** Re-renders and sends the change: a patch, full HTML when smaller, or an ack. */
  async #update (ref: number, snap: ReturnType<typeof snapshot>, value?: string): Promise<void> {
    const entry = this.#entry!
    let html: string
    try {
      html = await renderView(this.#rt.templates, entry, this.#view!)
    } catch (err) {
      restore(this.#view!, snap)
      this.#pushes = undefined
      const coded = isCoded(err) ? err : new errors.RENDER_FAILED(entry.name, describe(err))
      this.log.error({ err, view: entry.name }, 'live view render failed')
      if (ref !== 0) this.#sendError(ref, coded)
      return
    }
    if (this.#state === 'closed') return
    this.#dirty = false
    const prev = this.#rendered!
    const next = new Rendered(html)
    const patch = diffRendered(prev, next)
    this.#rendered = next
    if (patch === undefined || (patch !== FULL_HTML && patch.length === 0)) {
      if (ref !== 0) this.#transport.send(`[${ref},"${OP_OK}",${this.#version}${value === undefined ? '' : `,${value}`}]`)
      return
    }
    const version = ++this.#version
    const patchJson = patch === FULL_HTML ? '' : JSON.stringify(patch)
    const tail = value === undefined ? ']' : `,${value}]`
    if (patch === FULL_HTML || patchJson.length >= html.length) this.#transport.send(`[${ref},"${OP_HTML}",${version},${JSON.stringify(html)}${tail}`)
    else this.#transport.send(`[${ref},"${OP_PATCH}",${version},${patchJson}${tail}`)
  }

  #markDirty (): void {
    this.#dirty = true
    if (this.#flushTimer !== undefined) return
    const poll = (): void => {
      this.#flushTimer = undefined
      if (this.#state !== 'joined' || !this.#dirty) return
      if (this.#transport.backlog() <= this.#rt.options.limits.coalesceBytes) this.#mailbox.push({ kind: 'flush' })
      else this.#flushTimer = setTimeout(poll, FLUSH_POLL_MS)
    }
    this.#flushTimer = setTimeout(poll, FLUSH_POLL_MS)
  }

  /** Runs a view callback and returns what it returned; logs it when it runs longer than `slowHandlerMs`. */
  async #timed (what: string, fn: () => unknown): Promise<unknown> {
    const limit = this.#rt.options.limits.slowHandlerMs
    const start = performance.now()
    const result = fn()
    if (result instanceof Promise) {
      const timer = setTimeout(() => {
        this.log.warn({ view: this.viewName, event: what, limitMs: limit }, 'live view handler is slow')
      }, limit)
      try { return await result } finally { clearTimeout(timer) }
    }
    const ms = performance.now() - start
    if (ms > limit) this.log.warn({ view: this.viewName, event: what, ms }, 'live view handler is slow')
    return result
  }

  /** Error details go to the client in development only; the log always has them. */
  #detail (err: unknown): string {
    return this.#rt.options.production ? 'see the server log' : describe(err)
  }
}

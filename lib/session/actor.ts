import { randomBytes } from 'node:crypto'
import type { FastifyBaseLogger, FastifyRequest } from 'fastify'
import { errors, type CodedError } from '../errors.js'
import { decodeClient, errorFrame, redirectFrame, titleFrame } from '../frames.js'
import { Mailbox } from '../mailbox.js'
import { CLOSE_GOING_AWAY, CLOSE_RATE_LIMITED, type ErrorPayload } from '../protocol.js'
import { TokenBucket } from '../rate-limit.js'
import type { Runtime } from '../runtime.js'
import type { Timer } from './effects.js'
import type { ComponentId, LiveComponentClass } from '../component.js'
import { NO_FLASH, type LiveView, type TerminateReason } from '../view.js'
import { MountedView, detail } from './mounted.js'
import type { Host } from './host.js'
import { refuseJoin } from './navigation.js'
import type { Tracker } from './rollback.js'
import type { PageSaver } from '../persist.js'
import { FLUSH_POLL_MS, leadingRef, type Message, type State, type Transport } from './messages.js'

export type { Transport }
import type { AsyncResult } from '../async-result.js'
import type { Task } from './async.js'
import { dispatch } from './dispatch.js'
import { chunk } from './upload-run.js'
import { QUIET } from './uploads.js'

/**
 * The session actor of one connection: frames in, a bounded mailbox that runs one message
 * at a time, replies out in order. It holds the mounted view the page shows; joining and
 * navigating (navigation.ts) mount one, running a message for it (run.ts) goes through one
 * outcome. The fields below marked internal are theirs.
 */
export class Session extends Mailbox<Message> implements Host {
  readonly id = randomBytes(9).toString('base64url')
  readonly request: FastifyRequest
  /** @internal */ readonly rt: Runtime
  /** @internal */ readonly transport: Transport
  /** @internal */ state: State = 'new'
  /** @internal The mounted view the page shows, once joined. */
  mounted: MountedView | undefined
  /** The session key of the app's session data (its `key`), from the join's checks. */
  key: string | undefined
  /** @internal The page's language (the `lang` option), from the join's checks: a live navigation keeps it. */
  lang: string | undefined
  /** @internal Updates sent so far (the join is 0). */
  version = 0
  /** @internal Views mounted so far (each mount's id). */
  mounts = 0
  /** @internal The title the page shows. */
  sentTitle: string | undefined
  /** @internal A server-initiated change is waiting for the client to catch up. */
  dirty = false
  /** @internal */ tracker: Tracker | undefined
  /** @internal The page instance its persisted fields are kept under (views with `static persist`). */
  instance: string | undefined
  /** @internal Saves them after each message. */
  saver: PageSaver | undefined
  /** @internal The running message has been answered (every client message gets exactly one reply). */
  replied = false
  /** The runtime's sweep generation when the session last ran a message (see `hibernate`). */
  #active = 0
  /** Refs of upload entries that ended lately (their late chunks are answered quietly). */
  #uploadsEnded: string[] | undefined
  /** The frame rate limit, from the first frame on. */
  #bucket: TokenBucket | undefined
  #flushTimer: unknown
  #ended: Promise<void> | undefined

  constructor (runtime: Runtime, transport: Transport, request: FastifyRequest) {
    super()
    this.rt = runtime
    this.transport = transport
    this.request = request
    runtime.sessions.add(this)
  }

  /** The session's logger: the request's, with `lvSession` on every line (made when used). */
  get log (): FastifyBaseLogger { return this.request.log.child({ lvSession: this.id }) }
  get joined (): boolean { return this.state === 'joined' }
  get closed (): boolean { return this.state === 'closed' }
  get view (): LiveView | undefined { return this.mounted?.view }
  /** The live root's HTML as last sent to the client. */
  get html (): string | undefined { return this.mounted?.rendered?.html }
  get viewName (): string | undefined { return this.mounted?.entry.name }

  /** Takes one inbound frame's text. Never throws: bad input gets a coded error frame. */
  receive (text: string): void {
    const state = this.state
    if (state === 'closed') return
    const limits = this.rt.options.limits
    // Every frame costs a token, before any work is done for it (even reading it).
    if (!this.#take()) return this.#overBudget(text)
    const m = decodeClient(text, limits.maxDepth)
    if (m.kind === 'bad') {
      const err = m.deep === true ? new errors.FRAME_TOO_DEEP(limits.maxDepth) : new errors.FRAME_MALFORMED(m.detail)
      if (m.join !== true || state !== 'new') return this.refuse(m.ref, err)
      this.state = 'joining'
      return refuseJoin(this, m.ref, err)
    }
    if (state === 'closing') return this.refuse(m.ref, new errors.SHUTTING_DOWN())
    if (m.kind === 'join') {
      if (state !== 'new') return this.refuse(m.ref, new errors.ALREADY_JOINED())
      this.state = 'joining'
    } else if (state === 'new') {
      return this.refuse(m.ref, new errors.JOIN_REQUIRED())
    }
    if (!this.push(m)) this.refuse(m.ref, new errors.MAILBOX_FULL(this.waiting))
  }

  /** Takes one inbound binary frame: an upload chunk (outside the mailbox). Never throws. */
  receiveBinary (data: Uint8Array): void {
    if (this.state !== 'joined') return this.#take() ? this.refuse(0, new errors.JOIN_REQUIRED()) : undefined
    const err = chunk(this, data)
    // Refused chunks cost a token each, quiet ones too (written ones do not: the window bounds them).
    if (err === undefined) return
    if (!this.#take()) return this.#overBudget('')
    if (err !== QUIET) this.refuse(0, err)
  }

  /** Queues a server message for the mounted view's handleInfo; false when not taken. */
  info (msg: unknown): boolean { return this.mounted !== undefined && this.post(this.mounted, msg) }

  /** Runs every timer of the mounted view once now (testing API); returns how many. */
  fireTimers (): number { return this.mounted?.fireTimers() ?? 0 }

  /** Ends the session: waiting messages are dropped, effects stop, `terminate` runs once. */
  close (reason: TerminateReason = 'closed'): Promise<void> {
    if (this.#ended !== undefined) return this.#ended
    this.state = 'closed'
    this.shut()
    this.rt.clock.clearTimeout(this.#flushTimer)
    this.rt.sessions.delete(this)
    const mounted = this.mounted
    // A socket that dropped keeps its uploads under way for the user's rejoin.
    mounted?.dispose(reason === 'closed')
    this.#ended = this.idle().then(async () => { await Promise.all([mounted?.terminate(reason), this.saver?.idle()]) })
    return this.#ended
  }

  /**
   * Ends the session for a server shutdown: waiting messages are refused, the running one
   * may finish and reply until `deadline`, then the socket closes (1001) and `terminate` runs.
   */
  async shutdown (deadline: number): Promise<void> {
    if (this.state !== 'closed') {
      this.state = 'closing'
      const refused = new errors.SHUTTING_DOWN()
      for (const m of this.drain()) if ('ref' in m && m.ref > 0) this.sendError(m.ref, refused)
      // Persisted fields are written before the page learns to rejoin (elsewhere, at once).
      await this.#until(this.idle().then(async () => { await this.saver?.idle() }), deadline)
      this.transport.close(CLOSE_GOING_AWAY, refused.code)
    }
    await this.#until(this.close('shutdown'), deadline)
  }

  /**
   * Called by the runtime's sweep every `hibernateAfterMs`: a session that ran no message
   * since the sweep before keeps only what it needs to answer the next one (its last
   * render's HTML, compactly) and rebuilds the rest then, as Phoenix hibernates idle processes.
   */
  hibernate (): void {
    if (this.#active >= this.rt.generation - 1 || this.state !== 'joined' || this.busy) return
    this.tracker = undefined
    // Idle that long, the rate limit's bucket has filled up again: a new one is the same.
    const { eventsPerSecond, eventBurst, hibernateAfterMs } = this.rt.options.limits
    if (eventBurst * 1000 / eventsPerSecond <= hibernateAfterMs) this.#bucket = undefined
    this.mounted?.hibernate()
  }

  // --- Host: what mounted views ask ------------------------------------------------------

  post (to: MountedView, msg: unknown, timer?: Timer): boolean {
    if (this.state !== 'joined' && this.state !== 'joining') return false
    if (this.push({ kind: 'info', msg, to, timer })) return true
    this.log.warn({ view: to.entry.name, code: 'FST_LIVEVIEW_MAILBOX_FULL' }, 'live view mailbox full: server message dropped')
    return false
  }

  sendFor (to: MountedView, frame: string): boolean {
    if (to !== this.mounted || this.state !== 'joined') return false
    this.transport.send(frame)
    return true
  }

  changeUrl (to: MountedView, url: URL, navigate: boolean): void {
    if (!this.push({ kind: 'goto', to, url, navigate })) this.log.warn({ code: 'FST_LIVEVIEW_MAILBOX_FULL' }, 'live view URL change dropped')
  }

  async drained (signal: AbortSignal): Promise<void> {
    const { clock, options } = this.rt
    // Also while a page update waits to be sent: stream pages follow the page they were made for.
    while (!signal.aborted && this.state === 'joined' && (this.dirty || this.transport.backlog() > options.limits.coalesceBytes)) {
      await new Promise<void>((resolve) => clock.setTimeout(resolve, FLUSH_POLL_MS))
    }
  }

  postAsync (to: MountedView, task: Task, result: AsyncResult<unknown>): boolean {
    if (this.state !== 'joined' && this.state !== 'joining') return false
    if (this.push({ kind: 'async', to, task, result })) return true
    this.log.warn({ view: to.entry.name, task: task.key, code: 'FST_LIVEVIEW_MAILBOX_FULL' }, 'live view mailbox full: async result dropped')
    return false
  }

  postUpdate (to: MountedView, Component: LiveComponentClass, id: ComponentId, props: object): boolean {
    if (this.state !== 'joined' && this.state !== 'joining') return false
    if (this.push({ kind: 'update', to, Component, id, props })) return true
    this.log.warn({ view: to.entry.name, code: 'FST_LIVEVIEW_MAILBOX_FULL' }, 'live view mailbox full: sendUpdate dropped')
    return false
  }

  uploadEnded (ref: string, ask?: boolean): boolean {
    const ended = this.#uploadsEnded ??= []
    if (ask === true) return ended.includes(ref)
    if (ended.push(ref) > 64) ended.shift()
    return true
  }

  postRender (to: MountedView): boolean {
    return (this.state === 'joined' || this.state === 'joining') && this.push({ kind: 'render', to })
  }

  redirectNow (to: MountedView, url: URL): void {
    if (to === this.mounted && this.state === 'joined') this.redirect(to, url, to.flash)
  }

  async authorize (url: URL): Promise<boolean> {
    const admission = await this.rt.guard.admit(this.request, url)
    if (admission.key !== this.key) throw new errors.SESSION_MISMATCH()
    return admission.lang === this.lang
  }

  /** Ends the session with a close code: the app disconnected its user (`liveViewDisconnect`). */
  disconnect (code: number, reason: string): void {
    if (this.state === 'closed') return
    this.log.info({ code: reason }, 'live view session disconnected by the app')
    this.transport.close(code, reason)
    void this.close()
  }

  // --- Messages --------------------------------------------------------------------------

  protected run (m: Message): void | Promise<void> {
    if (this.state === 'closed') return
    this.replied = false
    this.#active = this.rt.generation
    let result: void | Promise<void>
    try {
      result = dispatch(this, m)
    } catch (err) {
      return this.#failed(m, err)
    }
    if (result !== undefined) return result.then(undefined, (err: unknown) => { this.#failed(m, err) })
  }

  protected get limit (): number { return this.rt.options.limits.mailbox }

  protected crashed (err: unknown): void { this.log.error({ err }, 'live view mailbox failed') }

  /**
   * A frame over the rate limit is refused unread; a client refused at least once a second
   * for `rateLimitCloseMs` is cut off (4005).
   */
  #overBudget (text: string): void {
    const limits = this.rt.options.limits
    if (this.#bucket!.overFor >= limits.rateLimitCloseMs) {
      const err = new errors.RATE_LIMIT_CLOSED(limits.rateLimitCloseMs)
      this.log.warn({ code: err.code }, err.message)
      return this.transport.close(CLOSE_RATE_LIMITED, err.code)
    }
    this.refuse(leadingRef(text), new errors.RATE_LIMITED(limits.eventsPerSecond))
  }

  #take (): boolean {
    const { limits } = this.rt.options
    const now = this.rt.clock.now()
    return (this.#bucket ??= new TokenBucket(limits.eventsPerSecond, limits.eventBurst, now)).take(now)
  }

  /** The last resort: a message failed outside a view callback. It is answered all the same. */
  #failed (m: Message, err: unknown): void {
    this.log.error({ err, code: 'FST_LIVEVIEW_MESSAGE_FAILED' }, 'live view session failed a message')
    const mounted = this.mounted
    if (mounted !== undefined) {
      mounted.out = undefined
      this.tracker?.rollback(mounted.view)
    }
    if ('ref' in m && m.ref > 0 && !this.replied) this.sendError(m.ref, new errors.MESSAGE_FAILED(detail(this.rt.options.production, err)))
  }



  /** @internal A server update is waiting for the client to read what is queued: poll, then flush. */
  markDirty (): void {
    this.dirty = true
    if (this.#flushTimer !== undefined) return
    const clock = this.rt.clock
    // The view shown when the poll fires (a navigation may have come since `mounted` was dirty).
    const poll = (): void => {
      this.#flushTimer = undefined
      const shown = this.mounted
      if (this.state !== 'joined' || !this.dirty || shown === undefined) return
      if (this.transport.backlog() <= this.rt.options.limits.coalesceBytes) this.push({ kind: 'flush', to: shown })
      else this.#flushTimer = clock.setTimeout(poll, FLUSH_POLL_MS)
    }
    this.#flushTimer = clock.setTimeout(poll, FLUSH_POLL_MS)
  }

  // --- Frames out --------------------------------------------------------------------------

  /** @internal Sends a frame that answers `ref` (or a server update, ref 0). */
  reply (ref: number, frame: string): void {
    if (ref !== 0) this.replied = true
    this.transport.send(frame)
  }

  /** @internal */
  refuse (ref: number, err: CodedError, extra?: Partial<ErrorPayload>): void {
    this.log.debug({ code: err.code, ref }, err.message)
    this.sendError(ref, err, extra)
  }

  /** @internal */
  sendError (ref: number, err: CodedError, extra?: Partial<ErrorPayload>): void {
    // In production a server fault says its code and no more (its message may hold data).
    const message = this.rt.options.production && (err.statusCode ?? 500) >= 500 ? 'see the server log' : err.message
    this.reply(ref, errorFrame(ref, { code: err.code, message, ...extra }))
  }

  /** @internal */
  sendTitle (mounted: MountedView): void {
    const title = mounted.pageTitle
    if (title === this.sentTitle) return
    this.sentTitle = title
    this.transport.send(titleFrame(title))
  }

  /** @internal */
  sendAll (frames: string[] | undefined): void {
    if (frames !== undefined) for (const frame of frames) this.transport.send(frame)
  }

  /** @internal Sends the browser to `url` (checked already); a same-origin one carries the flash along (signed). */
  redirect (mounted: MountedView, url: URL, flash: Record<string, string> | undefined): void {
    let carrier: string | undefined
    if (flash !== undefined && flash !== NO_FLASH && Object.keys(flash).length > 0 && mounted.owns(url)) carrier = this.rt.tokens.signFlash(flash)
    this.transport.send(redirectFrame(mounted.location(url), carrier))
  }

  async #until (work: Promise<unknown>, deadline: number): Promise<void> {
    const clock = this.rt.clock
    if (clock.now() >= deadline) return
    let timer: unknown
    await Promise.race([work, new Promise<void>((resolve) => { timer = clock.setTimeout(resolve, Math.max(0, deadline - clock.now())) })])
    clock.clearTimeout(timer)
  }
}

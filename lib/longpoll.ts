import { randomBytes } from 'node:crypto'
import type { FastifyRequest } from 'fastify'
import { unref } from './clock.js'
import { errors } from './errors.js'
import { CLOSE_HEARTBEAT, CLOSE_JOIN_TIMEOUT, CLOSE_SLOW_CLIENT, CLOSE_TOO_LARGE } from './protocol.js'
import type { Runtime } from './runtime.js'
import { Session, type Transport } from './session/actor.js'
import { countSocket, sendCounted } from './socket.js'

// The fallback transport, for networks that block WebSockets: long polling behind the same
// session runtime. The client opens a session (POST), polls for frames (GET: held until
// there are some, or `POLL_WAIT_MS`), and sends its frames in order (POST, a batch at a
// time). Frames stay queued until a poll acknowledges them, so a lost poll response is sent
// again. A session lives in the process that opened it; a poll or send that reaches another
// process is relayed to it through the PubSub adapter (see relay.ts): no sticky sessions.

/** How long a poll is held when there is nothing to send. */
export const POLL_WAIT_MS = 25000
/** Frames one send may carry. */
export const SEND_MAX_FRAMES = 32
/** The request header that names a long-polled session (kept out of URLs, which logs keep). */
export const SESSION_HEADER = 'x-lv-session'

/** What a poll answers: the sequence number of the first frame, the frames, and the close (code, reason) once the session ended. */
export interface PollReply { a: number, f: string[], c?: [number, string] }
/** What a send carries: text frames, and upload chunks as base64 (`{ b }`). */
export type SentFrame = string | { b: string }

/** The transport of one long-polled session. */
class PollTransport implements Transport {
  readonly rt: Runtime
  readonly sid: string
  readonly ip: string
  session!: Session
  /** Frames not acknowledged yet; the first has sequence number `base`. */
  frames: string[] = []
  base = 0
  bytes = 0
  ended: [number, string] | undefined
  #wake: (() => void) | undefined
  #idle: unknown
  /** Polls so far: the latest one arms the idle timer when it answers. */
  #polls = 0
  #joinTimer: unknown

  constructor (rt: Runtime, sid: string, ip: string) {
    this.rt = rt
    this.sid = sid
    this.ip = ip
    this.#joinTimer = later(rt, () => {
      if (!this.session.joined) this.close(CLOSE_JOIN_TIMEOUT, new errors.JOIN_TIMEOUT(rt.options.limits.joinTimeoutMs).code)
    }, rt.options.limits.joinTimeoutMs)
    this.#waitPoll()
  }

  send (frame: string): void {
    if (this.ended !== undefined) return
    this.bytes += sendCounted(this.rt, this.session, frame, () => { this.frames.push(frame) })
    if (this.bytes > this.rt.options.limits.sendBufferBytes) {
      const err = new errors.SLOW_CLIENT(this.bytes)
      this.session.log.warn({ code: err.code }, err.message)
      return this.close(CLOSE_SLOW_CLIENT, err.code)
    }
    this.#wakeUp()
  }

  backlog (): number { return this.bytes }

  close (code: number, reason: string): void {
    if (this.ended !== undefined) return
    this.ended = [code, reason]
    this.joined()
    this.rt.clock.clearTimeout(this.#idle)
    this.#wakeUp()
    countSocket(this.rt, this.ip, -1)
    void this.session.close(this.rt.closing ? 'shutdown' : 'closed')
    // The client's next poll still finds the close code, for a while.
    later(this.rt, () => { registry(this.rt).delete(this.sid) }, this.rt.options.limits.closeGraceMs)
  }

  joined (): void {
    this.rt.clock.clearTimeout(this.#joinTimer)
  }

  /** Answers a poll: drops what `ack` acknowledges, waits for frames (or the end) up to `waitMs`. */
  async poll (ack: number, waitMs: number): Promise<PollReply> {
    this.rt.clock.clearTimeout(this.#idle)
    const mine = ++this.#polls
    const n = Math.min(Math.max(0, ack - this.base), this.frames.length)
    if (n > 0) {
      for (const f of this.frames.splice(0, n)) this.bytes -= Buffer.byteLength(f)
      this.base += n
    }
    if (this.frames.length === 0 && this.ended === undefined) {
      // A newer poll supersedes one still held (answered empty).
      this.#wakeUp()
      await new Promise<void>((resolve) => {
        const timer = this.rt.clock.setTimeout(resolve, waitMs)
        this.#wake = () => { this.rt.clock.clearTimeout(timer); resolve() }
      })
    }
    // Only the latest poll waits for the next one (a superseded poll must not arm a second timer).
    if (this.ended === undefined && mine === this.#polls) this.#waitPoll()
    return this.ended === undefined ? { a: this.base, f: this.frames.slice() } : { a: this.base, f: this.frames.slice(), c: this.ended }
  }

  /** Takes a batch of the client's frames, in order. */
  receive (frames: SentFrame[]): void {
    const max = this.rt.options.limits.maxFrameBytes
    for (const f of frames) {
      if (this.ended !== undefined) return
      const data = typeof f === 'string' ? f : Buffer.from(f.b, 'base64')
      const size = typeof data === 'string' ? Buffer.byteLength(data) : data.length
      if (size > max) {
        const err = new errors.FRAME_TOO_LARGE(size, max)
        this.session.log.warn({ code: err.code }, err.message)
        return this.close(CLOSE_TOO_LARGE, err.code)
      }
      if (typeof data === 'string') this.session.receive(data)
      else this.session.receiveBinary(data)
    }
  }

  #wakeUp (): void {
    const wake = this.#wake
    this.#wake = undefined
    wake?.()
  }

  /** A client that stops polling is gone after `heartbeatMs` (as a socket that misses its heartbeat). */
  #waitPoll (): void {
    this.rt.clock.clearTimeout(this.#idle)
    this.#idle = later(this.rt, () => {
      this.rt.log.info({ code: 'FST_LIVEVIEW_HEARTBEAT_TIMEOUT' }, 'live view long-poll client stopped polling')
      this.close(CLOSE_HEARTBEAT, 'FST_LIVEVIEW_HEARTBEAT_TIMEOUT')
    }, this.rt.options.limits.heartbeatMs)
  }
}

/** A timer that does not hold the process open. */
function later (rt: Runtime, fn: () => void, ms: number): unknown {
  const handle = rt.clock.setTimeout(fn, ms)
  unref(handle)
  return handle
}

const registries = new WeakMap<Runtime, Map<string, PollTransport>>()
function registry (rt: Runtime): Map<string, PollTransport> {
  let r = registries.get(rt)
  if (r === undefined) registries.set(rt, r = new Map())
  return r
}

/**
 * Opens a long-polled session for `request` (its Origin and the socket caps checked by the
 * caller, as for an upgrade); returns its id, which names this process.
 */
export function openPoll (rt: Runtime, request: FastifyRequest, ip: string): string {
  // Signed: any process can refuse a forged id before relaying anything for it.
  const sid = rt.tokens.signId(`${rt.presence.node}.${randomBytes(18).toString('base64url')}`)
  const t = new PollTransport(rt, sid, ip)
  t.session = new Session(rt, t, request)
  registry(rt).set(sid, t)
  countSocket(rt, ip, 1)
  return sid
}

/** The process a session id names. */
export const ownerOf = (sid: string): string => sid.slice(0, sid.indexOf('.'))

/** Whether this process holds the session `sid` (or held it lately: its close is still to be read). */
export const hasLocal = (rt: Runtime, sid: string): boolean => registry(rt).has(sid)

/** A poll of a session of this process; undefined when there is none (it ended long ago, or never was). */
export async function pollLocal (rt: Runtime, sid: string, ack: number, waitMs: number): Promise<PollReply | undefined> {
  return await registry(rt).get(sid)?.poll(ack, waitMs)
}

/** A send to a session of this process (`close`: the page is leaving: end it); false when there is none or it ended. */
export function sendLocal (rt: Runtime, sid: string, frames: SentFrame[], close = false): boolean {
  const t = registry(rt).get(sid)
  if (t === undefined || t.ended !== undefined) return false
  t.receive(frames)
  if (close) t.close(1000, 'closed by the client')
  return true
}

/** Checks a send's body: a list of at most SEND_MAX_FRAMES text frames or `{ b: base64 }` chunks. */
export function sentFrames (body: unknown): SentFrame[] | undefined {
  if (!Array.isArray(body) || body.length > SEND_MAX_FRAMES) return undefined
  for (const f of body) {
    if (typeof f !== 'string' && (f === null || typeof f !== 'object' || typeof (f as { b?: unknown }).b !== 'string')) return undefined
  }
  return body as SentFrame[]
}

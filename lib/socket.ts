import { trace, traced } from './telemetry.js'
import type { FastifyRequest } from 'fastify'
import type { WebSocket } from 'ws'
import { unref } from './clock.js'
import { clip, errors, type CodedError } from './errors.js'
import { CLOSE_DISCONNECTED, CLOSE_GOING_AWAY, CLOSE_HEARTBEAT, CLOSE_JOIN_TIMEOUT, CLOSE_SLOW_CLIENT, CLOSE_TOO_LARGE } from './protocol.js'
import type { Runtime } from './runtime.js'
import { Session, type Transport } from './session/actor.js'

// The socket's one property of ours: its transport (liveness and closing live there).
const kLink = Symbol('fastify-liveview.link')
type LiveSocket = WebSocket & { [kLink]?: SocketTransport }
const closing = (socket: LiveSocket): boolean => socket[kLink]?.closing === true

/**
 * The transport of one socket. Its listeners are shared functions that find it through the
 * socket, and the join deadline is one timer: an idle session holds no closures of its own.
 */
class SocketTransport implements Transport {
  readonly socket: LiveSocket
  readonly rt: Runtime
  session!: Session
  joinTimer: unknown
  /** Answered the last ping (the heartbeat). */
  alive = true
  /** Closed by the server: nothing more is sent or read while the close frame waits to be read. */
  closing = false

  constructor (rt: Runtime, socket: LiveSocket) {
    this.rt = rt
    this.socket = socket
  }

  send (frame: string): void {
    const socket = this.socket
    if (socket.readyState !== socket.OPEN || this.closing) return
    sendCounted(this.rt, this.session, frame, () => { socket.send(frame) })
    if (socket.bufferedAmount > this.rt.options.limits.sendBufferBytes) {
      const err = new errors.SLOW_CLIENT(socket.bufferedAmount)
      this.session.log.warn({ code: err.code }, err.message)
      closeSocket(this.rt, socket, CLOSE_SLOW_CLIENT, err.code)
    }
  }

  backlog (): number { return this.socket.bufferedAmount }

  close (code: number, reason: string): void { closeSocket(this.rt, this.socket, code, reason) }

  /** The session joined (or ended): the join deadline is over. */
  joined (): void {
    this.rt.clock.clearTimeout(this.joinTimer)
    this.joinTimer = undefined
  }
}

/**
 * Hands one frame to a transport's `write`: counted in the stats' bytes out, and traced on
 * the `send` channel when someone listens. Returns its size in bytes.
 */
export function sendCounted (rt: Runtime, session: Session, frame: string, write: () => void): number {
  const bytes = Buffer.byteLength(frame)
  rt.stats.bytesOut += bytes
  if (traced('send')) trace('send', { view: session.mounted?.entry.name ?? '', sessionId: session.id, bytes }, write)
  else write()
  return bytes
}

/** Counts a live connection (a socket, a long-polled session) in or out (`by` ±1), in total and by client IP: the caps of `limits`. */
export function countSocket (rt: Runtime, ip: string, by: 1 | -1): void {
  rt.sockets += by
  const n = (rt.socketsByIp.get(ip) ?? 0) + by
  if (n > 0) rt.socketsByIp.set(ip, n)
  else rt.socketsByIp.delete(ip)
}

function onMessage (this: LiveSocket, data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean): void {
  const link = this[kLink] as SocketTransport
  if (link.closing) return
  const { maxFrameBytes } = link.rt.options.limits
  const size = Array.isArray(data) ? data.reduce((n, b) => n + b.length, 0) : data.byteLength
  if (size > maxFrameBytes) {
    const err = new errors.FRAME_TOO_LARGE(size, maxFrameBytes)
    link.session.log.warn({ code: err.code }, err.message)
    closeSocket(link.rt, this, CLOSE_TOO_LARGE, err.code)
    return
  }
  if (isBinary) {
    // Upload chunks. ws hands a Buffer (a list of them for a fragmented frame, an ArrayBuffer when so configured).
    link.session.receiveBinary(Array.isArray(data) ? Buffer.concat(data) : data instanceof ArrayBuffer ? new Uint8Array(data) : data)
    return
  }
  link.session.receive(data.toString())
}

function onPong (this: LiveSocket): void { (this[kLink] as SocketTransport).alive = true }

/**
 * A socket error: what ws refuses of a client (a bad frame, invalid UTF-8) or a connection
 * cut. A client fault: logged as a warning, without a stack; ws closes the socket.
 */
function onError (this: LiveSocket, err: Error & { code?: string }): void {
  const link = this[kLink] as SocketTransport
  link.session.log.warn({ code: err.code, err: { type: err.name, message: clip(err.message) } }, 'live view socket error')
  if (this.readyState !== this.CLOSED && this.readyState !== this.CLOSING) this.terminate()
}

function onClose (this: LiveSocket): void {
  const link = this[kLink] as SocketTransport
  // Counted at attach, for the same request's IP (not kept: one field less per idle socket).
  const { rt } = link
  countSocket(rt, ipOf(link.session.request), -1)
  link.rt.lingering.delete(this)
  link.joined()
  void link.session.close(link.rt.closing ? 'shutdown' : 'closed')
}

function onJoinDeadline (link: SocketTransport): void {
  link.joinTimer = undefined
  const { session, socket } = link
  if (session.joined || session.closed) return
  const err = new errors.JOIN_TIMEOUT(link.rt.options.limits.joinTimeoutMs)
  session.log.info({ code: err.code }, err.message)
  closeSocket(link.rt, socket, CLOSE_JOIN_TIMEOUT, err.code)
}

/** Connects one WebSocket to a new session: frames in, replies out, limits and liveness. */
export function attachSocket (rt: Runtime, socket: LiveSocket, request: FastifyRequest, clients?: Set<WebSocket>): Session {
  const link = new SocketTransport(rt, socket)
  link.session = new Session(rt, link, request)
  socket[kLink] = link
  // The plugin ends its own sockets at shutdown (handlers finish, then 1001): an app's own
  // @fastify/websocket `preClose` must not cut them first.
  clients?.delete(socket)
  countSocket(rt, ipOf(request), 1)
  // Attached synchronously: frames that arrive before the handler returns are not lost.
  // Errors are ours to log ('close' comes once, after any).
  socket.removeAllListeners('error')
  socket.on('error', onError)
  socket.on('message', onMessage)
  socket.on('pong', onPong)
  socket.on('close', onClose)
  link.joinTimer = rt.clock.setTimeout(() => { onJoinDeadline(link) }, rt.options.limits.joinTimeoutMs)
  unref(link.joinTimer)
  return link.session
}

/**
 * Refuses a socket upgrade (429) when the process holds `maxSockets` live sockets, or the
 * client IP (as Fastify sees it: `trustProxy`) holds `socketsPerIp`.
 */
export function checkCapacity (rt: Runtime, request: FastifyRequest): void {
  const { maxSockets, socketsPerIp } = rt.options.limits
  let err: CodedError | undefined
  if (rt.sockets >= maxSockets) err = new errors.TOO_MANY_SOCKETS('on this server', maxSockets)
  else if ((rt.socketsByIp.get(ipOf(request)) ?? 0) >= socketsPerIp) err = new errors.TOO_MANY_SOCKETS(`from ${clip(ipOf(request), 64)}`, socketsPerIp)
  if (err === undefined) return
  request.log.warn({ code: err.code, ip: clip(ipOf(request), 64) }, err.message)
  throw err
}

/** The client IP a socket counts against (an in-process `injectWS` has none: 'unknown'). */
export function ipOf (request: FastifyRequest): string {
  try { return (request.ip as string | undefined) ?? 'unknown' } catch { return 'unknown' }
}

/**
 * Closes the sessions of `key` (`liveViewDisconnect`): their rejoin is refused; then, once
 * their last saves are written, deletes the user's persisted state.
 */
export async function disconnect (rt: Runtime, key: string): Promise<void> {
  const saving: Array<Promise<void> | undefined> = []
  for (const session of [...rt.sessions]) {
    if (session.key !== key) continue
    session.disconnect(CLOSE_DISCONNECTED, 'FST_LIVEVIEW_DISCONNECTED_BY_APP')
    saving.push((session as Session).saver?.idle())
  }
  await Promise.all(saving)
  await rt.persistence?.purge(key)
}

/** The socket transports of the runtime's sessions (the testing API's have other transports). */
function * links (rt: Runtime): Iterable<SocketTransport> {
  for (const session of rt.sessions) {
    const link = (session as Session).transport
    if (link instanceof SocketTransport) yield link
  }
}

/** Pings every socket each `heartbeatMs`; one that did not answer the last ping is closed. */
export function startHeartbeat (rt: Runtime): unknown {
  const timer = rt.clock.setInterval(() => {
    for (const link of links(rt)) {
      const ws = link.socket
      if (ws.readyState !== ws.OPEN || link.closing) continue
      if (!link.alive) {
        rt.log.info({ code: 'FST_LIVEVIEW_HEARTBEAT_TIMEOUT' }, 'live view socket missed its heartbeat')
        closeSocket(rt, ws, CLOSE_HEARTBEAT, 'FST_LIVEVIEW_HEARTBEAT_TIMEOUT')
        continue
      }
      link.alive = false
      ws.ping()
    }
  }, rt.options.limits.heartbeatMs)
  unref(timer)
  return timer
}

/** Every `hibernateAfterMs`, sessions that ran no message since the sweep before hibernate. */
export function startHibernation (rt: Runtime): unknown {
  const timer = rt.clock.setInterval(() => {
    rt.generation++
    for (const session of rt.sessions) session.hibernate()
  }, rt.options.limits.hibernateAfterMs)
  unref(timer)
  return timer
}

/**
 * Ends every live session for `app.close()`: waiting events are refused, running handlers
 * get until `shutdownTimeoutMs` to finish and reply, each socket then closes with 1001 and
 * each view's `terminate` is awaited (within the same timeout). Sockets that never joined,
 * or that do not finish their close handshake, are cut after a short grace.
 */
export function shutdown (rt: Runtime): Promise<void> {
  if (rt.stopping === undefined) {
    rt.closing = true
    const deadline = rt.clock.now() + rt.options.shutdownTimeoutMs
    rt.stopping = Promise.all([...rt.sessions].map(async (s) => { await s.shutdown(deadline) })).then(async () => { await closeAll(rt) })
  }
  return rt.stopping
}

/** Closes every socket left with 1001 ("going away"), then ends those that do not finish in time. */
async function closeAll (rt: Runtime, graceMs = 100): Promise<void> {
  const open = [...rt.lingering]
  for (const link of links(rt)) open.push(link.socket)
  for (const ws of open) if (ws.readyState === ws.OPEN) ws.close(CLOSE_GOING_AWAY, 'server shutting down')
  if (open.every((ws) => ws.readyState === ws.CLOSED)) return
  await new Promise((resolve) => setTimeout(resolve, graceMs))
  for (const ws of open) if (ws.readyState !== ws.CLOSED) ws.terminate()
}

/**
 * Closes a socket with a code, then cuts it after `closeGraceMs`: a client that is not
 * reading now still finds the close frame (and its code) behind what was queued, if it
 * resumes reading in time. The session ends at once; nothing more is sent or read.
 */
function closeSocket (rt: Runtime, socket: LiveSocket, code: number, reason: string): void {
  if (socket.readyState === socket.CLOSING || socket.readyState === socket.CLOSED || closing(socket)) return
  const link = socket[kLink]
  if (link !== undefined) link.closing = true
  rt.lingering.add(socket)
  socket.close(code, reason)
  void link?.session.close(rt.closing ? 'shutdown' : 'closed')
  const timer = rt.clock.setTimeout(() => { if (socket.readyState !== socket.CLOSED) socket.terminate() }, rt.options.limits.closeGraceMs)
  unref(timer)
}

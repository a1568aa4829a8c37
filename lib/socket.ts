import type { FastifyRequest } from 'fastify'
import type { WebSocket } from 'ws'
import { errors } from './errors.js'
import {
  CLOSE_GOING_AWAY, CLOSE_HEARTBEAT, CLOSE_JOIN_TIMEOUT, CLOSE_SLOW_CLIENT, CLOSE_TOO_LARGE, OP_ERROR
} from './protocol.js'
import type { Runtime } from './runtime.js'
import { Session, type Transport } from './session.js'

const kAlive = Symbol('fastify-liveview.alive')
const kLink = Symbol('fastify-liveview.link')
type LiveSocket = WebSocket & { [kAlive]?: boolean, [kLink]?: SocketTransport }

/**
 * The transport of one socket. Its listeners are shared functions that find it through the
 * socket, and the join deadline is one timer: an idle session holds no closures of its own.
 */
class SocketTransport implements Transport {
  readonly socket: LiveSocket
  readonly rt: Runtime
  session!: Session
  joinTimer: NodeJS.Timeout | undefined

  constructor (rt: Runtime, socket: LiveSocket) {
    this.rt = rt
    this.socket = socket
  }

  send (frame: string): void {
    const socket = this.socket
    if (socket.readyState !== socket.OPEN) return
    socket.send(frame)
    if (socket.bufferedAmount > this.rt.options.limits.sendBufferBytes) {
      const err = new errors.SLOW_CLIENT(socket.bufferedAmount)
      this.session.log.warn({ code: err.code }, err.message)
      closeSocket(socket, CLOSE_SLOW_CLIENT, err.code)
    }
  }

  backlog (): number { return this.socket.bufferedAmount }

  close (code: number, reason: string): void { closeSocket(this.socket, code, reason) }

  /** The session joined (or ended): the join deadline is over. */
  joined (): void {
    clearTimeout(this.joinTimer)
    this.joinTimer = undefined
  }
}

function onMessage (this: LiveSocket, data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean): void {
  const link = this[kLink] as SocketTransport
  const { maxFrameBytes } = link.rt.options.limits
  const size = Array.isArray(data) ? data.reduce((n, b) => n + b.length, 0) : data.byteLength
  if (size > maxFrameBytes) {
    const err = new errors.FRAME_TOO_LARGE(size, maxFrameBytes)
    link.session.log.warn({ code: err.code }, err.message)
    closeSocket(this, CLOSE_TOO_LARGE, err.code)
    return
  }
  if (isBinary) {
    this.send(JSON.stringify([0, OP_ERROR, { code: 'FST_LIVEVIEW_FRAME_MALFORMED', message: 'Malformed frame: binary frames are not accepted' }]))
    return
  }
  link.session.receive(data.toString())
}

function onPong (this: LiveSocket): void { this[kAlive] = true }

function onError (this: LiveSocket, err: Error): void {
  this[kLink]?.session.log.debug({ err }, 'live view socket error')
}

function onClose (this: LiveSocket): void {
  const link = this[kLink] as SocketTransport
  link.rt.sockets.delete(this)
  link.joined()
  void link.session.close(link.rt.closing ? 'shutdown' : 'closed')
}

function onJoinDeadline (link: SocketTransport): void {
  link.joinTimer = undefined
  const { session, socket } = link
  if (session.joined || session.closed) return
  const err = new errors.JOIN_TIMEOUT(link.rt.options.limits.joinTimeoutMs)
  session.log.info({ code: err.code }, err.message)
  closeSocket(socket, CLOSE_JOIN_TIMEOUT, err.code)
}

/** Connects one WebSocket to a new session: frames in, replies out, limits and liveness. */
export function attachSocket (rt: Runtime, socket: LiveSocket, request: FastifyRequest): Session {
  const link = new SocketTransport(rt, socket)
  link.session = new Session(rt, link, request)
  socket[kLink] = link
  socket[kAlive] = true
  rt.sockets.add(socket)
  // Attached synchronously: frames that arrive before the handler returns are not lost.
  socket.on('message', onMessage)
  socket.on('pong', onPong)
  socket.on('error', onError)
  socket.once('close', onClose)
  link.joinTimer = setTimeout(onJoinDeadline, rt.options.limits.joinTimeoutMs, link)
  return link.session
}

/** Pings every socket each `heartbeatMs`; one that did not answer the last ping is closed. */
export function startHeartbeat (rt: Runtime): NodeJS.Timeout {
  const timer = setInterval(() => {
    for (const ws of rt.sockets as Set<LiveSocket>) {
      if (ws.readyState !== ws.OPEN) continue
      if (ws[kAlive] === false) {
        rt.log.info({ code: 'FST_LIVEVIEW_HEARTBEAT_TIMEOUT' }, 'live view socket missed its heartbeat')
        ws.close(CLOSE_HEARTBEAT, 'FST_LIVEVIEW_HEARTBEAT_TIMEOUT')
        ws.terminate()
        continue
      }
      ws[kAlive] = false
      ws.ping()
    }
  }, rt.options.limits.heartbeatMs)
  timer.unref()
  return timer
}

/** Closes every socket with 1001 ("going away"), then ends those that do not finish in time. */
export async function closeAll (clients: Iterable<WebSocket>, graceMs = 100): Promise<void> {
  const open = [...clients]
  for (const ws of open) ws.close(CLOSE_GOING_AWAY, 'server shutting down')
  if (open.length === 0) return
  await new Promise((resolve) => setTimeout(resolve, graceMs))
  for (const ws of open) if (ws.readyState !== ws.CLOSED) ws.terminate()
}

function closeSocket (socket: WebSocket, code: number, reason: string): void {
  if (socket.readyState === socket.CLOSING || socket.readyState === socket.CLOSED) return
  socket.close(code, reason)
  // A client that does not read will not answer the close handshake either.
  setTimeout(() => { socket.terminate() }, 1000).unref()
}

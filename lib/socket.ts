import type { FastifyRequest } from 'fastify'
import type { WebSocket } from 'ws'
import { errors } from './errors.js'
import {
  CLOSE_GOING_AWAY, CLOSE_HEARTBEAT, CLOSE_JOIN_TIMEOUT, CLOSE_SLOW_CLIENT, CLOSE_TOO_LARGE, OP_ERROR
} from './protocol.js'
import type { Runtime } from './runtime.js'
import { Session, type Transport } from './session.js'

const kAlive = Symbol('fastify-liveview.alive')
type LiveSocket = WebSocket & { [kAlive]?: boolean }

/** Connects one WebSocket to a new session: frames in, replies out, limits and liveness. */
export function attachSocket (rt: Runtime, socket: LiveSocket, request: FastifyRequest): Session {
  const { limits } = rt.options
  const transport: Transport = {
    send (frame) {
      if (socket.readyState !== socket.OPEN) return
      socket.send(frame)
      if (socket.bufferedAmount > limits.sendBufferBytes) {
        const err = new errors.SLOW_CLIENT(socket.bufferedAmount)
        session.log.warn({ code: err.code }, err.message)
        closeSocket(socket, CLOSE_SLOW_CLIENT, err.code)
      }
    },
    backlog: () => socket.bufferedAmount,
    close: (code, reason) => { closeSocket(socket, code, reason) }
  }
  const session = new Session(rt, transport, request)
  socket[kAlive] = true
  rt.sockets.add(socket)

  // Attached synchronously: frames that arrive before the handler returns are not lost.
  socket.on('message', (data, isBinary) => {
    const size = Array.isArray(data) ? data.reduce((n, b) => n + b.length, 0) : (data as Buffer | ArrayBuffer).byteLength
    if (size > limits.maxFrameBytes) {
      const err = new errors.FRAME_TOO_LARGE(size, limits.maxFrameBytes)
      session.log.warn({ code: err.code }, err.message)
      closeSocket(socket, CLOSE_TOO_LARGE, err.code)
      return
    }
    if (isBinary) {
      socket.send(JSON.stringify([0, OP_ERROR, { code: 'FST_LIVEVIEW_FRAME_MALFORMED', message: 'Malformed frame: binary frames are not accepted' }]))
      return
    }
    session.receive(data.toString())
  })
  socket.on('pong', () => { socket[kAlive] = true })
  socket.on('error', (err) => { session.log.debug({ err }, 'live view socket error') })

  const joinTimer = setTimeout(() => {
    if (session.joined || session.closed) return
    const err = new errors.JOIN_TIMEOUT(limits.joinTimeoutMs)
    session.log.info({ code: err.code }, err.message)
    closeSocket(socket, CLOSE_JOIN_TIMEOUT, err.code)
  }, limits.joinTimeoutMs)

  socket.once('close', () => {
    rt.sockets.delete(socket)
    clearTimeout(joinTimer)
    void session.close(rt.closing ? 'shutdown' : 'closed')
  })
  return session
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

// The server process of the `load` and `memory` runs: the benchmark app (the counter at
// /counter) on 127.0.0.1, one process, driven by bench/run.ts over IPC.
//
// `start` with `bare: true` serves no live view at all: a Fastify app with @fastify/websocket
// (the plugin's ws options) and one route, `BARE_PATH`, that accepts a socket and does
// nothing with it. The memory run measures it the same way as the live sessions, to tell
// what an idle connection costs anyway from the plugin's own share.
//
// `start` with `echo: true` serves a bare `ws` echo server instead (no Fastify, no
// permessage-deflate): every frame is answered with one text frame of `setReply`'s size, the
// floor the load_two_slots run compares the live server with. With `countFrames: true` the
// live app counts the frames it receives, so that `cpu` gives the CPU time per event.
import websocket from '@fastify/websocket'
import Fastify, { type FastifyInstance } from 'fastify'
import { createServer, type Server } from 'node:http'
import { writeHeapSnapshot } from 'node:v8'
import { WebSocketServer } from 'ws'
import { DEFAULT_LIMITS, type LiveViewLimits } from '../plugin.js'
import { BARE_PATH, openFilesLimit, serve, sleep } from './procs.js'
import { buildApp } from './scenarios.js'

let app: FastifyInstance | undefined
let echo: { http: Server, wss: WebSocketServer } | undefined
/** Frames received (counted by the echo server, and by the live app with `countFrames`). */
let frames = 0
/** The echo server's answer to every frame. */
let reply = echoReply(64)
const gc = (globalThis as { gc?: () => void }).gc

/** A frame of `bytes` bytes that reads as a patch reply (`[0,"p",…`), padded with `x`. */
function echoReply (bytes: number): string {
  const head = '[0,"p",1,"'
  return head + 'x'.repeat(Math.max(0, bytes - head.length - 2)) + '"]'
}

async function startEcho (): Promise<{ http: Server, wss: WebSocketServer }> {
  const http = createServer((_req, res) => { res.writeHead(404).end() })
  const wss = new WebSocketServer({ server: http, perMessageDeflate: false, maxPayload: DEFAULT_LIMITS.maxFrameBytes })
  wss.on('connection', (ws) => {
    ws.on('message', () => {
      frames++
      ws.send(reply)
    })
  })
  await new Promise<void>((resolve) => { http.listen(0, '127.0.0.1', resolve) })
  return { http, wss }
}

async function buildBareApp (): Promise<FastifyInstance> {
  const bare = Fastify({ logger: false })
  await bare.register(websocket, { options: { maxPayload: DEFAULT_LIMITS.maxFrameBytes } })
  // Nothing at all per socket: ws keeps it open (and in its `clients` set, which counts them).
  bare.get(BARE_PATH, { websocket: true }, () => {})
  return bare
}

/** Open live sessions, or open sockets of the bare app or the echo server. */
const count = (): number => echo !== undefined ? echo.wss.clients.size : app!.hasDecorator('liveViewSessions') ? app!.liveViewSessions : app!.websocketServer.clients.size

serve({
  async start (args) {
    if (args.echo === true) {
      echo = await startEcho()
      const address = echo.http.address()
      if (address === null || typeof address === 'string') throw new Error('no port')
      return { port: address.port, perMessageDeflate: echo.wss.options.perMessageDeflate ?? false, openFiles: openFilesLimit(), exposeGc: gc !== undefined }
    }
    app = args.bare === true ? await buildBareApp() : await buildApp({ limits: args.limits as LiveViewLimits })
    if (args.countFrames === true) {
      app.websocketServer.on('connection', (ws: { on: (event: 'message', fn: () => void) => void }) => { ws.on('message', () => { frames++ }) })
    }
    await app.listen({ host: '127.0.0.1', port: 0 })
    const address = app.server.address()
    if (address === null || typeof address === 'string') throw new Error('no port')
    return {
      port: address.port,
      // What ws was created with: @fastify/websocket passes only our maxPayload, and ws
      // defaults perMessageDeflate to false on servers.
      perMessageDeflate: app.websocketServer.options.perMessageDeflate ?? false,
      openFiles: openFilesLimit(),
      exposeGc: gc !== undefined
    }
  },

  /** Heap and RSS after forced collections, and the number of open sessions (or bare sockets). */
  async measure () {
    if (gc === undefined) throw new Error('start the server with --expose-gc')
    for (let i = 0; i < 4; i++) {
      gc()
      await sleep(50)
    }
    const m = process.memoryUsage()
    return { heapUsed: m.heapUsed, rss: m.rss, sessions: count() }
  },

  async sessions () { return count() },

  /** Writes a heap snapshot (after collections) to `path`: to see what a session is made of. */
  async snapshot (args) {
    if (gc !== undefined) for (let i = 0; i < 4; i++) { gc(); await sleep(50) }
    return writeHeapSnapshot(String(args.path))
  },

  /** CPU time used so far (µs), a clock (ms) and the frames received so far: the server's CPU share of a run, and its CPU per event. */
  async cpu () {
    const c = process.cpuUsage()
    return { us: c.user + c.system, at: performance.now(), frames }
  },

  /** The echo server's answers from now on: `bytes` bytes each. */
  async setReply (args) {
    reply = echoReply(args.bytes as number)
    return Buffer.byteLength(reply)
  },

  async stop () {
    await app?.close()
    app = undefined
    if (echo !== undefined) {
      for (const ws of echo.wss.clients) ws.terminate()
      echo.wss.close()
      await new Promise((resolve) => echo!.http.close(resolve))
      echo = undefined
    }
    return true
  }
})

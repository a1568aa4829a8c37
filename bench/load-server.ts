// The server process of the `load` and `memory` runs: the benchmark app (the counter at
// /counter) on 127.0.0.1, one process, driven by bench/run.ts over IPC.
//
// `start` with `bare: true` serves no live view at all: a Fastify app with @fastify/websocket
// (the plugin's ws options) and one route, `BARE_PATH`, that accepts a socket and does
// nothing with it. The memory run measures it the same way as the live sessions, to tell
// what an idle connection costs anyway from the plugin's own share.
import websocket from '@fastify/websocket'
import Fastify, { type FastifyInstance } from 'fastify'
import { writeHeapSnapshot } from 'node:v8'
import { DEFAULT_LIMITS, type LiveViewLimits } from '../plugin.js'
import { BARE_PATH, openFilesLimit, serve, sleep } from './procs.js'
import { buildApp } from './scenarios.js'

let app: FastifyInstance | undefined
const gc = (globalThis as { gc?: () => void }).gc

async function buildBareApp (): Promise<FastifyInstance> {
  const bare = Fastify({ logger: false })
  await bare.register(websocket, { options: { maxPayload: DEFAULT_LIMITS.maxFrameBytes } })
  // Nothing at all per socket: ws keeps it open (and in its `clients` set, which counts them).
  bare.get(BARE_PATH, { websocket: true }, () => {})
  return bare
}

/** Open live sessions, or open sockets of the bare app. */
const count = (): number => app!.hasDecorator('liveViewSessions') ? app!.liveViewSessions : app!.websocketServer.clients.size

serve({
  async start (args) {
    app = args.bare === true ? await buildBareApp() : await buildApp({ limits: args.limits as LiveViewLimits })
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

  /** CPU time used so far (µs) and a clock (ms), to work out the server's CPU share of a run. */
  async cpu () {
    const c = process.cpuUsage()
    return { us: c.user + c.system, at: performance.now() }
  },

  async stop () {
    await app?.close()
    app = undefined
    return true
  }
})

// The server process of the `load` and `memory` runs: the benchmark app (the counter at
// /counter) on 127.0.0.1, one process, driven by bench/run.ts over IPC.
import type { FastifyInstance } from 'fastify'
import type { LiveViewLimits } from '../plugin.js'
import { openFilesLimit, serve, sleep } from './procs.js'
import { buildApp } from './scenarios.js'

let app: FastifyInstance | undefined
const gc = (globalThis as { gc?: () => void }).gc

serve({
  async start (args) {
    app = await buildApp({ limits: args.limits as LiveViewLimits })
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

  /** Heap and RSS after forced collections, and the number of open sessions. */
  async measure () {
    if (gc === undefined) throw new Error('start the server with --expose-gc')
    for (let i = 0; i < 4; i++) {
      gc()
      await sleep(50)
    }
    const m = process.memoryUsage()
    return { heapUsed: m.heapUsed, rss: m.rss, sessions: app!.liveViewSessions }
  },

  async sessions () { return app!.liveViewSessions },

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

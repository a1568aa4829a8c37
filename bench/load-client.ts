// The client process of the `load` and `memory` runs: opens real pages and sockets against
// the bench server on 127.0.0.1 (GET the page, join with its token), then either loops
// events (one in flight per connection) or holds the sessions idle. Driven by bench/run.ts.
// Against the bare server of the memory run (`bare: true`) a connection is a plain socket
// to its route, opened the same way (same ws options, as many at once), and nothing sent.
import { Agent, get } from 'node:http'
import { performance } from 'node:perf_hooks'
import WebSocket from 'ws'
import { PROTOCOL_VERSION } from '../lib/protocol.js'
import { BARE_PATH, openFilesLimit, serve } from './procs.js'

/** The page and event of a run, unless `connect` and `run` name others. */
const PATH = '/counter'
const EVENT = 'inc'
/** Pages fetched and sockets joined at once while connecting. */
const CONNECT_CONCURRENCY = 32

function getPage (port: number, agent: Agent, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = get({ host: '127.0.0.1', port, path, agent }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => { body += chunk })
      res.on('end', () => {
        if (res.statusCode !== 200) reject(new Error(`GET ${path} answered ${String(res.statusCode)}`))
        else resolve(body)
      })
      res.on('error', reject)
    })
    req.setTimeout(15000, () => { req.destroy(new Error(`GET ${path} timed out`)) })
    req.on('error', reject)
  })
}

/** GETs the page, opens its socket and joins; resolves once the join is answered. */
async function openSession (port: number, agent: Agent, path: string, deflate = false): Promise<WebSocket> {
  const body = await getPage(port, agent, path)
  const token = /data-lv-token="([^"]+)"/.exec(body)?.[1]
  const socketPath = /data-lv-socket="([^"]+)"/.exec(body)?.[1]
  if (token === undefined || socketPath === undefined) throw new Error(`GET ${path} is not a live page`)
  const ws = new WebSocket(`ws://127.0.0.1:${port}${socketPath}`, { perMessageDeflate: deflate })
  await ready(ws, 'join', (done, fail) => {
    ws.once('open', () => {
      ws.send(JSON.stringify([1, 'join', { v: PROTOCOL_VERSION, token, url: `http://127.0.0.1:${port}${path}`, pristine: true }]))
    })
    ws.once('message', (data: Buffer) => {
      const text = data.toString()
      if (text.startsWith('[1,"mount",')) done()
      else fail(new Error(`join refused: ${text.slice(0, 200)}`))
    })
  })
  return ws
}

/**
 * Waits until `start` calls `done` (an open socket, a joined one), within 15 s; a socket
 * that errors or closes first fails it. Afterwards the socket's errors are ignored.
 */
async function ready (ws: WebSocket, what: string, start: (done: () => void, fail: (err: Error) => void) => void): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const fail = (err: Error): void => { clearTimeout(timer); ws.terminate(); reject(err) }
    const timer = setTimeout(() => { fail(new Error(`${what} timed out`)) }, 15000)
    start(() => {
      clearTimeout(timer)
      ws.removeAllListeners('error')
      ws.removeAllListeners('close')
      ws.on('error', () => {})
      resolve()
    }, fail)
    ws.once('error', fail)
    ws.once('close', (code) => { fail(new Error(`socket closed (${code}) before the ${what}`)) })
  })
}

/** Opens a socket to the bare server's route; resolves once it is open (nothing is sent). */
async function openBare (port: number): Promise<WebSocket> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}${BARE_PATH}`, { perMessageDeflate: false })
  await ready(ws, 'open', (done) => { ws.once('open', done) })
  return ws
}

/**
 * Opens `n` joined sessions of `path` (or with `bare`, sockets to the bare or echo server),
 * `CONNECT_CONCURRENCY` at a time; the HTTP connections are closed afterwards.
 */
async function openMany (port: number, n: number, path: string, bare = false): Promise<WebSocket[]> {
  const agent = new Agent({ keepAlive: true, maxSockets: CONNECT_CONCURRENCY })
  const out: WebSocket[] = []
  let next = 0
  try {
    await Promise.all(Array.from({ length: Math.min(n, CONNECT_CONCURRENCY) }, async () => {
      while (next < n) {
        next++
        out.push(bare ? await openBare(port) : await openSession(port, agent, path))
      }
    }))
  } catch (err) {
    for (const ws of out) ws.terminate()
    throw err
  } finally {
    // No idle keep-alive HTTP sockets stay behind on the server (they would count as session memory).
    agent.destroy()
  }
  return out
}

async function closeMany (sockets: WebSocket[]): Promise<void> {
  await Promise.all(sockets.map((ws) => new Promise<void>((resolve) => {
    if (ws.readyState === ws.CLOSED) { resolve(); return }
    const timer = setTimeout(() => { ws.terminate(); resolve() }, 3000)
    ws.once('close', () => { clearTimeout(timer); resolve() })
    ws.close(1000)
  })))
}

function percentile (sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!
}

const held: WebSocket[] = []

serve({
  /** One connection that offers permessage-deflate: what did the server agree to? (With `bare`, only the open-files limit.) */
  async probe (args) {
    if (args.bare === true) return { extensions: '', openFiles: openFilesLimit() }
    const agent = new Agent({ keepAlive: false })
    const ws = await openSession(args.port as number, agent, (args.path as string | undefined) ?? PATH, true)
    const extensions = ws.extensions
    await closeMany([ws])
    return { extensions, openFiles: openFilesLimit() }
  },

  /** Opens `n` idle joined sessions of `path` (with `bare`, bare sockets) and keeps them. */
  async connect (args) {
    const sockets = await openMany(args.port as number, args.n as number, (args.path as string | undefined) ?? PATH, args.bare === true)
    held.push(...sockets)
    return { held: held.length }
  },

  async closeAll () {
    await closeMany(held.splice(0))
    return true
  },

  /**
   * The held sessions each loop one event (`event`, default `inc`, with `params`; the next goes when the
   * reply arrives) for `warmupMs`, then `measureMs`; replies that arrive inside the measured
   * window count.
   */
  async run (args) {
    const warmupMs = args.warmupMs as number
    const measureMs = args.measureMs as number
    const event = (args.event as string | undefined) ?? EVENT
    const params = JSON.stringify(args.params ?? {})
    const sockets = held
    const latencies: number[] = []
    const ops: Record<string, number> = {}
    let bytes = 0
    let inflight = 0
    const t0 = performance.now()
    const from = t0 + warmupMs
    const to = from + measureMs
    // This process's CPU over the window (is the client the bottleneck?).
    let cpuFrom: { cpu: NodeJS.CpuUsage, at: number } | undefined
    let cpuTo: { cpu: NodeJS.CpuUsage, at: number } | undefined
    let finished = 0
    let lost = 0
    for (const ws of sockets) ws.once('close', () => { lost++ })
    await new Promise<void>((resolve) => {
      // Bounded: replies still missing 10 s after the window are given up on.
      const guard = setTimeout(resolve, warmupMs + measureMs + 10000)
      const done = (): void => { clearTimeout(guard); resolve() }
      for (const ws of sockets) {
        let ref = 1
        let sentAt = 0
        const sendNext = (): void => {
          inflight++
          sentAt = performance.now()
          ws.send(`[${++ref},"e",1,"${event}",${params}]`)
        }
        ws.on('message', (data: Buffer) => {
          const now = performance.now()
          inflight--
          if (now >= from && now < to) {
            cpuFrom ??= { cpu: process.cpuUsage(), at: now }
            latencies.push(now - sentAt)
            bytes += data.length
            // The op follows the ref: [ref,"p",… / "h" / "ok" / "err"
            const op = String.fromCharCode(data[data.indexOf(44) + 2]!)
            ops[op] = (ops[op] ?? 0) + 1
          }
          if (now < to) sendNext()
          else {
            cpuTo ??= { cpu: process.cpuUsage(), at: now }
            if (++finished === sockets.length && inflight === 0) done()
          }
        })
        sendNext()
      }
    })
    const measuredS = measureMs / 1000
    const closedEarly = lost
    for (const ws of sockets) { ws.removeAllListeners('message'); ws.removeAllListeners('close') }
    const sorted = Float64Array.from(latencies).sort()
    const cpuPct = cpuFrom === undefined || cpuTo === undefined
      ? NaN
      : (cpuTo.cpu.user - cpuFrom.cpu.user + cpuTo.cpu.system - cpuFrom.cpu.system) / 1000 / (cpuTo.at - cpuFrom.at) * 100
    return {
      connections: sockets.length,
      events: sorted.length,
      events_per_s: sorted.length / measuredS,
      p50_ms: percentile(sorted, 0.5),
      p99_ms: percentile(sorted, 0.99),
      bytes_per_reply: sorted.length === 0 ? NaN : bytes / sorted.length,
      replies: { patch: ops.p ?? 0, html: ops.h ?? 0, ok: ops.o ?? 0, error: ops.e ?? 0 },
      closed_early: closedEarly,
      client_cpu_pct: cpuPct,
      elapsed_s: (performance.now() - t0) / 1000
    }
  }
})

// The load runs: one server process and one client process on 127.0.0.1 (bench/load-server.ts,
// bench/load-client.ts), real pages and sockets, deflate off, one event in flight per
// connection. `load` runs the counter; `load_two_slots` runs the two-slot counter of issue 11
// beside a bare `ws` echo server, level by level, with the same client process.
import { Child, sleep } from './procs.js'
import { progress, round } from './report.js'

export const SERVER_SCRIPT = new URL('./load-server.js', import.meta.url)
export const CLIENT_SCRIPT = new URL('./load-client.js', import.meta.url)

export interface Started { port: number, perMessageDeflate: unknown, openFiles: number | undefined, exposeGc: boolean }

export interface LoadSettings {
  connections: number[]
  warmupMs: number
  measureMs: number
}

export interface LoadLevel {
  events_per_s: number
  p50_ms: number
  p99_ms: number
  connections: number
  events: number
  bytes_per_reply: number
  replies: { patch: number, html: number, ok: number, error: number }
  closed_early: number
  elapsed_s: number
  /** CPU use of the server process over the measured window, and of the client over its window, in % of one core. */
  server_cpu_pct: number
  client_cpu_pct: number
  /** The server's CPU time (process.cpuUsage(), user + system) over the measured window ÷ the frames it received in it, in µs. */
  server_cpu_us_per_event: number
}

export interface LoadResult { levels: Record<string, LoadLevel>, deflate: { server_option: unknown, negotiated: string } }

/** One level of load_two_slots: the live server and the echo server at the same connection count, and their ratios. */
export interface TwoSlotsLevel {
  live: LoadLevel
  echo: LoadLevel
  /** live ÷ echo */
  p50_over_echo: number | null
  cpu_over_echo: number | null
  events_per_s_over_echo: number | null
}

export interface TwoSlotsResult { path: string, event: string, levels: Record<string, TwoSlotsLevel>, deflate: { server_option: unknown, negotiated: string, echo_option: unknown } }

interface Cpu { us: number, at: number, frames: number }

export async function waitForSessions (server: Child, count: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (await server.request<number>('sessions', {}, 10000) === count) return
    await sleep(50)
  }
  throw new Error(`the server still has sessions other than ${count} after 5 s`)
}

/** Starts a live server (frames counted) and checks that the client's offer of permessage-deflate is refused. */
async function startLive (server: Child, client: Child, limits: object, path: string): Promise<{ started: Started, negotiated: string }> {
  const started = await server.request<Started>('start', { limits, countFrames: true }, 30000)
  const probe = await client.request<{ extensions: string }>('probe', { port: started.port, path }, 30000)
  if (started.perMessageDeflate !== false || probe.extensions !== '') {
    throw new Error(`load: permessage-deflate is not off (server option ${JSON.stringify(started.perMessageDeflate)}, negotiated '${probe.extensions}')`)
  }
  await waitForSessions(server, 0)
  return { started, negotiated: probe.extensions }
}

/**
 * One level: `c` connections loop `event` for the warm-up, then the measured window. The
 * server's CPU and frame count are read at the window's start and end (the parent sleeps
 * through the warm-up, then through the window).
 */
async function measureLevel (name: string, server: Child, client: Child, port: number, c: number, s: LoadSettings, target: { path?: string, event: string, bare?: boolean }): Promise<LoadLevel> {
  progress(`${name} c${c}: ${c} connections, ${s.warmupMs / 1000} s warm-up + ${s.measureMs / 1000} s measured`)
  await client.request('connect', { port, n: c, path: target.path, bare: target.bare === true }, 300000)
  const running = client.request<LoadLevel>('run', { warmupMs: s.warmupMs, measureMs: s.measureMs, event: target.event }, s.warmupMs + s.measureMs + 60000)
  running.catch(() => {})
  await sleep(s.warmupMs)
  const cpu0 = await server.request<Cpu>('cpu', {}, 10000)
  await sleep(s.measureMs)
  const cpu1 = await server.request<Cpu>('cpu', {}, 10000)
  const r = await running
  await client.request('closeAll', {}, 60000)
  if (r.replies.error > 0 || r.replies.ok > 0 || r.closed_early > 0 || r.events === 0) {
    throw new Error(`${name} c${c}: ${r.events} events, replies ${JSON.stringify(r.replies)}, ${r.closed_early} connections closed early`)
  }
  await waitForSessions(server, 0)
  return {
    ...r,
    events_per_s: Math.round(r.events_per_s),
    p50_ms: round(r.p50_ms, 3)!,
    p99_ms: round(r.p99_ms, 3)!,
    bytes_per_reply: round(r.bytes_per_reply, 1)!,
    elapsed_s: round(r.elapsed_s, 2)!,
    server_cpu_pct: Math.round((cpu1.us - cpu0.us) / 1000 / (cpu1.at - cpu0.at) * 100),
    client_cpu_pct: Math.round(r.client_cpu_pct),
    server_cpu_us_per_event: round((cpu1.us - cpu0.us) / (cpu1.frames - cpu0.frames), 2)!
  }
}

/** `load`: the counter at each connection count. */
export async function runLoad (s: LoadSettings, limits: object): Promise<LoadResult> {
  const server = new Child('load server', SERVER_SCRIPT)
  const client = new Child('load client', CLIENT_SCRIPT)
  try {
    const { started, negotiated } = await startLive(server, client, limits, '/counter')
    const levels: Record<string, LoadLevel> = {}
    for (const c of s.connections) levels[`c${c}`] = await measureLevel('load', server, client, started.port, c, s, { path: '/counter', event: 'inc' })
    return { levels, deflate: { server_option: started.perMessageDeflate, negotiated } }
  } finally {
    await client.kill()
    await server.kill()
  }
}

export const TWO_SLOTS_PATH = '/counter2'

/**
 * `load_two_slots`: at each connection count, the two-slot counter, then the echo server
 * answering each frame with a frame of the size the live server's replies had at that level.
 * Both servers are their own processes, alive through the run (the one not measured idles).
 */
export async function runLoadTwoSlots (s: LoadSettings, limits: object): Promise<TwoSlotsResult> {
  const server = new Child('two-slots server', SERVER_SCRIPT)
  const echo = new Child('echo server', SERVER_SCRIPT)
  const client = new Child('load client', CLIENT_SCRIPT)
  try {
    const { started, negotiated } = await startLive(server, client, limits, TWO_SLOTS_PATH)
    const echoStarted = await echo.request<Started>('start', { echo: true }, 30000)
    if (echoStarted.perMessageDeflate !== false) throw new Error(`load_two_slots: the echo server has permessage-deflate ${JSON.stringify(echoStarted.perMessageDeflate)}`)
    const levels: Record<string, TwoSlotsLevel> = {}
    for (const c of s.connections) {
      const live = await measureLevel('load_two_slots', server, client, started.port, c, s, { path: TWO_SLOTS_PATH, event: 'inc' })
      await echo.request('setReply', { bytes: Math.round(live.bytes_per_reply) }, 10000)
      const bare = await measureLevel('echo', echo, client, echoStarted.port, c, s, { event: 'inc', bare: true })
      const over = (a: number, b: number): number | null => b > 0 && Number.isFinite(a / b) ? round(a / b, 2) : null
      levels[`c${c}`] = {
        live,
        echo: bare,
        p50_over_echo: over(live.p50_ms, bare.p50_ms),
        cpu_over_echo: over(live.server_cpu_us_per_event, bare.server_cpu_us_per_event),
        events_per_s_over_echo: over(live.events_per_s, bare.events_per_s)
      }
    }
    return { path: TWO_SLOTS_PATH, event: 'inc', levels, deflate: { server_option: started.perMessageDeflate, negotiated, echo_option: echoStarted.perMessageDeflate } }
  } finally {
    await client.kill()
    await echo.kill()
    await server.kill()
  }
}

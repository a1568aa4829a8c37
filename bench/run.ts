// `npm run bench`: the benchmark of fastify-liveview (issue "Fast server diffs and a
// benchmark anyone can run"). Prints a table with the issue's targets, or with --json one
// JSON object on stdout. Progress goes to stderr.
//
//   npm run bench                       full run (about 2 minutes)
//   npm run bench -- --quick            shorter run (under a minute)
//   npm run -s bench -- --json          one JSON object on stdout (-s: no npm banner lines)
//   npm run bench -- --only counter,load   some sections / scenarios only
//   npm run bench -- --only rollback,alloc  the cost of rollback (bench/rollback.ts, bench/alloc.ts)
//
// To profile one scenario: node --cpu-prof dist/bench/run.js --only table100_edit
import { spawnSync } from 'node:child_process'
import { createRequire } from 'node:module'
import { cpus, freemem, loadavg, platform, arch, release, totalmem } from 'node:os'
import { performance } from 'node:perf_hooks'
import { gzipSync } from 'node:zlib'
import { DiffDOM } from 'diff-dom'
import { DEFAULT_LIMITS } from '../plugin.js'
import { live } from '../testing.js'
import { renderAlloc, runAlloc, type AllocResult } from './alloc.js'
import { Child, sleep } from './procs.js'
import { fmt, opOf, percentile, progress, round, table, withTarget, type Target } from './report.js'
import { renderRollback, rollbackTargets, runRollback, type RollbackResult } from './rollback.js'
import { SCENARIOS, buildApp, openSession } from './scenarios.js'

const HELP = `Usage: node dist/bench/run.js [--quick] [--json] [--only LIST]

  --quick       shorter run (fewer events, 3 s load windows), under a minute
  --json        print one JSON object on stdout instead of the table
  --only LIST   comma-separated sections or scenario names:
                scenarios, ${SCENARIOS.map((s) => s.name).join(', ')},
                testing_mount_click, client, rollback, alloc, load, memory
`

// ---------------------------------------------------------------------------------------
// Arguments and settings

const argv = process.argv.slice(2)
if (argv.includes('--help') || argv.includes('-h')) {
  process.stdout.write(HELP)
  process.exit(0)
}
let only: Set<string> | undefined
for (let i = 0; i < argv.length; i++) {
  const arg = argv[i]!
  if (arg === '--quick' || arg === '--json') continue
  if (arg === '--only' || arg.startsWith('--only=')) {
    const list = arg === '--only' ? argv[++i] : arg.slice('--only='.length)
    if (list === undefined || list === '') fail('--only needs a list')
    only = new Set(list.split(',').map((s) => s.trim()).filter((s) => s !== ''))
    continue
  }
  fail(`unknown argument ${arg}\n\n${HELP}`)
}
const QUICK = argv.includes('--quick')
const JSON_OUT = argv.includes('--json')

const SECTIONS = ['scenarios', 'testing_mount_click', 'client', 'rollback', 'alloc', 'load', 'memory']
const SCENARIO_NAMES = SCENARIOS.map((s) => s.name)
if (only !== undefined) {
  for (const name of only) {
    if (!SECTIONS.includes(name) && !SCENARIO_NAMES.includes(name) && name !== 'testing') fail(`--only: unknown section or scenario '${name}'\n\n${HELP}`)
  }
}
const wants = (section: string): boolean => only === undefined || only.has(section) || (section === 'testing_mount_click' && only.has('testing'))
const selectedScenarios = SCENARIOS.filter((s) => wants('scenarios') || only!.has(s.name))

/**
 * The per-connection event rate limit, raised out of the way of the measurements (the
 * defaults are 30/s with bursts of 60): the benchmark measures the engine, not the limiter.
 * Everything else stays at its default.
 */
/**
 * What the benchmark raises out of the way: the frame rate limit, and the socket caps (its
 * load client opens every connection from 127.0.0.1, over the default `socketsPerIp`).
 */
const RATE_LIMIT = { eventsPerSecond: 1_000_000_000, eventBurst: 1_000_000_000, socketsPerIp: 1_000_000, maxSockets: 1_000_000 }

const S = {
  /**
   * Warm-up per scenario: at least this many events and at least `warmupMs` of running.
   * The JIT needs far more than a few hundred events to settle: after 500 warm-up events
   * the counter measured about 2x its steady-state time.
   */
  warmup: QUICK ? 200 : 500,
  warmupMs: QUICK ? 1000 : 2000,
  measured: QUICK ? 500 : 2000,
  /** Consecutive render pairs given to diff-dom, per scenario (spread evenly over the measured events). */
  diffdomPairsSmall: 500,
  /** The same for pages over 50 KB (1000 rows), where one diff-dom diff costs ~50 ms. */
  diffdomPairsLarge: 30,
  loadConnections: [1, 50, 500],
  loadWarmupMs: QUICK ? 500 : 1000,
  loadMeasureMs: QUICK ? 3000 : 10000,
  memorySessions: QUICK ? 2000 : 4000,
  memoryWarmupSessions: 50,
  /** The rollback section (bench/rollback.ts): runs of `measured` events, alternating on and off. */
  rollback: {
    warmup: QUICK ? 2000 : 5000,
    warmupMs: QUICK ? 1000 : 2000,
    measured: QUICK ? 500 : 2000,
    runWarmup: 200,
    rounds: 3,
    copies: QUICK ? 100 : 300
  },
  /** The alloc section (bench/alloc.ts): batches of `events` events, alternating on and off. */
  alloc: {
    warmup: QUICK ? 2000 : 5000,
    warmupMs: QUICK ? 1000 : 2000,
    events: 1000,
    rounds: QUICK ? 3 : 5,
    batches: 3,
    settle: 2000
  }
}

const require = createRequire(import.meta.url)
const DIFFDOM_VERSION = (require('diff-dom/package.json') as { version: string }).version

// ---------------------------------------------------------------------------------------
// Helpers

function fail (message: string): never {
  process.stderr.write(`bench: ${message}\n`)
  process.exit(2)
}

// ---------------------------------------------------------------------------------------
// Scenarios: in-process, one event at a time

interface ScenarioResult {
  server_us_p50: number | null
  server_us_p99: number | null
  bytes_per_update: number | null
  diffdom_us_p50: number | null
  page_bytes: number | null
  /** Events measured, after the warm-up. */
  events: number
  /** Warm-up events before them. */
  warmup_events: number
  /** Render pairs given to diff-dom, and its warm-up diffs before them. */
  diffdom_pairs?: number
  diffdom_warmup?: number
  /** Measured events answered with full HTML instead of a patch. */
  html_frames?: number
}

async function runScenarios (): Promise<Record<string, ScenarioResult>> {
  const out: Record<string, ScenarioResult> = {}
  const app = await buildApp({ limits: RATE_LIMIT })
  await app.ready()
  try {
    for (const s of selectedScenarios) {
      progress(`scenario ${s.name}: warm-up (≥ ${S.warmup} events, ≥ ${S.warmupMs / 1000} s), then ${S.measured} measured events`)
      const { send, session } = await openSession(app, s.path)
      const check = (frame: string): string => {
        const op = opOf(frame)
        if (op !== 'p' && op !== 'h' && op !== 'ok') throw new Error(`${s.name}: the event was answered with ${frame.slice(0, 300)}`)
        return op
      }
      let warmup = 0
      const warmStart = performance.now()
      // An even count: scenarios that alternate (table1000_insert) start measuring at 1000 rows.
      while (warmup < S.warmup || performance.now() - warmStart < S.warmupMs || warmup % 2 === 1) {
        check((await send(s.event)).frame)
        warmup++
      }

      const large = session.html!.length > 50_000
      const stride = Math.max(1, Math.ceil(S.measured / (large ? S.diffdomPairsLarge : S.diffdomPairsSmall)))
      const pairs: Array<[string, string]> = []
      const us = new Float64Array(S.measured)
      let bytes = 0
      let htmlFrames = 0
      let lastFrame = ''
      for (let i = 0; i < S.measured; i++) {
        const before = session.html!
        const r = await send(s.event)
        us[i] = r.us
        bytes += Buffer.byteLength(r.frame)
        if (check(r.frame) === 'h') htmlFrames++
        if (i % stride === 0) pairs.push([before, session.html!])
        lastFrame = r.frame
      }
      us.sort()
      const ref = /^\[(\d+),/.exec(lastFrame)![1]
      const pageBytes = Buffer.byteLength(`[${ref},"h",${session.version},${JSON.stringify(session.html)}]`)
      await session.close()

      progress(`scenario ${s.name}: diff-dom on ${pairs.length} render pairs, after the same warm-up time`)
      const differ = new DiffDOM()
      // diff-dom gets a warm-up as long as the server's, on the same pairs, so the ratio is fair.
      let ddWarmup = 0
      const ddWarmStart = performance.now()
      while (ddWarmup < Math.min(S.warmup, pairs.length) || performance.now() - ddWarmStart < S.warmupMs) {
        const [a, b] = pairs[ddWarmup % pairs.length]!
        differ.diff(a, b)
        ddWarmup++
      }
      const dd = new Float64Array(pairs.length)
      for (let i = 0; i < pairs.length; i++) {
        const [a, b] = pairs[i]!
        const start = performance.now()
        differ.diff(a, b)
        dd[i] = (performance.now() - start) * 1000
      }
      dd.sort()
      out[s.name] = {
        server_us_p50: round(percentile(us, 0.5), 1),
        server_us_p99: round(percentile(us, 0.99), 1),
        bytes_per_update: round(bytes / S.measured, 1),
        diffdom_us_p50: round(percentile(dd, 0.5), 1),
        page_bytes: pageBytes,
        events: S.measured,
        warmup_events: warmup,
        diffdom_pairs: pairs.length,
        diffdom_warmup: ddWarmup,
        html_frames: htmlFrames
      }
    }
  } finally {
    await app.close()
  }
  return out
}

/** The testing API's mount-and-click: `live(app, '/counter')` (GET + join) then one click. */
async function runTestingMountClick (): Promise<ScenarioResult> {
  progress(`scenario testing_mount_click: warm-up (≥ ${S.warmup} mounts, ≥ ${S.warmupMs / 1000} s), then ${S.measured} measured mounts`)
  // Defaults throughout (one event per session: the rate limit plays no part).
  const app = await buildApp()
  await app.ready()
  try {
    const once = async (): Promise<number> => {
      const start = process.hrtime.bigint()
      const page = await live(app, '/counter')
      const reply = await page.click('button[lv-click=inc]')
      const us = Number(process.hrtime.bigint() - start) / 1000
      if (!reply.changed) throw new Error(`testing_mount_click: the click was answered with ${reply.frame.slice(0, 300)}`)
      await page.close()
      return us
    }
    let warmup = 0
    const warmStart = performance.now()
    while (warmup < S.warmup || performance.now() - warmStart < S.warmupMs) {
      await once()
      warmup++
    }
    const us = new Float64Array(S.measured)
    for (let i = 0; i < S.measured; i++) us[i] = await once()
    us.sort()
    return {
      server_us_p50: round(percentile(us, 0.5), 1),
      server_us_p99: round(percentile(us, 0.99), 1),
      bytes_per_update: null,
      diffdom_us_p50: null,
      page_bytes: null,
      events: S.measured,
      warmup_events: warmup
    }
  } finally {
    await app.close()
  }
}

// ---------------------------------------------------------------------------------------
// Client script size

interface ClientResult { min_bytes: number, gzip_bytes: number, gzip: string, url: string }

async function runClient (): Promise<ClientResult> {
  progress('client: the script as served, gzip -9')
  const app = await buildApp()
  try {
    const page = await app.inject('/counter')
    const url = /<script src="([^"]+)"/.exec(page.body)?.[1]
    if (url === undefined) throw new Error('client: no <script src> in the page')
    const res = await app.inject(url)
    if (res.statusCode !== 200) throw new Error(`client: GET ${url} answered ${res.statusCode}`)
    const bytes = res.rawPayload
    let gzipBytes: number
    let gzip = 'gzip -9'
    const run = spawnSync('gzip', ['-9', '-c'], { input: bytes, maxBuffer: 64 * 1024 * 1024 })
    if (run.error === undefined && run.status === 0 && run.stdout.length > 0) {
      gzipBytes = run.stdout.length
    } else {
      gzip = 'zlib level 9 (no gzip binary)'
      gzipBytes = gzipSync(bytes, { level: 9 }).length
    }
    return { min_bytes: bytes.length, gzip_bytes: gzipBytes, gzip, url }
  } finally {
    await app.close()
  }
}

// ---------------------------------------------------------------------------------------
// Load and memory: a server process and a client process on 127.0.0.1

const SERVER_SCRIPT = new URL('./load-server.js', import.meta.url)
const CLIENT_SCRIPT = new URL('./load-client.js', import.meta.url)

interface Started { port: number, perMessageDeflate: unknown, openFiles: number | undefined, exposeGc: boolean }
interface LoadLevel {
  events_per_s: number
  p50_ms: number
  p99_ms: number
  connections: number
  events: number
  bytes_per_reply: number
  replies: { patch: number, html: number, ok: number, error: number }
  closed_early: number
  elapsed_s: number
  /** CPU use of the server process over the run (warm-up and window), and of the client over the window, in % of one core. */
  server_cpu_pct: number
  client_cpu_pct: number
}
interface LoadResult { levels: Record<string, LoadLevel>, deflate: { server_option: unknown, negotiated: string } }

async function waitForSessions (server: Child, count: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (await server.request<number>('sessions', {}, 10000) === count) return
    await sleep(50)
  }
  throw new Error(`the server still has sessions other than ${count} after 5 s`)
}

async function runLoad (): Promise<LoadResult> {
  const server = new Child('load server', SERVER_SCRIPT)
  const client = new Child('load client', CLIENT_SCRIPT)
  try {
    const started = await server.request<Started>('start', { limits: RATE_LIMIT }, 30000)
    const probe = await client.request<{ extensions: string }>('probe', { port: started.port }, 30000)
    if (started.perMessageDeflate !== false || probe.extensions !== '') {
      throw new Error(`load: permessage-deflate is not off (server option ${JSON.stringify(started.perMessageDeflate)}, negotiated '${probe.extensions}')`)
    }
    await waitForSessions(server, 0)
    const levels: Record<string, LoadLevel> = {}
    for (const c of S.loadConnections) {
      progress(`load c${c}: ${c} connections, ${S.loadWarmupMs / 1000} s warm-up + ${S.loadMeasureMs / 1000} s measured`)
      await client.request('connect', { port: started.port, n: c }, 300000)
      const cpu0 = await server.request<{ us: number, at: number }>('cpu', {}, 10000)
      const r = await client.request<LoadLevel>('run', { warmupMs: S.loadWarmupMs, measureMs: S.loadMeasureMs }, S.loadWarmupMs + S.loadMeasureMs + 60000)
      const cpu1 = await server.request<{ us: number, at: number }>('cpu', {}, 10000)
      await client.request('closeAll', {}, 60000)
      r.server_cpu_pct = (cpu1.us - cpu0.us) / 1000 / (cpu1.at - cpu0.at) * 100
      if (r.replies.error > 0 || r.replies.ok > 0 || r.closed_early > 0 || r.events === 0) {
        throw new Error(`load c${c}: ${r.events} events, replies ${JSON.stringify(r.replies)}, ${r.closed_early} connections closed early`)
      }
      levels[`c${c}`] = {
        ...r,
        events_per_s: Math.round(r.events_per_s),
        p50_ms: round(r.p50_ms, 3)!,
        p99_ms: round(r.p99_ms, 3)!,
        bytes_per_reply: round(r.bytes_per_reply, 1)!,
        elapsed_s: round(r.elapsed_s, 2)!,
        server_cpu_pct: Math.round(r.server_cpu_pct),
        client_cpu_pct: Math.round(r.client_cpu_pct)
      }
      await waitForSessions(server, 0)
    }
    return { levels, deflate: { server_option: started.perMessageDeflate, negotiated: probe.extensions } }
  } finally {
    await client.kill()
    await server.kill()
  }
}

interface MemoryResult {
  /** Per idle joined counter session, once hibernated: heap and RSS (KiB). */
  idle_session_kib: number
  idle_session_rss_kib: number
  /** The same sessions just after their join, before they hibernate. */
  joined_session_kib: number
  joined_session_rss_kib: number
  /** Per idle socket of a bare @fastify/websocket app (a route that does nothing), measured the same way. */
  bare_socket_kib: number
  bare_socket_rss_kib: number
  /** idle_session_kib − bare_socket_kib: what the plugin itself holds per idle session. */
  plugin_share_kib: number
  /** joined_session_kib − bare_socket_kib: the same before hibernation. */
  plugin_share_joined_kib: number
  sessions: number
}

/** The bench's hibernation period (the default is 15,000 ms): idle sessions hibernate within two. */
const HIBERNATE_MS = 500

/**
 * One server process (the benchmark app, or with `bare` the bare WebSocket app) and one
 * client process: warm-up connections, then `n` idle ones; heap and RSS after gc(),
 * (after − before) / n, in KiB.
 */
async function measureIdle (bare: boolean, hibernateMs: number): Promise<{ heapKib: number, rssKib: number }> {
  const n = S.memorySessions
  const what = bare ? 'bare sockets' : 'sessions'
  const server = new Child(bare ? 'bare memory server' : 'memory server', SERVER_SCRIPT, ['--expose-gc'])
  const client = new Child(bare ? 'bare memory client' : 'memory client', CLIENT_SCRIPT)
  try {
    const started = await server.request<Started>('start', { limits: { ...RATE_LIMIT, hibernateAfterMs: hibernateMs }, bare }, 30000)
    const probe = await client.request<{ openFiles: number | undefined }>('probe', { port: started.port, bare }, 30000)
    const need = n + S.memoryWarmupSessions + 200
    for (const [who, limit] of [['server', started.openFiles], ['client', probe.openFiles]] as const) {
      if (limit !== undefined && limit < need) throw new Error(`memory: the ${who} process may open ${limit} files, ${need} are needed: raise 'ulimit -n'`)
    }
    progress(`memory: ${S.memoryWarmupSessions} warm-up ${what}, then ${n} idle ${what}`)
    // Long enough for every session to hibernate (within two periods), when that is short.
    const settle = hibernateMs === HIBERNATE_MS ? HIBERNATE_MS * 2.5 : 300
    await client.request('connect', { port: started.port, n: S.memoryWarmupSessions, bare }, 60000)
    await sleep(settle)
    const before = await server.request<{ heapUsed: number, rss: number, sessions: number }>('measure', {}, 30000)
    await client.request('connect', { port: started.port, n, bare }, 300000)
    await sleep(settle)
    const after = await server.request<{ heapUsed: number, rss: number, sessions: number }>('measure', {}, 30000)
    if (after.sessions - before.sessions !== n) throw new Error(`memory: expected ${n} more ${what}, the server has ${after.sessions - before.sessions}`)
    return { heapKib: (after.heapUsed - before.heapUsed) / n / 1024, rssKib: (after.rss - before.rss) / n / 1024 }
  } finally {
    await client.kill()
    await server.kill()
  }
}

async function runMemory (): Promise<MemoryResult> {
  // Just joined: the default period (15 s) is longer than the measurement.
  const joined = await measureIdle(false, DEFAULT_LIMITS.hibernateAfterMs)
  const live = await measureIdle(false, HIBERNATE_MS)
  const bare = await measureIdle(true, HIBERNATE_MS)
  return {
    idle_session_kib: round(live.heapKib, 2)!,
    idle_session_rss_kib: round(live.rssKib, 2)!,
    joined_session_kib: round(joined.heapKib, 2)!,
    joined_session_rss_kib: round(joined.rssKib, 2)!,
    bare_socket_kib: round(bare.heapKib, 2)!,
    bare_socket_rss_kib: round(bare.rssKib, 2)!,
    plugin_share_kib: round(live.heapKib - bare.heapKib, 2)!,
    plugin_share_joined_kib: round(joined.heapKib - bare.heapKib, 2)!,
    sessions: S.memorySessions
  }
}

// ---------------------------------------------------------------------------------------
// Targets (issue "Fast server diffs and a benchmark anyone can run")

function targetsOf (r: Report): Target[] {
  const t: Target[] = []
  const add = (figure: string, value: number | null | undefined, op: '<=' | '>=', limit: number | null | undefined, unit: string): void => {
    const v = value ?? null
    const l = limit ?? null
    t.push({ figure, value: v, op, limit: l, unit, pass: v === null || l === null ? null : op === '<=' ? v <= l : v >= l })
  }
  const sc = r.scenarios
  add('scenarios.counter.server_us_p50', sc.counter?.server_us_p50, '<=', 40, 'µs')
  add('scenarios.table100_edit.server_us_p50', sc.table100_edit?.server_us_p50, '<=', 150, 'µs')
  add('scenarios.table1000_edit.server_us_p50', sc.table1000_edit?.server_us_p50, '<=', 2000, 'µs')
  add('scenarios.table1000_insert.server_us_p50', sc.table1000_insert?.server_us_p50, '<=', 2000, 'µs')
  for (const name of ['table100_edit', 'table1000_edit', 'table1000_insert']) {
    add(`scenarios.${name}.diffdom_over_server`, ratio(sc[name]), '>=', 10, '×')
  }
  add('scenarios.counter.bytes_per_update', sc.counter?.bytes_per_update, '<=', 120, 'B')
  add('scenarios.table100_edit.bytes_per_update', sc.table100_edit?.bytes_per_update, '<=', 200, 'B')
  add('scenarios.list200_reverse.bytes_per_update', sc.list200_reverse?.bytes_per_update, '<=', sc.list200_reverse?.page_bytes, 'B')
  add('load.c50.events_per_s', r.load?.c50?.events_per_s, '>=', 20000, '/s')
  add('load.c500.p99_ms', r.load?.c500?.p99_ms, '<=', 40, 'ms')
  add('memory.plugin_share_kib', r.memory?.plugin_share_kib, '<=', 1.5, 'KiB')
  rollbackTargets(r.rollback, add)
  add('client.gzip_bytes', r.client?.gzip_bytes, '<=', 10240, 'B')
  return t
}

function ratio (s: ScenarioResult | undefined): number | null {
  if (s?.diffdom_us_p50 == null || s.server_us_p50 == null || s.server_us_p50 === 0) return null
  return round(s.diffdom_us_p50 / s.server_us_p50, 1)
}

// ---------------------------------------------------------------------------------------
// Report

interface Report {
  scenarios: Record<string, ScenarioResult>
  load: Record<string, LoadLevel> | null
  memory: MemoryResult | null
  rollback: RollbackResult | null
  alloc: AllocResult | null
  client: { min_bytes: number, gzip_bytes: number } | null
  targets?: Target[]
  machine: Record<string, unknown>
  date: string
  settings: Record<string, unknown>
}

function render (r: Report): string {
  const t = r.targets ?? []
  const out: string[] = []
  const m = r.machine
  const st = r.settings
  out.push(`fastify-liveview benchmark${QUICK ? ' (--quick)' : ''}, ${r.date}`)
  out.push(`machine: ${String(m.cpu)} × ${String(m.cpus)}, ${String(m.platform)}, node ${String(m.node)}, load average ${String(m.loadavg_start)} at start, ${String(m.loadavg_end)} at end`)
  out.push(`raised limits: eventsPerSecond ${RATE_LIMIT.eventsPerSecond.toLocaleString('en-US')}, eventBurst ${RATE_LIMIT.eventBurst.toLocaleString('en-US')} (defaults ${DEFAULT_LIMITS.eventsPerSecond}/${DEFAULT_LIMITS.eventBurst}), socketsPerIp and maxSockets ${RATE_LIMIT.maxSockets.toLocaleString('en-US')} (defaults ${DEFAULT_LIMITS.socketsPerIp}/${DEFAULT_LIMITS.maxSockets}: every load connection comes from 127.0.0.1), in scenarios, rollback, alloc, load and memory; every other setting at its default, production: true`)
  out.push('')

  const names = Object.keys(r.scenarios)
  if (names.length > 0) {
    out.push(`Scenarios: in-process, one event at a time; warm-up ≥ ${S.warmup} events and ≥ ${S.warmupMs / 1000} s, then ${S.measured} measured events; server = inbound frame text → outbound frame text`)
    out.push(`diff-dom ${DIFFDOM_VERSION} = new DiffDOM().diff(oldHtml, newHtml), default options, on render pairs of the same run`)
    out.push('')
    const rows = names.map((name) => {
      const s = r.scenarios[name]!
      return [
        name,
        withTarget(t, `scenarios.${name}.server_us_p50`, s.server_us_p50),
        fmt(s.server_us_p99),
        withTarget(t, `scenarios.${name}.bytes_per_update`, s.bytes_per_update),
        fmt(s.page_bytes),
        s.diffdom_us_p50 === null ? '—' : `${fmt(s.diffdom_us_p50)} (${String(s.diffdom_pairs)})`,
        withTarget(t, `scenarios.${name}.diffdom_over_server`, ratio(s), '×'),
        fmt(s.warmup_events)
      ]
    })
    out.push(table(['scenario', 'server µs p50', 'server µs p99', 'bytes/update', 'page bytes', 'diff-dom µs p50 (pairs)', 'diff-dom ÷ server', 'warm-up events'], rows))
    const fallbacks = names.filter((n) => (r.scenarios[n]!.html_frames ?? 0) > 0)
    for (const n of fallbacks) out.push(`  ${n}: ${String(r.scenarios[n]!.html_frames)} of ${r.scenarios[n]!.events} updates sent as full HTML`)
    if (r.scenarios.testing_mount_click !== undefined) out.push('  testing_mount_click: server µs = live(app, \'/counter\') (GET + join) and one click, through the testing API')
    out.push('')
  }

  if (r.rollback !== null) out.push(...renderRollback(r.rollback, t), '')
  if (r.alloc !== null) out.push(...renderAlloc(r.alloc), '')

  if (r.load !== null) {
    out.push(`Load: counter, one server process and one client process on 127.0.0.1, deflate off, one event in flight per connection, ${S.loadWarmupMs / 1000} s warm-up + ${S.loadMeasureMs / 1000} s measured; CPU in % of one core`)
    out.push('')
    out.push(table(['connections', 'events/s', 'p50 ms', 'p99 ms', 'bytes/reply', 'server CPU %', 'client CPU %'], Object.entries(r.load).map(([k, l]) => [
      k,
      withTarget(t, `load.${k}.events_per_s`, l.events_per_s),
      fmt(l.p50_ms),
      withTarget(t, `load.${k}.p99_ms`, l.p99_ms),
      fmt(l.bytes_per_reply),
      String(l.server_cpu_pct),
      String(l.client_cpu_pct)
    ])))
    out.push('')
  }

  if (r.memory !== null) {
    const mem = r.memory
    out.push(`Memory: ${mem.sessions} idle joined counter sessions (after ${S.memoryWarmupSessions} warm-up ones), server heap and RSS after gc(), (after − before) / N,`)
    out.push(`just after their join (one server) and once hibernated (another, with hibernateAfterMs ${HIBERNATE_MS}; 15,000 by default: an idle session hibernates within two periods);`)
    out.push(`the same for ${mem.sessions} idle sockets of a bare @fastify/websocket app (a route that does nothing; same client process, ws options and concurrency, no page GET or join), in its own server process`)
    out.push('')
    out.push(table(['per idle connection, KiB', 'heap, joined', 'heap, idle', 'RSS, joined', 'RSS, idle'], [
      ['live session', fmt(mem.joined_session_kib), fmt(mem.idle_session_kib), fmt(mem.joined_session_rss_kib), fmt(mem.idle_session_rss_kib)],
      ['bare @fastify/websocket socket', fmt(mem.bare_socket_kib), fmt(mem.bare_socket_kib), fmt(mem.bare_socket_rss_kib), fmt(mem.bare_socket_rss_kib)],
      ['plugin\'s share (session − bare)', fmt(mem.plugin_share_joined_kib), withTarget(t, 'memory.plugin_share_kib', mem.plugin_share_kib), fmt(mem.joined_session_rss_kib - mem.bare_socket_rss_kib), fmt(mem.idle_session_rss_kib - mem.bare_socket_rss_kib)]
    ]))
    out.push('(RSS also holds what the allocator keeps after freeing: the page GETs and joins of the live runs; the bare run has none. Heap is the figure to compare.)')
    out.push('')
  }

  if (r.client !== null) {
    out.push(`Client script as served (${String((st.client as { url: string }).url)}), in bytes`)
    out.push('')
    out.push(table(['client', 'bytes'], [
      ['minified', fmt(r.client.min_bytes)],
      [String((st.client as { gzip: string }).gzip), withTarget(t, 'client.gzip_bytes', r.client.gzip_bytes)]
    ]))
    out.push('')
  }

  const judged = t.filter((x) => x.pass !== null)
  const missed = judged.filter((x) => x.pass === false)
  out.push(`Targets: ${judged.length - missed.length} of ${judged.length} met${t.length > judged.length ? ` (${t.length - judged.length} not measured in this run)` : ''}`)
  for (const x of missed) {
    const v = x.value!
    const l = x.limit!
    const by = x.op === '<=' ? `${fmt(v - l, x.unit)} over (${fmt(v / l, '×')} the limit)` : `${fmt(l - v, x.unit)} short (${((1 - v / l) * 100).toFixed(0)}% below)`
    out.push(`  MISS ${x.figure}: ${fmt(v, x.unit)}, target ${x.op === '<=' ? '≤' : '≥'} ${fmt(l, x.unit)}: ${by}`)
  }
  return out.join('\n') + '\n'
}

// ---------------------------------------------------------------------------------------
// Main

async function main (): Promise<void> {
  const cpu = cpus()
  const started = Date.now()
  const report: Report = {
    scenarios: {},
    load: null,
    memory: null,
    rollback: null,
    alloc: null,
    client: null,
    machine: {
      cpu: cpu[0]?.model ?? 'unknown',
      cpus: cpu.length,
      node: process.version,
      platform: `${platform()} ${release()} ${arch()}`,
      memory_gib: round(totalmem() / 2 ** 30, 1),
      free_memory_gib: round(freemem() / 2 ** 30, 1),
      loadavg_start: loadavg().map((x) => x.toFixed(2)).join(' ')
    },
    date: new Date().toISOString(),
    settings: {
      quick: QUICK,
      only: only === undefined ? null : [...only],
      scenario_events: { warmup_min: S.warmup, warmup_min_s: S.warmupMs / 1000, measured: S.measured },
      diffdom: { version: DIFFDOM_VERSION, options: 'default', pairs_max: S.diffdomPairsSmall, pairs_max_over_50kb: S.diffdomPairsLarge },
      rate_limit: { ...RATE_LIMIT, defaults: { eventsPerSecond: DEFAULT_LIMITS.eventsPerSecond, eventBurst: DEFAULT_LIMITS.eventBurst, socketsPerIp: DEFAULT_LIMITS.socketsPerIp, maxSockets: DEFAULT_LIMITS.maxSockets } },
      production: true,
      load: { path: '/counter', connections: S.loadConnections, warmup_s: S.loadWarmupMs / 1000, measured_s: S.loadMeasureMs / 1000 },
      memory: { sessions: S.memorySessions, warmup_sessions: S.memoryWarmupSessions, bare: 'Fastify + @fastify/websocket, one route that does nothing' }
    }
  }

  if (selectedScenarios.length > 0) report.scenarios = await runScenarios()
  if (wants('testing_mount_click')) report.scenarios.testing_mount_click = await runTestingMountClick()
  if (wants('client')) {
    const c = await runClient()
    report.client = { min_bytes: c.min_bytes, gzip_bytes: c.gzip_bytes }
    report.settings.client = { gzip: c.gzip, url: c.url }
  }
  if (wants('rollback')) report.rollback = await runRollback(S.rollback, RATE_LIMIT)
  if (wants('alloc')) report.alloc = await runAlloc(S.alloc, RATE_LIMIT)
  if (wants('load')) {
    const l = await runLoad()
    report.load = l.levels
    ;(report.settings.load as Record<string, unknown>).deflate = l.deflate
  }
  if (wants('memory')) report.memory = await runMemory()
  report.targets = targetsOf(report)
  report.settings.duration_s = round((Date.now() - started) / 1000, 1)
  report.machine.loadavg_end = loadavg().map((x) => x.toFixed(2)).join(' ')

  if (JSON_OUT) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`)
  else process.stdout.write(render(report))
}

try {
  await main()
} catch (err) {
  process.stderr.write(`bench failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`)
  process.exitCode = 1
}
// Children are killed by their handles in procs.ts's exit hook; nothing else should be left.
process.exit()

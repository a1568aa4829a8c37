// `npm run bench`: the benchmark of fastify-liveview (issue "Fast server diffs and a
// benchmark anyone can run"). Prints a table with the issue's targets, or with --json one
// JSON object on stdout. Progress goes to stderr.
//
//   npm run bench                       full run (about 7 minutes with the diff engine of 2026-11-30:
//                                       its slow issue-11 scenarios run each phase for 12 s)
//   npm run bench -- --quick            shorter run (about 3 minutes)
//   npm run -s bench -- --json          one JSON object on stdout (-s: no npm banner lines)
//   npm run bench -- --only counter,load   some sections / scenarios only
//   npm run bench -- --only rollback,alloc  the cost of rollback (bench/rollback.ts, bench/alloc.ts)
//   npm run bench -- --only telemetry  the tracing channels, nobody subscribed vs subscribed (bench/telemetry.ts)
//   npm run bench -- --only counter_two_slots,chat_fanout_100,load_two_slots   parts of issue 11
//
// To profile one scenario: node --cpu-prof dist/bench/run.js --only table100_edit
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { cpus, freemem, loadavg, platform, arch, release, totalmem } from 'node:os'
import { performance } from 'node:perf_hooks'
import { gzipSync } from 'node:zlib'
import { DiffDOM } from 'diff-dom'
import { DEFAULT_LIMITS } from '../plugin.js'
import { live } from '../testing.js'
import { renderAlloc, runAlloc, type AllocResult } from './alloc.js'
import { DiffChain, CHAIN_SKIP } from './diff-chain.js'
import { runFanout, type FanoutResult } from './fanout.js'
import { CLIENT_SCRIPT, SERVER_SCRIPT, runLoad, runLoadTwoSlots, type LoadLevel, type Started, type TwoSlotsResult } from './load.js'
import { Child, sleep } from './procs.js'
import { fmt, holds, opOf, opSign, percentile, progress, round, table, withTarget, type Op, type Target } from './report.js'
import { renderRollback, rollbackTargets, runRollback, type RollbackResult } from './rollback.js'
import { renderTelemetry, runTelemetry, type TelemetryResult } from './telemetry.js'
import { SCENARIOS, buildApp, openSession } from './scenarios.js'

const HELP = `Usage: node dist/bench/run.js [--quick] [--json] [--only LIST] [--baseline FILE]

  --quick       shorter run (fewer events, 5 s phases, 3 s load windows)
  --json        print one JSON object on stdout instead of the table
  --baseline FILE  a report this command wrote with --json (e.g. before a change): the
                scenarios that existed before issue 11 must not be slower than in it
                (server µs p50; separate runs: the machine's noise counts too)
  --only LIST   comma-separated sections or scenario names:
                scenarios, ${SCENARIOS.map((s) => s.name).join(', ')},
                testing_mount_click, chat_fanout_100, client, rollback, alloc, load,
                load_two_slots (the two-slot counter beside a bare ws echo server), memory,
                stream_feed (issue 14: what streamed sessions hold, a page of 50),
                upload (issue 15: one 100 MB upload from another process: MB/s, memory)
                (a scenario compared with another in the same run brings it along:
                counter for the issue-11 scenarios, table100_edit for table10000_edit)
`

// ---------------------------------------------------------------------------------------
// Arguments and settings

const argv = process.argv.slice(2)
if (argv.includes('--help') || argv.includes('-h')) {
  process.stdout.write(HELP)
  process.exit(0)
}
let only: Set<string> | undefined
let baselineFile: string | undefined
for (let i = 0; i < argv.length; i++) {
  const arg = argv[i]!
  if (arg === '--quick' || arg === '--json') continue
  if (arg === '--baseline' || arg.startsWith('--baseline=')) {
    baselineFile = arg === '--baseline' ? argv[++i] : arg.slice('--baseline='.length)
    if (baselineFile === undefined || baselineFile === '') fail('--baseline needs a file')
    continue
  }
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

/** The scenarios that existed before issue 11: "no existing scenario slower" (than in `--baseline`). */
const EXISTING = ['counter', 'table100_edit', 'table1000_edit', 'table1000_insert', 'list200_reverse', 'form20_change', 'testing_mount_click']
let baseline: { file: string, date: string, scenarios: Record<string, { server_us_p50: number | null }> } | undefined
if (baselineFile !== undefined) {
  try {
    const b = JSON.parse(readFileSync(baselineFile, 'utf8')) as { date?: string, scenarios?: Record<string, { server_us_p50: number | null }> }
    if (typeof b.scenarios !== 'object' || b.scenarios === null) throw new Error('no scenarios in it')
    baseline = { file: baselineFile, date: String(b.date), scenarios: b.scenarios }
  } catch (err) {
    fail(`--baseline ${baselineFile}: ${(err as Error).message}`)
  }
}

const FANOUT = 'chat_fanout_100'
const SECTIONS = ['scenarios', 'testing_mount_click', FANOUT, 'client', 'rollback', 'alloc', 'telemetry', 'load', 'load_two_slots', 'memory', 'stream_feed', 'upload']
const SCENARIO_NAMES = SCENARIOS.map((s) => s.name)
if (only !== undefined) {
  for (const name of only) {
    if (!SECTIONS.includes(name) && !SCENARIO_NAMES.includes(name) && name !== 'testing') fail(`--only: unknown section or scenario '${name}'\n\n${HELP}`)
  }
}
const wants = (section: string): boolean => only === undefined || only.has(section) || (section === 'testing_mount_click' && only.has('testing'))
const chosen = new Set(SCENARIOS.filter((s) => wants('scenarios') || only!.has(s.name)).map((s) => s.name))
// Ratios are taken within one run: a scenario compared with another brings it along.
for (const s of SCENARIOS) if (chosen.has(s.name) && s.ref !== undefined) chosen.add(s.ref)
const selectedScenarios = SCENARIOS.filter((s) => chosen.has(s.name))

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
  /**
   * A scenario's warm-up, measured events and diff chain each stop after this long once
   * they have `phaseMinEvents` (the warm-up: its minimum count): a scenario at tens of
   * milliseconds an event (todos_toggle_500, list_append_200 and table10000_edit before the
   * new diff engine) would otherwise take minutes. Not reached by the older scenarios.
   */
  phaseMaxMs: QUICK ? 5000 : 12000,
  phaseMinEvents: 100,
  /** Consecutive render pairs given to diff-dom, per scenario (spread evenly over the measured events). */
  diffdomPairsSmall: 500,
  /** The same for pages over 50 KB (1000 rows), where one diff-dom diff costs ~50 ms. */
  diffdomPairsLarge: 30,
  /** Pages over this size (table10000_edit: 1.4 MB, about a second a diff) are not given to diff-dom at all. */
  diffdomMaxPage: 500_000,
  /** Events of each scenario's diff-chain phase (bench/diff-chain.ts), after its measured events; the first CHAIN_SKIP more are left out. */
  diffEvents: QUICK ? 300 : 1000,
  /** chat_fanout_100 (bench/fanout.ts). */
  fanout: { sessions: 100, warmup: QUICK ? 50 : 100, warmupMs: QUICK ? 1000 : 2000, measured: QUICK ? 100 : 300, phaseMaxMs: QUICK ? 5000 : 12000, phaseMin: 20 },
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
  /**
   * From the rendered HTML string to the encoded patch (bench/diff-chain.ts): the search
   * for the changed regions, index work and encoding; rendering excluded. Beside it, the
   * render alone.
   */
  diff_us_p50?: number | null
  diff_us_p99?: number | null
  render_us_p50?: number | null
  /** Diffs measured for diff_us (after CHAIN_SKIP left out), and of them, how many gave full HTML. */
  diff_pairs?: number
  diff_full_html?: number
  /** server_us_p50 ÷ that of the scenario the issue compares it with (`ref`), same run. */
  server_over_ref?: number | null
  /** diff_us_p50 ÷ that of `ref` (table10000_edit ÷ table100_edit). */
  diff_over_ref?: number | null
  /** server_us_p50 ÷ that of the --baseline report (the scenarios that existed before issue 11). */
  server_over_baseline?: number | null
  ref?: string
  bytes_per_update: number | null
  diffdom_us_p50: number | null
  /** Why diff-dom was not run, when it was not. */
  diffdom_skipped?: string
  /**
   * A full-HTML frame's bytes, averaged over the measured events: the page (as at the end
   * of them) with each event's ref and version, so that an update sent as full HTML
   * weighs exactly the page.
   */
  page_bytes: number | null
  /** Phases that stopped at `phaseMaxMs` before their full count (warmup, measured, chain). */
  capped?: string[]
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
      let sent = 0
      const next = (): Promise<{ us: number, frame: string }> => {
        const i = sent++
        return send(s.event, s.params?.(i), s.cid?.(i))
      }
      const capped: string[] = []
      /** True once a phase that began at `start` has run `phaseMaxMs` with at least `min` events done. */
      const timeUp = (start: number, done: number, min: number): boolean => done >= min && performance.now() - start >= S.phaseMaxMs
      let warmup = 0
      const warmStart = performance.now()
      // An even count: scenarios that alternate (table1000_insert) start measuring at 1000 rows.
      while (((warmup < S.warmup || performance.now() - warmStart < S.warmupMs) && !timeUp(warmStart, warmup, S.phaseMinEvents)) || warmup % 2 === 1) {
        check((await next()).frame)
        warmup++
      }
      if (warmup < S.warmup) capped.push('warmup')

      const pageSize = session.html!.length
      const large = pageSize > 50_000
      const diffdom = pageSize <= S.diffdomMaxPage
      // The events the measured phase will have (fewer when it will reach phaseMaxMs), for spreading the diff-dom pairs.
      const expected = Math.min(S.measured, Math.max(S.phaseMinEvents, Math.floor(S.phaseMaxMs / ((performance.now() - warmStart) / warmup))))
      const stride = Math.max(1, Math.ceil(expected / (large ? S.diffdomPairsLarge : S.diffdomPairsSmall)))
      const pairs: Array<[string, string]> = []
      const all = new Float64Array(S.measured)
      let measured = 0
      let bytes = 0
      /** The ref and version part of a full-HTML frame for each measured event: its page bytes (below) have the same. */
      let frameHeads = 0
      let htmlFrames = 0
      const measureStart = performance.now()
      for (; measured < S.measured && !timeUp(measureStart, measured, S.phaseMinEvents); measured++) {
        const before = session.html!
        const r = await next()
        all[measured] = r.us
        bytes += Buffer.byteLength(r.frame)
        if (check(r.frame) === 'h') htmlFrames++
        if (diffdom && measured % stride === 0) pairs.push([before, session.html!])
        frameHeads += `[${/^\[(\d+),/.exec(r.frame)![1]!},"h",${session.version},]`.length
      }
      if (measured < S.measured) capped.push('measured')
      const us = all.subarray(0, measured).sort()
      // What a full-HTML frame would have taken, on average over the measured events (the
      // page as it is at the end; the refs and versions of those events).
      const pageBytes = round(frameHeads / measured + Buffer.byteLength(JSON.stringify(session.html)), 1)

      progress(`scenario ${s.name}: diff chain on ${S.diffEvents} more events`)
      const chain = new DiffChain()
      const chainStart = performance.now()
      while (chain.count < S.diffEvents && !timeUp(chainStart, chain.count, S.phaseMinEvents)) {
        check((await next()).frame)
        await chain.step(session.mounted!, session.html!)
      }
      if (chain.count < S.diffEvents) capped.push('chain')
      if (chain.mismatches > 0) throw new Error(`${s.name}: ${chain.mismatches} renders of the diff chain differ from the session's`)
      const diffUs = Float64Array.from(chain.diffUs).sort()
      const renderUs = Float64Array.from(chain.renderUs).sort()
      await session.close()

      const dd = new Float64Array(pairs.length)
      let ddWarmup = 0
      if (diffdom) {
        progress(`scenario ${s.name}: diff-dom on ${pairs.length} render pairs, after the same warm-up time`)
        const differ = new DiffDOM()
        // diff-dom gets a warm-up as long as the server's, on the same pairs, so the ratio is fair.
        const ddWarmStart = performance.now()
        while (ddWarmup < Math.min(S.warmup, pairs.length) || performance.now() - ddWarmStart < S.warmupMs) {
          const [a, b] = pairs[ddWarmup % pairs.length]!
          differ.diff(a, b)
          ddWarmup++
        }
        for (let i = 0; i < pairs.length; i++) {
          const [a, b] = pairs[i]!
          const start = performance.now()
          differ.diff(a, b)
          dd[i] = (performance.now() - start) * 1000
        }
        dd.sort()
      }
      out[s.name] = {
        server_us_p50: round(percentile(us, 0.5), 1),
        server_us_p99: round(percentile(us, 0.99), 1),
        diff_us_p50: round(percentile(diffUs, 0.5), 1),
        diff_us_p99: round(percentile(diffUs, 0.99), 1),
        render_us_p50: round(percentile(renderUs, 0.5), 1),
        diff_pairs: chain.count,
        diff_full_html: chain.fullHtml,
        bytes_per_update: round(bytes / measured, 1),
        diffdom_us_p50: diffdom ? round(percentile(dd, 0.5), 1) : null,
        ...(diffdom ? {} : { diffdom_skipped: `page over ${fmt(S.diffdomMaxPage)} characters (one diff takes about a second)` }),
        page_bytes: pageBytes,
        ...(capped.length > 0 ? { capped } : {}),
        events: measured,
        warmup_events: warmup,
        diffdom_pairs: pairs.length,
        diffdom_warmup: ddWarmup,
        html_frames: htmlFrames
      }
    }
    // Ratios within this run.
    for (const s of selectedScenarios) {
      const r = out[s.name]
      const base = s.ref === undefined ? undefined : out[s.ref]
      if (r === undefined || base === undefined) continue
      r.ref = s.ref
      r.server_over_ref = over(r.server_us_p50, base.server_us_p50)
      r.diff_over_ref = over(r.diff_us_p50, base.diff_us_p50)
    }
  } finally {
    await app.close()
  }
  return out
}

function over (a: number | null | undefined, b: number | null | undefined): number | null {
  if (a == null || b == null || b === 0) return null
  return round(a / b, 2)
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

/** chat_fanout_100 in an app of its own (bench/fanout.ts). */
async function runFanoutSection (): Promise<FanoutResult> {
  const app = await buildApp({ limits: RATE_LIMIT })
  await app.ready()
  try {
    return await runFanout(app, S.fanout)
  } finally {
    await app.close()
  }
}

// ---------------------------------------------------------------------------------------
// Client script size

interface ClientResult { min_bytes: number, gzip_bytes: number, gzip: string, url: string, upload_gzip_bytes: number, js_gzip_bytes: number, lp_gzip_bytes: number }

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
    let gzip = 'gzip -9'
    const gzipped = (input: Buffer): number => {
      const run = spawnSync('gzip', ['-9', '-c'], { input, maxBuffer: 64 * 1024 * 1024 })
      if (run.error === undefined && run.status === 0 && run.stdout.length > 0) return run.stdout.length
      gzip = 'zlib level 9 (no gzip binary)'
      return gzipSync(input, { level: 9 }).length
    }
    // Lazy chunks, loaded only by pages that need them (their URLs are in the script): the
    // upload code (a page binds an upload), the commands and hooks (a command binding, a hook).
    const chunk = async (name: string): Promise<Buffer> => {
      const chunkUrl = new RegExp(`/[\\w/.-]*${name}\\.[\\w-]+\\.js`).exec(bytes.toString())?.[0]
      const res = chunkUrl === undefined ? undefined : await app.inject(chunkUrl)
      if (res?.statusCode !== 200) throw new Error(`client: the ${name} chunk (${String(chunkUrl)}) is not served`)
      return res.rawPayload
    }
    return { min_bytes: bytes.length, gzip_bytes: gzipped(bytes), gzip, url, upload_gzip_bytes: gzipped(await chunk('upload')), js_gzip_bytes: gzipped(await chunk('js')), lp_gzip_bytes: gzipped(await chunk('lp')) }
  } finally {
    await app.close()
  }
}

// ---------------------------------------------------------------------------------------
// Memory: a server process and a client process on 127.0.0.1 (the load runs: bench/load.ts)

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

/** stream_feed (bench/stream-feed.ts), in a process of its own with gc() exposed. */
interface StreamFeedResult {
  sessions: number
  rows_per_session: number
  page_rows: number
  idle_session_kib: number
  streamed_session_kib: number
  streamed_over_idle_kib: number
  page_us_p50: number
  page_us_p99: number
}

function runStreamFeed (): StreamFeedResult {
  progress('stream_feed: 20 sessions stream 20,000 rows each, in pages of 50')
  const script = fileURLToPath(new URL('./stream-feed.js', import.meta.url))
  const run = spawnSync(process.execPath, ['--expose-gc', script], { encoding: 'utf8', maxBuffer: 1024 * 1024, env: { ...process.env, ...(QUICK ? { STREAM_ROWS: '5000' } : {}) } })
  if (run.status !== 0) throw new Error(`stream_feed failed: ${run.stderr}`)
  return JSON.parse(run.stdout.trim().split('\n').at(-1)!) as StreamFeedResult
}

/** upload (bench/upload.ts), in a process of its own with gc() exposed. */
interface UploadResult {
  file_mb: number
  upload_ms: number
  submit_ms: number
  mb_per_s: number
  peak_growth_mb: number
  bare_peak_growth_mb: number
  plugin_share_mb: number
}

function runUpload (): UploadResult {
  progress(`upload: one ${QUICK ? 20 : 100} MB file in chunk frames from another process, streamed to a file`)
  const script = fileURLToPath(new URL('./upload.js', import.meta.url))
  const run = spawnSync(process.execPath, ['--expose-gc', script], { encoding: 'utf8', maxBuffer: 1024 * 1024, env: { ...process.env, ...(QUICK ? { UPLOAD_MB: '20' } : {}) } })
  if (run.status !== 0) throw new Error(`upload failed: ${run.stderr}`)
  return JSON.parse(run.stdout.trim().split('\n').at(-1)!) as UploadResult
}

// ---------------------------------------------------------------------------------------
// Targets (issue "Fast server diffs and a benchmark anyone can run")

function targetsOf (r: Report): Target[] {
  const t: Target[] = []
  const add = (figure: string, value: number | null | undefined, op: Op, limit: number | null | undefined, unit: string): void => {
    const v = value ?? null
    const l = limit ?? null
    t.push({ figure, value: v, op, limit: l, unit, pass: v === null || l === null ? null : holds(v, op, l) })
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
  // Issue 11 has it strictly below the page (it was ≤: full HTML passed).
  add('scenarios.list200_reverse.bytes_per_update', sc.list200_reverse?.bytes_per_update, '<', sc.list200_reverse?.page_bytes, 'B')
  add('load.c50.events_per_s', r.load?.c50?.events_per_s, '>=', 20000, '/s')
  add('load.c500.p99_ms', r.load?.c500?.p99_ms, '<=', 40, 'ms')
  // Issue 11: demo-like pages, ratios within the run.
  add('scenarios.counter_two_slots.server_over_ref', sc.counter_two_slots?.server_over_ref, '<=', 2, '×')
  add('scenarios.counter_two_slots.bytes_per_update', sc.counter_two_slots?.bytes_per_update, '<=', 150, 'B')
  for (const name of ['todos_toggle_50', 'todos_toggle_500', 'form_errors_3', 'list_append_200', 'list200_move_one']) {
    add(`scenarios.${name}.server_over_ref`, sc[name]?.server_over_ref, '<=', name === 'todos_toggle_500' ? 20 : 8, '×')
    add(`scenarios.${name}.bytes_per_update`, sc[name]?.bytes_per_update, '<=', 300, 'B')
  }
  // Issue 13: one component's event re-renders and diffs that component only.
  add('scenarios.component_list_100.server_us_p50', sc.component_list_100?.server_us_p50, '<=', 50, 'µs')
  add('scenarios.component_list_100.bytes_per_update', sc.component_list_100?.bytes_per_update, '<=', 200, 'B')
  add('scenarios.table10000_edit.diff_over_ref', sc.table10000_edit?.diff_over_ref, '<=', 3, '×')
  add(`${FANOUT}.total_ms_p50`, r[FANOUT]?.total_ms_p50, '<=', 10, 'ms')
  add('load_two_slots.c50.cpu_over_echo', r.load_two_slots?.c50?.cpu_over_echo, '<=', 2, '×')
  add('load_two_slots.c1.p50_over_echo', r.load_two_slots?.c1?.p50_over_echo, '<=', 1.5, '×')
  // "No existing scenario slower": against --baseline, when given.
  for (const name of EXISTING) add(`scenarios.${name}.server_over_baseline`, sc[name]?.server_over_baseline, '<=', 1, '×')
  add('memory.plugin_share_kib', r.memory?.plugin_share_kib, '<=', 1.5, 'KiB')
  // Issue 14: a stream's items are not kept by the server.
  add('stream_feed.streamed_over_idle_kib', r.stream_feed?.streamed_over_idle_kib, '<=', 8, 'KiB')
  add('stream_feed.page_us_p50', r.stream_feed?.page_us_p50, '<=', 200, 'µs')
  // Issue 15: one upload, from another process over loopback.
  add('upload.mb_per_s', r.upload?.mb_per_s, '>=', 50, 'MB/s')
  add('upload.plugin_share_mb', r.upload?.plugin_share_mb, '<=', 16, 'MB')
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
  [FANOUT]: FanoutResult | null
  load: Record<string, LoadLevel> | null
  load_two_slots: TwoSlotsResult['levels'] | null
  memory: MemoryResult | null
  stream_feed: StreamFeedResult | null
  upload: UploadResult | null
  rollback: RollbackResult | null
  alloc: AllocResult | null
  telemetry?: TelemetryResult | null
  client: { min_bytes: number, gzip_bytes: number, upload_gzip_bytes?: number, js_gzip_bytes?: number, lp_gzip_bytes?: number } | null
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
    out.push(`Scenarios: in-process, one event at a time; warm-up ≥ ${S.warmup} events and ≥ ${S.warmupMs / 1000} s, then ${S.measured} measured events (each phase stops at ${S.phaseMaxMs / 1000} s once it has ${S.phaseMinEvents} events); server = inbound frame text → outbound frame text`)
    out.push(`diff µs = from the rendered HTML string to the encoded patch (diffRendered + JSON.stringify, index work included, rendering excluded), on a chain of ${S.diffEvents} more events per scenario (the first ${CHAIN_SKIP} left out); render µs = the view rendered again, on the same events`)
    out.push(`÷ ref = p50 ÷ the same figure of the scenario compared with, in this run (counter; table10000_edit: table100_edit)`)
    out.push(`diff-dom ${DIFFDOM_VERSION} = new DiffDOM().diff(oldHtml, newHtml), default options, on render pairs of the same run`)
    out.push('')
    const rows = names.map((name) => {
      const s = r.scenarios[name]!
      return [
        name,
        withTarget(t, `scenarios.${name}.server_us_p50`, s.server_us_p50),
        fmt(s.server_us_p99),
        fmt(s.diff_us_p50),
        fmt(s.render_us_p50),
        withTarget(t, `scenarios.${name}.server_over_ref`, s.server_over_ref, '×'),
        withTarget(t, `scenarios.${name}.diff_over_ref`, s.diff_over_ref, '×'),
        withTarget(t, `scenarios.${name}.bytes_per_update`, s.bytes_per_update),
        fmt(s.page_bytes),
        s.diffdom_us_p50 == null ? (s.diffdom_skipped === undefined ? '—' : 'skipped') : `${fmt(s.diffdom_us_p50)} (${String(s.diffdom_pairs)})`,
        withTarget(t, `scenarios.${name}.diffdom_over_server`, ratio(s), '×'),
        fmt(s.warmup_events)
      ]
    })
    out.push(table(['scenario', 'server µs p50', 'server µs p99', 'diff µs p50', 'render µs p50', 'server ÷ ref', 'diff ÷ ref', 'bytes/update', 'page bytes', 'diff-dom µs p50 (pairs)', 'diff-dom ÷ server', 'warm-up events'], rows))
    const fallbacks = names.filter((n) => (r.scenarios[n]!.html_frames ?? 0) > 0)
    for (const n of fallbacks) out.push(`  ${n}: ${String(r.scenarios[n]!.html_frames)} of ${r.scenarios[n]!.events} updates sent as full HTML`)
    for (const n of names) {
      const s = r.scenarios[n]!
      if (s.capped !== undefined) out.push(`  ${n}: ${s.capped.join(', ')} stopped at ${S.phaseMaxMs / 1000} s: ${fmt(s.warmup_events)} warm-up events, ${fmt(s.events)} measured, ${fmt(s.diff_pairs)} chain diffs`)
      if (s.diffdom_skipped !== undefined) out.push(`  ${n}: diff-dom skipped: ${s.diffdom_skipped}`)
    }
    if (r.scenarios.testing_mount_click !== undefined) out.push('  testing_mount_click: server µs = live(app, \'/counter\') (GET + join) and one click, through the testing API')
    const b = st.baseline as { file: string, date: string } | undefined
    if (b !== undefined) {
      const cells = EXISTING.filter((n) => r.scenarios[n] !== undefined).map((n) => `${n} ${withTarget(t, `scenarios.${n}.server_over_baseline`, r.scenarios[n]!.server_over_baseline, '×')}`)
      out.push(`  server µs p50 ÷ the baseline's (${b.file}, ${b.date}): ${cells.join('; ')}`)
    }
    out.push('')
  }

  const fan = r[FANOUT]
  if (fan !== null) {
    out.push(`Fan-out: ${fan.sessions} in-process sessions of a chat room (50 messages shown) subscribed to one PubSub topic (the in-memory adapter); one broadcast = ${fan.sessions} handleInfo, renders, diffs and frames;`)
    out.push(`total = from the broadcast until all ${fan.sessions} frames arrived; warm-up ≥ ${S.fanout.warmup} broadcasts and ≥ ${S.fanout.warmupMs / 1000} s, then ${fan.broadcasts} measured; diff and render µs of one session's chain`)
    out.push('')
    out.push(table(['scenario', 'total ms p50', 'total ms p99', 'per session µs', 'diff µs p50', 'render µs p50', 'bytes/update', 'page bytes', 'warm-up broadcasts'], [[
      FANOUT,
      withTarget(t, `${FANOUT}.total_ms_p50`, fan.total_ms_p50),
      fmt(fan.total_ms_p99),
      fmt(fan.per_session_us_p50),
      fmt(fan.diff_us_p50),
      fmt(fan.render_us_p50),
      fmt(fan.bytes_per_update),
      fmt(fan.page_bytes),
      fmt(fan.warmup_broadcasts)
    ]]))
    if (fan.html_frames > 0) out.push(`  ${fan.html_frames} of ${fan.broadcasts * fan.sessions} updates sent as full HTML`)
    out.push('')
  }

  if (r.rollback !== null) out.push(...renderRollback(r.rollback, t), '')
  if (r.alloc !== null) out.push(...renderAlloc(r.alloc), '')
  if (r.telemetry != null) out.push(...renderTelemetry(r.telemetry), '')

  if (r.load !== null) {
    out.push(`Load: counter, one server process and one client process on 127.0.0.1, deflate off, one event in flight per connection, ${S.loadWarmupMs / 1000} s warm-up + ${S.loadMeasureMs / 1000} s measured; CPU in % of one core`)
    out.push('')
    out.push(table(['connections', 'events/s', 'p50 ms', 'p99 ms', 'bytes/reply', 'server CPU µs/event', 'server CPU %', 'client CPU %'], Object.entries(r.load).map(([k, l]) => [
      k,
      withTarget(t, `load.${k}.events_per_s`, l.events_per_s),
      fmt(l.p50_ms),
      withTarget(t, `load.${k}.p99_ms`, l.p99_ms),
      fmt(l.bytes_per_reply),
      fmt(l.server_cpu_us_per_event),
      String(l.server_cpu_pct),
      String(l.client_cpu_pct)
    ])))
    out.push('(server CPU = process.cpuUsage() of the server process over the measured window; per event: ÷ the frames it received in that window)')
    out.push('')
  }

  if (r.load_two_slots !== null) {
    out.push(`Load: counter_two_slots beside a bare ws echo server (no Fastify, no deflate, each frame answered with one text frame of the size the live replies had at that level), the same client process, level by level in one run; ${S.loadWarmupMs / 1000} s warm-up + ${S.loadMeasureMs / 1000} s measured each`)
    out.push('')
    const rows: string[][] = []
    for (const [k, l] of Object.entries(r.load_two_slots)) {
      for (const [server, x] of [['counter_two_slots', l.live], ['ws echo', l.echo]] as const) {
        const live = server !== 'ws echo'
        rows.push([
          k,
          server,
          fmt(x.events_per_s),
          fmt(x.p50_ms),
          fmt(x.p99_ms),
          fmt(x.bytes_per_reply),
          fmt(x.server_cpu_us_per_event),
          String(x.server_cpu_pct),
          String(x.client_cpu_pct),
          live ? withTarget(t, `load_two_slots.${k}.p50_over_echo`, l.p50_over_echo, '×') : '',
          live ? withTarget(t, `load_two_slots.${k}.cpu_over_echo`, l.cpu_over_echo, '×') : ''
        ])
      }
    }
    out.push(table(['connections', 'server', 'events/s', 'p50 ms', 'p99 ms', 'bytes/reply', 'server CPU µs/event', 'server CPU %', 'client CPU %', 'p50 ÷ echo', 'CPU/event ÷ echo'], rows))
    out.push('')
  }

  if (r.stream_feed != null) {
    const f = r.stream_feed
    out.push(`stream_feed: ${f.sessions} sessions each streamed ${f.rows_per_session.toLocaleString('en')} rows in pages of ${f.page_rows} (no limit), in a process of their own; what a session holds is what closing it frees, after gc(), once idle sessions hibernated`)
    out.push('')
    out.push(table(['per session', 'heap, idle (KiB)', 'heap, streamed (KiB)', 'streamed − idle (KiB)', 'page of 50, server µs p50', 'p99'], [
      ['stream_feed', fmt(f.idle_session_kib), fmt(f.streamed_session_kib), withTarget(t, 'stream_feed.streamed_over_idle_kib', f.streamed_over_idle_kib), withTarget(t, 'stream_feed.page_us_p50', f.page_us_p50), fmt(f.page_us_p99)]
    ]))
    out.push('')
  }

  if (r.upload != null) {
    const u = r.upload
    out.push(`upload: one ${u.file_mb} MB file sent by a client in another process in chunk frames over loopback (64,000 B, a 512 KiB window), streamed to a file by the submit's handler;`)
    out.push('memory: the peak of heapUsed + arrayBuffers sampled every 2 ms over a baseline after gc(), and the same for a bare ws server taking the same frames (it acknowledges and drops each)')
    out.push('')
    out.push(table(['upload', 'MB/s', 'upload ms', 'submit ms', 'peak growth MB', 'bare ws peak MB', 'plugin share MB'], [
      ['upload', withTarget(t, 'upload.mb_per_s', u.mb_per_s), fmt(u.upload_ms), fmt(u.submit_ms), fmt(u.peak_growth_mb), fmt(u.bare_peak_growth_mb), withTarget(t, 'upload.plugin_share_mb', u.plugin_share_mb)]
    ]))
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
      [String((st.client as { gzip: string }).gzip), withTarget(t, 'client.gzip_bytes', r.client.gzip_bytes)],
      [`the upload code (a lazy chunk), ${String((st.client as { gzip: string }).gzip)}`, fmt(r.client.upload_gzip_bytes ?? null)],
      [`commands and hooks (a lazy chunk), ${String((st.client as { gzip: string }).gzip)}`, fmt(r.client.js_gzip_bytes ?? null)],
      [`long polling (a lazy chunk), ${String((st.client as { gzip: string }).gzip)}`, fmt(r.client.lp_gzip_bytes ?? null)]
    ]))
    out.push('')
  }

  const judged = t.filter((x) => x.pass !== null)
  const missed = judged.filter((x) => x.pass === false)
  out.push(`Targets: ${judged.length - missed.length} of ${judged.length} met${t.length > judged.length ? ` (${t.length - judged.length} not measured in this run)` : ''}`)
  for (const x of missed) {
    const v = x.value!
    const l = x.limit!
    const by = x.op !== '>=' ? `${fmt(v - l, x.unit)} over (${fmt(v / l, '×')} the limit)` : `${fmt(l - v, x.unit)} short (${((1 - v / l) * 100).toFixed(0)}% below)`
    out.push(`  MISS ${x.figure}: ${fmt(v, x.unit)}, target ${opSign(x.op)} ${fmt(l, x.unit)}: ${by}`)
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
    [FANOUT]: null,
    load: null,
    load_two_slots: null,
    memory: null,
    stream_feed: null,
    upload: null,
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
      scenario_events: { warmup_min: S.warmup, warmup_min_s: S.warmupMs / 1000, measured: S.measured, phase_max_s: S.phaseMaxMs / 1000, phase_min_events: S.phaseMinEvents },
      diffdom: { version: DIFFDOM_VERSION, options: 'default', pairs_max: S.diffdomPairsSmall, pairs_max_over_50kb: S.diffdomPairsLarge },
      rate_limit: { ...RATE_LIMIT, defaults: { eventsPerSecond: DEFAULT_LIMITS.eventsPerSecond, eventBurst: DEFAULT_LIMITS.eventBurst, socketsPerIp: DEFAULT_LIMITS.socketsPerIp, maxSockets: DEFAULT_LIMITS.maxSockets } },
      production: true,
      diff_chain: { events: S.diffEvents, left_out: CHAIN_SKIP, diffdom_max_page: S.diffdomMaxPage },
      fanout: S.fanout,
      load: { path: '/counter', connections: S.loadConnections, warmup_s: S.loadWarmupMs / 1000, measured_s: S.loadMeasureMs / 1000 },
      memory: { sessions: S.memorySessions, warmup_sessions: S.memoryWarmupSessions, bare: 'Fastify + @fastify/websocket, one route that does nothing' }
    }
  }

  if (selectedScenarios.length > 0) report.scenarios = await runScenarios()
  if (wants('testing_mount_click')) report.scenarios.testing_mount_click = await runTestingMountClick()
  if (baseline !== undefined) {
    for (const name of EXISTING) {
      const r = report.scenarios[name]
      if (r !== undefined) r.server_over_baseline = over(r.server_us_p50, baseline.scenarios[name]?.server_us_p50)
    }
    report.settings.baseline = { file: baseline.file, date: baseline.date }
  }
  if (wants(FANOUT)) report[FANOUT] = await runFanoutSection()
  if (wants('client')) {
    const c = await runClient()
    report.client = { min_bytes: c.min_bytes, gzip_bytes: c.gzip_bytes, upload_gzip_bytes: c.upload_gzip_bytes, js_gzip_bytes: c.js_gzip_bytes, lp_gzip_bytes: c.lp_gzip_bytes }
    report.settings.client = { gzip: c.gzip, url: c.url }
  }
  if (wants('rollback')) report.rollback = await runRollback(S.rollback, RATE_LIMIT)
  if (wants('alloc')) report.alloc = await runAlloc(S.alloc, RATE_LIMIT)
  if (wants('telemetry')) report.telemetry = await runTelemetry(QUICK ? 2000 : 5000, QUICK ? 4 : 6, RATE_LIMIT)
  const load = { connections: S.loadConnections, warmupMs: S.loadWarmupMs, measureMs: S.loadMeasureMs }
  if (wants('load')) {
    const l = await runLoad(load, RATE_LIMIT)
    report.load = l.levels
    ;(report.settings.load as Record<string, unknown>).deflate = l.deflate
  }
  if (wants('load_two_slots')) {
    const l = await runLoadTwoSlots(load, RATE_LIMIT)
    report.load_two_slots = l.levels
    report.settings.load_two_slots = { path: l.path, event: l.event, deflate: l.deflate }
  }
  if (wants('memory')) report.memory = await runMemory()
  if (wants('stream_feed')) report.stream_feed = runStreamFeed()
  if (wants('upload')) report.upload = runUpload()
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

// The `rollback` section of `npm run bench`: what the rollback of failed events costs on a
// view with a large state (10,000 rows), as a same-run A/B.
//
// Two apps, one with the runtime's rollback on and one with it off (`runtime.rollback`, a
// test-only switch), one in-process session each on the rows view (bench/scenarios.ts,
// `rowsView`). For each event the runs alternate on, off, on, off, … (`rounds` each), so a
// drift of the machine hits both sides alike; a side's figure is the median of its runs'
// p50s. The failing event is measured with rollback on only (off, nothing is undone).
// A plain recursive deep copy of the rows is timed too: what the old snapshot did before
// every event, for reference.
import { performance } from 'node:perf_hooks'
import type { FastifyInstance } from 'fastify'
import { fmt, median, opOf, percentile, progress, round, table, withTarget, type Target } from './report.js'
import { ROWS_PATH, buildRowsApp, openSession } from './scenarios.js'

export interface RollbackSettings {
  /** Warm-up of each session before the first run: at least this many events and this long. */
  warmup: number
  warmupMs: number
  /** Events per measured run, and warm-up events just before each run. */
  measured: number
  runWarmup: number
  /** Runs per side (on, off, on, off, …). */
  rounds: number
  /** Deep copies timed for the reference figure. */
  copies: number
}

export interface AbResult {
  /** Median of the runs' p50 (µs), rollback on and off. */
  on_us_p50: number
  off_us_p50: number
  /** on − off: what rollback costs per event. */
  diff_us: number
  on_runs: number[]
  off_runs: number[]
}

export interface RollbackResult {
  rows: number
  edit: AbResult
  edit_by_id: AbResult
  /** The failing event, rollback on: median of its runs' p50 (µs). */
  fail_us_p50: number
  fail_runs: number[]
  /** A plain recursive deep copy of the rows (the old snapshot's way): p50 µs per copy. */
  deep_copy_us_p50: number
  deep_copies: number
  settings: RollbackSettings
}

const ROWS = 10_000

interface Side {
  name: 'on' | 'off'
  app: FastifyInstance
  send: (event: string, params?: string) => Promise<{ us: number, frame: string }>
  view: () => { total: number }
}

/**
 * The events, by name. `editById` asks for ids spread over the whole array (a prime stride),
 * the same sequence on both sides, so the `find` does the same work on each.
 */
const EVENTS: Record<string, { name: string, params: (i: number) => string, op: string }> = {
  edit: { name: 'edit', params: () => '{}', op: 'p' },
  editById: { name: 'editById', params: (i) => `{"id":${(i * 7919) % ROWS}}`, op: 'p' },
  fail: { name: 'fail', params: () => '{}', op: 'err' }
}

async function openSide (name: 'on' | 'off', limits: Record<string, number>): Promise<Side> {
  const app = await buildRowsApp(name === 'on', { limits })
  await app.ready()
  const { send, session } = await openSession(app, ROWS_PATH)
  return { name, app, send, view: () => session.view as unknown as { total: number } }
}

/** Sends `count` events of one kind; returns the server µs of each, sorted. */
async function run (side: Side, kind: string, count: number): Promise<Float64Array> {
  const e = EVENTS[kind]!
  const us = new Float64Array(count)
  for (let i = 0; i < count; i++) {
    const r = await side.send(e.name, e.params(i))
    if (opOf(r.frame) !== e.op) throw new Error(`rollback ${side.name}: ${e.name} was answered with ${r.frame.slice(0, 300)}`)
    us[i] = r.us
  }
  return us.sort()
}

/** Runs on, off, on, off, … and keeps each run's p50. */
async function ab (on: Side, off: Side, kind: string, s: RollbackSettings): Promise<AbResult> {
  const runs: Record<'on' | 'off', number[]> = { on: [], off: [] }
  for (let r = 0; r < s.rounds; r++) {
    for (const side of [on, off]) {
      await run(side, kind, s.runWarmup)
      runs[side.name].push(percentile(await run(side, kind, s.measured), 0.5))
    }
  }
  const onUs = median(runs.on)
  const offUs = median(runs.off)
  return {
    on_us_p50: round(onUs, 1)!,
    off_us_p50: round(offUs, 1)!,
    diff_us: round(onUs - offUs, 1)!,
    on_runs: runs.on.map((x) => round(x, 1)!),
    off_runs: runs.off.map((x) => round(x, 1)!)
  }
}

/** The reference: arrays and plain objects copied recursively, everything else kept. */
function deepCopy (value: unknown): unknown {
  if (Array.isArray(value)) {
    const out = new Array<unknown>(value.length)
    for (let i = 0; i < value.length; i++) out[i] = deepCopy(value[i])
    return out
  }
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {}
    for (const key of Object.keys(value)) out[key] = deepCopy((value as Record<string, unknown>)[key])
    return out
  }
  return value
}

function timeDeepCopy (s: RollbackSettings): number {
  const rows = Array.from({ length: ROWS }, (_, id) => ({ id, label: `item ${id}`, qty: id % 7 }))
  let sink: unknown
  const warmStart = performance.now()
  for (let i = 0; i < s.copies || performance.now() - warmStart < s.warmupMs / 2; i++) sink = deepCopy(rows)
  const us = new Float64Array(s.copies)
  for (let i = 0; i < s.copies; i++) {
    const start = process.hrtime.bigint()
    sink = deepCopy(rows)
    us[i] = Number(process.hrtime.bigint() - start) / 1000
  }
  if ((sink as unknown[]).length !== ROWS) throw new Error('deep copy: wrong length')
  return percentile(us.sort(), 0.5)
}

/** `limits`: the app's limits (the benchmark raises the event rate limit out of the way). */
export async function runRollback (s: RollbackSettings, limits: Record<string, number>): Promise<RollbackResult> {
  const on = await openSide('on', limits)
  const off = await openSide('off', limits)
  try {
    for (const side of [on, off]) {
      progress(`rollback ${side.name}: warm-up (≥ ${s.warmup} events, ≥ ${s.warmupMs / 1000} s), edit and editById in turn`)
      const start = performance.now()
      for (let i = 0; i < s.warmup || performance.now() - start < s.warmupMs; i += 100) {
        await run(side, 'edit', 50)
        await run(side, 'editById', 50)
      }
    }
    progress(`rollback: edit, then editById: ${s.rounds} × (on, off) runs of ${s.runWarmup} + ${s.measured} events`)
    const edit = await ab(on, off, 'edit', s)
    const editById = await ab(on, off, 'editById', s)

    progress(`rollback on: fail, ${s.rounds} runs of ${s.runWarmup} + ${s.measured} events (after ${s.warmup} warm-up ones)`)
    await run(on, 'fail', s.warmup)
    const total = on.view().total
    const failRuns: number[] = []
    for (let r = 0; r < s.rounds; r++) {
      await run(on, 'fail', s.runWarmup)
      failRuns.push(percentile(await run(on, 'fail', s.measured), 0.5))
    }
    if (on.view().total !== total) throw new Error('rollback on: the failing events were not rolled back')

    progress(`rollback: deep copy of ${ROWS.toLocaleString('en-US')} rows, ${s.copies} copies`)
    const copyUs = timeDeepCopy(s)
    return {
      rows: ROWS,
      edit,
      edit_by_id: editById,
      fail_us_p50: round(median(failRuns), 1)!,
      fail_runs: failRuns.map((x) => round(x, 1)!),
      deep_copy_us_p50: round(copyUs, 1)!,
      deep_copies: s.copies,
      settings: s
    }
  } finally {
    await on.app.close()
    await off.app.close()
  }
}

export function rollbackTargets (r: RollbackResult | null, add: (figure: string, value: number | null | undefined, op: '<=' | '>=', limit: number | null | undefined, unit: string) => void): void {
  add('rollback.edit.diff_us', r?.edit.diff_us, '<=', 50, 'µs')
}

export function renderRollback (r: RollbackResult, t: Target[]): string[] {
  const s = r.settings
  const out: string[] = []
  out.push(`Rollback: a view of ${r.rows.toLocaleString('en-US')} rows { id, label, qty } (the page shows 20), in-process; rollback on and off in two apps, one session each;`)
  out.push(`runs alternate on, off × ${s.rounds}, each ${s.runWarmup} + ${s.measured} events (after ≥ ${s.warmup} events and ≥ ${s.warmupMs / 1000} s of warm-up); µs p50 = median of the runs' p50, server = inbound frame text → outbound frame text`)
  out.push('')
  const row = (name: string, a: AbResult, figure: string): string[] => [
    name,
    fmt(a.on_us_p50),
    fmt(a.off_us_p50),
    withTarget(t, figure, a.diff_us),
    `${a.on_runs.map((x) => fmt(x)).join(' ')} / ${a.off_runs.map((x) => fmt(x)).join(' ')}`
  ]
  out.push(table(['event', 'rollback on µs p50', 'rollback off µs p50', 'on − off µs', 'runs on / off'], [
    row('edit: rows[i].qty++', r.edit, 'rollback.edit.diff_us'),
    row('editById: rows.find(…).qty++', r.edit_by_id, 'rollback.edit_by_id.diff_us'),
    ['fail: a row changed, then throws', fmt(r.fail_us_p50), '—', '—', r.fail_runs.map((x) => fmt(x)).join(' ')]
  ]))
  out.push('  fail: answered with an error frame (FST_LIVEVIEW_HANDLER_FAILED) and its change rolled back; production: true, logger off')
  out.push(`  reference: a plain recursive deep copy of the ${r.rows.toLocaleString('en-US')} rows (arrays and plain objects), what the old snapshot did before every event: ${fmt(r.deep_copy_us_p50)} µs p50 (${r.deep_copies} copies)`)
  return out
}

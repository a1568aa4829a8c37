// The child process of the `alloc` section (bench/alloc.ts): in-process sessions of the
// counter and of the rows view in two apps, rollback on and off, driven over IPC.
//
// It runs with `--expose-gc` and a young generation far larger than a batch allocates
// (`--min-semi-space-size` = `--max-semi-space-size`), so no collection runs during a
// batch: the heap's used size then grows by exactly what the batch allocates, garbage
// included. A v8.GCProfiler over each batch says whether a collection ran all the same.
//
// Collections are kept out of the way between batches too: `prepare` collects once before
// a scenario's batches, and a batch collects first only when the young generation could
// not hold it. A full collection shifts what the next events allocate (V8 revisits its
// pretenuring and allocation-site tracking, and can drop optimized code), by some hundreds
// of bytes an event, more than the difference measured; between two collections the
// figure is steady to a few bytes.
import { GCProfiler, getHeapSpaceStatistics } from 'node:v8'
import type { FastifyInstance } from 'fastify'
import type { LiveViewLimits } from '../plugin.js'
import { serve } from './procs.js'
import { opOf } from './report.js'
import { ROWS_PATH, buildRowsApp, openSession } from './scenarios.js'

type Send = (event: string, params?: string) => Promise<{ us: number, frame: string }>

/** What a batch sends, by scenario: a path and an event. */
const SCENARIOS: Record<string, { path: string, event: string }> = {
  counter: { path: '/counter', event: 'inc' },
  rows10k_edit: { path: ROWS_PATH, event: 'edit' }
}
const SIDES = ['on', 'off']

const gc = (globalThis as { gc?: () => void }).gc
const apps: FastifyInstance[] = []
/** `${side}/${scenario}` → the session's send. */
const sessions = new Map<string, Send>()
/** The largest batch so far, in bytes: what the young generation must have room for. */
let largest = 64 * 1024 * 1024

function sender (side: unknown, scenario: unknown): { send: Send, event: string } {
  const send = sessions.get(`${String(side)}/${String(scenario)}`)
  const s = SCENARIOS[scenario as string]
  if (send === undefined || s === undefined) throw new Error(`no session ${String(side)}/${String(scenario)}`)
  return { send, event: s.event }
}

async function events (side: unknown, scenario: unknown, n: number): Promise<void> {
  const { send, event } = sender(side, scenario)
  for (let i = 0; i < n; i++) {
    const { frame } = await send(event)
    const op = opOf(frame)
    if (op !== 'p' && op !== 'h') throw new Error(`${event} was answered with ${frame.slice(0, 300)}`)
  }
}

/** A full collection, then `settle` events on each side for the JIT to catch up. */
async function collect (scenario: unknown, settle: number): Promise<void> {
  gc!()
  gc!()
  for (const side of SIDES) await events(side, scenario, settle)
}

const newSpaceFree = (): number => getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')?.space_available_size ?? 0

serve({
  async start (args) {
    if (gc === undefined) throw new Error('start the alloc child with --expose-gc')
    for (const side of SIDES) {
      const app = await buildRowsApp(side === 'on', { limits: args.limits as LiveViewLimits })
      await app.ready()
      apps.push(app)
      for (const [name, s] of Object.entries(SCENARIOS)) sessions.set(`${side}/${name}`, (await openSession(app, s.path)).send)
    }
    return { scenarios: Object.keys(SCENARIOS), newSpaceFree: newSpaceFree() }
  },

  /** Events for the JIT, at least `n` and at least `ms`. */
  async warmup (args) {
    const start = performance.now()
    let n = 0
    while (n < (args.n as number) || performance.now() - start < (args.ms as number)) {
      await events(args.side, args.scenario, 100)
      n += 100
    }
    return n
  },

  /** Before a scenario's batches: one collection, then `settle` events on each side. */
  async prepare (args) {
    await collect(args.scenario, args.settle as number)
    return true
  },

  /**
   * One measured batch of `n` events: the heap's growth, and how many collections ran
   * meanwhile (`collected`: whether it had to collect first, for room).
   */
  async batch (args) {
    const n = args.n as number
    let collected = false
    if (newSpaceFree() < largest * 1.5) {
      await collect(args.scenario, args.settle as number)
      collected = true
    }
    const profiler = new GCProfiler()
    profiler.start()
    const before = process.memoryUsage().heapUsed
    await events(args.side, args.scenario, n)
    const after = process.memoryUsage().heapUsed
    const gcs = profiler.stop()?.statistics.length ?? 0
    largest = Math.max(largest, after - before)
    return { bytes: after - before, gcs, n, collected }
  },

  async stop () {
    for (const app of apps.splice(0)) await app.close()
    return true
  }
})

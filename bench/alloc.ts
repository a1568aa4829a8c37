// The `alloc` section of `npm run bench`: bytes allocated per event, rollback on and off.
//
// Method: a child process (bench/alloc-child.ts) started with --expose-gc and a 512 MiB
// young generation that does not grow or shrink (--min-semi-space-size =
// --max-semi-space-size), far more than a batch allocates. Per scenario: a warm-up, then
// rounds of: gc(), a few events, then batches, rollback on and off in turn: heapUsed, N
// events one at a time, heapUsed again. With no collection during a batch (a v8.GCProfiler
// checks; a batch with one is run again) the growth is every byte the batch allocated,
// garbage included: (after − before) / N. Within a round no collection runs between
// batches either (unless the young generation is about to be full): a collection shifts
// what the next events allocate by up to a few hundred bytes (V8 revisits allocation-site
// tracking and pretenuring, and may drop optimized code), while between two collections a
// batch's figure is steady to a few bytes. Hence rounds: each starts from a collection.
//
// The figure covers everything an event allocates in the process: the frame text, decoding,
// the handler, the render, the diff, the reply, and the benchmark's own promise per event
// (the same on both sides). The on − off difference is what the rollback machinery
// allocates. Each side's figure is the median of its batches.
import { Child } from './procs.js'
import { fmt, median, progress, round, table } from './report.js'

export interface AllocSettings {
  /** Warm-up events per session, at least this many and this long. */
  warmup: number
  warmupMs: number
  /** Events per batch; rounds, each a gc() and then `batches` batches per side. */
  events: number
  rounds: number
  batches: number
  /** Events run after each batch's gc(), before its measure (the JIT re-optimizes what the collection threw away). */
  settle: number
}

export interface AllocScenario {
  on_bytes_per_event: number
  off_bytes_per_event: number
  diff_bytes_per_event: number
  on_batches: number[]
  off_batches: number[]
}

export interface AllocResult {
  scenarios: Record<string, AllocScenario>
  /** Batches run again because a collection ran during them. */
  retried: number
  /** Collections between batches, for room in the young generation (besides one per scenario). */
  collections: number
  settings: AllocSettings & { semi_space_mib: number }
}

const SEMI_SPACE_MIB = 512
const CHILD_SCRIPT = new URL('./alloc-child.js', import.meta.url)

interface Batch { bytes: number, gcs: number, n: number, collected: boolean }

export async function runAlloc (s: AllocSettings, limits: Record<string, number>): Promise<AllocResult> {
  const child = new Child('alloc child', CHILD_SCRIPT, ['--expose-gc', `--min-semi-space-size=${SEMI_SPACE_MIB}`, `--max-semi-space-size=${SEMI_SPACE_MIB}`])
  try {
    const { scenarios } = await child.request<{ scenarios: string[] }>('start', { limits }, 60000)
    const out: Record<string, AllocScenario> = {}
    let retried = 0
    let collections = 0
    for (const scenario of scenarios) {
      progress(`alloc ${scenario}: warm-up (≥ ${s.warmup} events, ≥ ${s.warmupMs / 1000} s) per side, then ${s.rounds} × (gc(), ${s.batches} × (on, off) batches of ${s.events} events)`)
      for (const side of ['on', 'off']) await child.request('warmup', { side, scenario, n: s.warmup, ms: s.warmupMs }, s.warmupMs + 120000)
      const perEvent: Record<string, number[]> = { on: [], off: [] }
      for (let b = 0; b < s.rounds * s.batches; b++) {
        if (b % s.batches === 0) await child.request('prepare', { scenario, settle: s.settle }, 120000)
        for (const side of ['on', 'off']) {
          for (let attempt = 0; ; attempt++) {
            const r = await child.request<Batch>('batch', { side, scenario, n: s.events, settle: s.settle }, 120000)
            if (r.collected) collections++
            if (r.gcs === 0) {
              perEvent[side]!.push(r.bytes / r.n)
              break
            }
            retried++
            if (attempt === 2) throw new Error(`alloc ${scenario} ${side}: ${r.gcs} collections ran during a batch of ${r.n} events, three times: fewer events per batch?`)
            await child.request('prepare', { scenario, settle: s.settle }, 120000)
          }
        }
      }
      const on = median(perEvent.on!)
      const off = median(perEvent.off!)
      out[scenario] = {
        on_bytes_per_event: Math.round(on),
        off_bytes_per_event: Math.round(off),
        diff_bytes_per_event: Math.round(on - off),
        on_batches: perEvent.on!.map((x) => round(x, 1)!),
        off_batches: perEvent.off!.map((x) => round(x, 1)!)
      }
    }
    await child.request('stop', {}, 30000)
    return { scenarios: out, retried, collections, settings: { ...s, semi_space_mib: SEMI_SPACE_MIB } }
  } finally {
    await child.kill()
  }
}

export function renderAlloc (r: AllocResult): string[] {
  const s = r.settings
  const extra = [r.retried > 0 ? `${r.retried} batches run again` : '', r.collections > 0 ? `${r.collections} collections between batches for room` : ''].filter((x) => x !== '')
  const out: string[] = []
  out.push(`Allocation per event: in-process sessions in a child process, --expose-gc and a fixed ${s.semi_space_mib} MiB semi-space; per scenario a warm-up, then ${s.rounds} × (gc(), ${s.settle} events per side,`)
  out.push(`${s.batches} batches of ${s.events} events per side, on and off in turn): heapUsed (after − before) / ${s.events}, no collection during a batch (v8.GCProfiler checks${extra.length > 0 ? `; ${extra.join(', ')}` : ''}); median of the batches`)
  out.push('')
  const range = (xs: number[]): string => `${fmt(Math.round(Math.min(...xs)))}–${fmt(Math.round(Math.max(...xs)))}`
  out.push(table(['bytes per event', 'rollback on', 'rollback off', 'on − off', 'batches on / off: min–max'], Object.entries(r.scenarios).map(([name, a]) => [
    name,
    fmt(a.on_bytes_per_event),
    fmt(a.off_bytes_per_event),
    fmt(a.diff_bytes_per_event),
    `${range(a.on_batches)} / ${range(a.off_batches)}`
  ])))
  out.push('  every byte an event allocates in the server process (frame in, handler, render, diff, frame out, the bench\'s promise); on − off = the rollback machinery\'s share')
  out.push('  a batch far over the median ran partly unoptimized (the JIT dropped code and had not optimized it again): the median leaves it out')
  return out
}

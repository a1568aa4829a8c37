// `app.liveViewStats()`: what a health or metrics endpoint reports of the live sessions of
// this process. Counted as the sessions run, read on demand.

/** Renders kept for the percentiles: the last ones. */
const WINDOW = 1024

export interface LiveViewStats {
  /** Sessions open now (joined or joining). */
  sessions: number
  /** Messages waiting in the sessions' mailboxes: in all, and in the fullest one. */
  mailbox: { total: number, max: number }
  /** Bytes sent to clients since the app started (WebSocket frames, text and binary). */
  bytesOut: number
  /** How long page renders took, in µs, over the last 1,024 (0 before any). */
  renderUs: { p50: number, p90: number, p99: number, max: number, count: number }
  /** Broadcasts waiting for the PubSub server (a Redis adapter; 0 in memory). */
  pubsubPending: number
}

/** The counters the runtime keeps for `liveViewStats`. */
export class Stats {
  bytesOut = 0
  readonly #renders = new Float64Array(WINDOW)
  #count = 0

  /** A render took `us` microseconds. */
  render (us: number): void { this.#renders[this.#count++ % WINDOW] = us }

  renderUs (): LiveViewStats['renderUs'] {
    const n = Math.min(this.#count, WINDOW)
    if (n === 0) return { p50: 0, p90: 0, p99: 0, max: 0, count: 0 }
    const sorted = this.#renders.slice(0, n).sort()
    const at = (q: number): number => Math.round(sorted[Math.min(n - 1, Math.floor(q * n))] as number)
    return { p50: at(0.5), p90: at(0.9), p99: at(0.99), max: Math.round(sorted[n - 1] as number), count: this.#count }
  }
}

/** Runs a render, counting how long it took (to its promise's end). */
export function timedRender (stats: Stats, fn: () => string | Promise<string>): string | Promise<string> {
  const start = performance.now()
  const html = fn()
  if (typeof html === 'string') {
    stats.render((performance.now() - start) * 1000)
    return html
  }
  return html.then((h) => {
    stats.render((performance.now() - start) * 1000)
    return h
  })
}

/** What `app.liveViewStats()` returns, from the runtime's sessions and counters. */
export function liveViewStats (rt: { sessions: Iterable<{ waiting: number }>, stats: Stats, pubsub: object }): LiveViewStats {
  let sessions = 0
  let total = 0
  let max = 0
  for (const s of rt.sessions) {
    sessions++
    total += s.waiting
    if (s.waiting > max) max = s.waiting
  }
  const pending = (rt.pubsub as { pending?: unknown }).pending
  return { sessions, mailbox: { total, max }, bytesOut: rt.stats.bytesOut, renderUs: rt.stats.renderUs(), pubsubPending: typeof pending === 'number' ? pending : 0 }
}

import type { Clock } from '../plugin.js'

interface Timer { at: number, fn: () => void, every?: number }

/**
 * A clock tests move by hand: the plugin's timers (join deadline, heartbeat, flush polls,
 * shutdown timeout, slow-handler warnings) and its notion of now (token expiry, rate limit)
 * follow it, so a test of a 30 s timeout takes no time.
 */
export class FakeClock implements Clock {
  #now: number
  #id = 0
  readonly #timers = new Map<number, Timer>()

  constructor (start = Date.now()) { this.#now = start }

  now = (): number => this.#now
  setTimeout = (fn: () => void, ms: number): unknown => this.#add({ at: this.#now + Math.max(0, ms), fn })
  setInterval = (fn: () => void, ms: number): unknown => this.#add({ at: this.#now + Math.max(1, ms), fn, every: Math.max(1, ms) })
  clearTimeout = (handle: unknown): void => { this.#timers.delete(handle as number) }
  clearInterval = (handle: unknown): void => { this.#timers.delete(handle as number) }

  /** Timers waiting now. */
  get pending (): number { return this.#timers.size }

  /**
   * Moves time forward by `ms`, running each timer that falls due, in order, and letting
   * the work it started (promises, I/O callbacks) run before the next one.
   */
  async tick (ms: number): Promise<void> {
    const end = this.#now + ms
    for (;;) {
      let next: [number, Timer] | undefined
      for (const entry of this.#timers) if (entry[1].at <= end && (next === undefined || entry[1].at < next[1].at)) next = entry
      if (next === undefined) break
      const [id, timer] = next
      this.#now = timer.at
      if (timer.every !== undefined) timer.at += timer.every
      else this.#timers.delete(id)
      timer.fn()
      await settle()
    }
    this.#now = end
    await settle()
  }

  #add (timer: Timer): number {
    this.#timers.set(++this.#id, timer)
    return this.#id
  }
}

/** Lets pending promise callbacks and I/O run. */
export async function settle (): Promise<void> {
  for (let i = 0; i < 3; i++) await new Promise((resolve) => setImmediate(resolve))
}

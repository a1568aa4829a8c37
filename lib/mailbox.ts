/**
 * A bounded queue that runs its messages strictly one at a time, in arrival order,
 * awaiting each before the next. Synchronous handlers run without a microtask hop.
 */
export class Mailbox<T> {
  readonly #limit: number
  readonly #run: (message: T) => void | Promise<void>
  readonly #onError: (err: unknown) => void
  readonly #queue: T[] = []
  #head = 0
  #running = false
  #closed = false
  #idle: Array<() => void> = []

  /** `onError` gets what a handler throws; the next message runs all the same. */
  constructor (limit: number, run: (message: T) => void | Promise<void>, onError: (err: unknown) => void) {
    this.#limit = limit
    this.#run = run
    this.#onError = onError
  }

  /** Messages waiting, not counting the one running. */
  get size (): number { return this.#queue.length - this.#head }

  get closed (): boolean { return this.#closed }

  /** Queues a message; false when the mailbox is closed or holds `limit` messages already. */
  push (message: T): boolean {
    if (this.#closed || this.size >= this.#limit) return false
    this.#queue.push(message)
    if (!this.#running) void this.#drain()
    return true
  }

  /** Drops what is waiting and refuses new messages; the running one finishes. */
  close (): void {
    this.#closed = true
    this.drain()
  }

  /** Takes every waiting message out of the queue (the running one finishes). */
  drain (): T[] {
    const waiting = this.#queue.slice(this.#head)
    this.#queue.length = 0
    this.#head = 0
    return waiting
  }

  /** Resolves once nothing runs or waits. */
  idle (): Promise<void> {
    if (!this.#running) return Promise.resolve()
    return new Promise((resolve) => { this.#idle.push(resolve) })
  }

  async #drain (): Promise<void> {
    this.#running = true
    try {
      while (this.#head < this.#queue.length) {
        const message = this.#queue[this.#head] as T
        this.#queue[this.#head++] = undefined as T
        if (this.#head > 64 && this.#head * 2 > this.#queue.length) {
          this.#queue.splice(0, this.#head)
          this.#head = 0
        }
        try {
          const result = this.#run(message)
          if (result !== undefined) await result
        } catch (err) {
          this.#onError(err)
        }
      }
      // Drained: let the array go back to empty rather than keep its used slots.
      this.#queue.length = 0
      this.#head = 0
    } finally {
      this.#running = false
      const waiters = this.#idle
      this.#idle = []
      for (const resolve of waiters) resolve()
    }
  }
}

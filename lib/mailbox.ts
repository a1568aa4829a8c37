/**
 * A bounded mailbox that runs its messages strictly one at a time, in arrival order,
 * awaiting each before the next: the base of an actor (the session). Synchronous handlers
 * run without a microtask hop. An idle mailbox holds no queue: it costs a few fields.
 */
const RUNNING = 1
const SHUT = 2

export abstract class Mailbox<T> {
  #queue: T[] | undefined
  #head = 0
  #bits = 0
  #idle: Array<() => void> | undefined

  /** Messages that may wait at once. */
  protected abstract get limit (): number

  /** Runs one message. */
  protected abstract run (message: T): void | Promise<void>

  /** Gets what `run` threw (it should not); the next message runs all the same. */
  protected abstract crashed (err: unknown): void

  /** A message is running. */
  get busy (): boolean { return (this.#bits & RUNNING) !== 0 }

  /** Messages waiting, not counting the one running. */
  get waiting (): number { return this.#queue === undefined ? 0 : this.#queue.length - this.#head }

  /** Queues a message; false when the mailbox is shut or holds `limit` messages already. */
  protected push (message: T): boolean {
    if ((this.#bits & SHUT) !== 0 || this.waiting >= this.limit) return false
    ;(this.#queue ??= []).push(message)
    if ((this.#bits & RUNNING) === 0) void this.#drain()
    return true
  }

  /** Drops what is waiting and refuses new messages; the running one finishes. */
  protected shut (): void {
    this.#bits |= SHUT
    this.drain()
  }

  /** Takes every waiting message out of the queue (the running one finishes). */
  protected drain (): T[] {
    const waiting = this.#queue?.slice(this.#head) ?? []
    this.#queue = undefined
    this.#head = 0
    return waiting
  }

  /** Resolves once nothing runs or waits. */
  idle (): Promise<void> {
    if ((this.#bits & RUNNING) === 0) return Promise.resolve()
    return new Promise((resolve) => { (this.#idle ??= []).push(resolve) })
  }

  async #drain (): Promise<void> {
    this.#bits |= RUNNING
    try {
      for (let queue = this.#queue; queue !== undefined && this.#head < queue.length; queue = this.#queue) {
        const message = queue[this.#head] as T
        queue[this.#head++] = undefined as T
        if (this.#head > 64 && this.#head * 2 > queue.length) {
          queue.splice(0, this.#head)
          this.#head = 0
        }
        try {
          const result = this.run(message)
          if (result !== undefined) await result
        } catch (err) {
          this.crashed(err)
        }
      }
      // Drained: an idle mailbox keeps no array.
      this.#queue = undefined
      this.#head = 0
    } finally {
      this.#bits &= ~RUNNING
      const waiters = this.#idle
      this.#idle = undefined
      if (waiters !== undefined) for (const resolve of waiters) resolve()
    }
  }
}

import { AsyncResult, type AsyncOptions } from '../async-result.js'

/** How long the HTTP render waits for `http: 'await'` work by default (`httpTimeoutMs`): after that the page shows its loading state. */
export const HTTP_AWAIT_MS = 5000

/** One piece of async work of a view: `assignAsync` (a field) or `startAsync` (a name). */
export interface Task {
  readonly kind: 'assign' | 'start'
  readonly key: string
  readonly fn: (signal: AbortSignal) => unknown
  readonly options: AsyncOptions
  readonly controller: AbortController
}

/** What the tasks of a mounted view ask of it. */
export interface AsyncHost {
  /** False on the HTTP render (no socket). */
  readonly connected: boolean
  /** Queues a settled task's result for the mailbox; false when not taken. */
  postAsync: (task: Task, result: AsyncResult<unknown>) => boolean
  /** Holds `start` until the running message succeeds (false: no message runs: start now). */
  defer: (start: () => void) => boolean
  /** Sets a field of the view (the loading state, or a result on the HTTP render). */
  setField: (key: string, value: unknown) => void
  /** The view's `handleAsync` (a result on the HTTP render). */
  handle: (name: string, result: AsyncResult<unknown>) => unknown
  /** The field's current value (its last result is kept while it reloads). */
  field: (key: string) => unknown
}

/**
 * The async work of one mounted view. The work runs outside the mailbox; its result comes
 * back through it, as a message of its own (never while an event runs). One task per key:
 * starting another aborts the one before, and a result of a task that was replaced,
 * cancelled or aborted is dropped. Work started by a message starts only once that message
 * has succeeded (a handler that throws drops it with its other effects).
 */
export class AsyncTasks {
  readonly #host: AsyncHost
  readonly #running = new Map<string, Task>()
  /** HTTP render, `http: 'await'`: the work to wait for before the page is sent. */
  #http: Array<{ task: Task, done: Promise<void> }> | undefined

  constructor (host: AsyncHost) { this.#host = host }

  /** Tasks running (their results not applied yet). */
  get pending (): number { return this.#running.size }

  /** Keys of the running tasks, for messages. */
  get keys (): string[] { return [...this.#running.keys()] }

  begin (kind: Task['kind'], key: string, fn: (signal: AbortSignal) => unknown, options: AsyncOptions = {}): void {
    const task: Task = { kind, key: `${kind}:${key}`, fn, options, controller: new AbortController() }
    if (kind === 'assign') {
      // The template shows the loading state (with the last value, while it reloads) at once.
      this.#host.setField(key, AsyncResult.loading(this.#last(key)))
    }
    if (!this.#host.connected) {
      if (options.http !== 'await') return
      const done = this.#settle(task).then(async (result) => { if (!task.controller.signal.aborted) await this.#applyNow(task, key, result) })
      // Handled now: a render that never waits for it (mount redirected, or threw) must not leave a rejection behind.
      done.catch(() => {})
      ;(this.#http ??= []).push({ task, done })
      return
    }
    if (!this.#host.defer(() => { this.#run(task) })) this.#run(task)
  }

  /** On the HTTP render: waits for the `http: 'await'` work and puts its results in place. */
  async awaitHttp (): Promise<void> {
    const work = this.#http
    if (work === undefined) return
    let timer: ReturnType<typeof setTimeout> | undefined
    const ms = Math.min(...work.map((w) => w.task.options.httpTimeoutMs ?? HTTP_AWAIT_MS))
    const late = new Promise<void>((resolve) => { timer = setTimeout(resolve, ms) })
    try {
      await Promise.race([Promise.all(work.map((w) => w.done)), late])
    } finally {
      clearTimeout(timer)
      // Work still running then: the page shows its loading state.
      for (const w of work) w.task.controller.abort()
      this.#http = undefined
    }
  }

  /** Claims a settled task's result for the mailbox message that carries it: false when it is stale. */
  claim (task: Task): boolean {
    if (this.#running.get(task.key) !== task || task.controller.signal.aborted) return false
    this.#running.delete(task.key)
    return true
  }

  /**
   * Cancels the task of `key`: its result is dropped, an `assignAsync` field shows
   * `failed` (error: the abort reason) at once, and its signal aborts once the running
   * message succeeds (a handler that throws cancels nothing). True when one ran.
   */
  cancel (kind: Task['kind'], key: string, reason: unknown = new DOMException('cancelled', 'AbortError')): boolean {
    const task = this.#running.get(`${kind}:${key}`)
    if (task === undefined) return false
    if (kind === 'assign') {
      this.#host.setField(key, AsyncResult.failed(reason, this.#last(key)))
    }
    const abort = (): void => {
      if (this.#running.get(task.key) === task) this.#running.delete(task.key)
      task.controller.abort(reason)
    }
    if (!this.#host.defer(abort)) abort()
    return true
  }

  /** The URL changed within the route: tasks that asked for it are cancelled. */
  patched (): void {
    for (const task of [...this.#running.values()]) {
      if (task.options.abortOnPatch === true) this.cancel(task.kind, task.key.slice(task.kind.length + 1), new DOMException('the URL changed', 'AbortError'))
    }
  }

  /** The view ended: every task aborts. */
  dispose (): void {
    for (const task of this.#running.values()) task.controller.abort()
    this.#running.clear()
    for (const w of this.#http ?? []) w.task.controller.abort()
  }

  /** The value a field's last result had, if any (kept while it reloads, or once cancelled). */
  #last (key: string): unknown {
    const prev = this.#host.field(key) as AsyncResult<unknown> | null | undefined
    return typeof prev === 'object' && prev !== null ? prev.value : undefined
  }

  #run (task: Task): void {
    this.#running.get(task.key)?.controller.abort()
    this.#running.set(task.key, task)
    void this.#settle(task).then((result) => {
      if (this.#running.get(task.key) === task && !task.controller.signal.aborted && !this.#host.postAsync(task, result)) {
        // Not taken (the mailbox is full, or the session ends): no result will come.
        this.#running.delete(task.key)
      }
    })
  }

  /** Runs the work (never throws): its result as an AsyncResult. */
  async #settle (task: Task): Promise<AsyncResult<unknown>> {
    try {
      return AsyncResult.ok(await task.fn(task.controller.signal))
    } catch (error) {
      return AsyncResult.failed(error)
    }
  }

  /** The HTTP render's result, put in place without a message. */
  #applyNow (task: Task, key: string, result: AsyncResult<unknown>): unknown {
    if (task.kind === 'assign') return this.#host.setField(key, result)
    return this.#host.handle(key, result)
  }
}

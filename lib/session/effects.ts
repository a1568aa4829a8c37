import type { Clock } from '../clock.js'
import type { PubSub } from '../pubsub.js'
import type { Presence } from '../presence.js'

/** A timer a view started (`every`, `after`): its message waits in the mailbox at most once. */
export interface Timer { handle: unknown, msg: unknown, repeat: boolean, waiting: boolean }

/** Where an effect's messages go: the session, addressed to the view that started it. */
export interface EffectSink {
  /** Queues `msg` for the owner's `handleInfo`; false when it cannot be taken. */
  deliver: (msg: unknown, timer?: Timer) => boolean
  readonly clock: Clock
  readonly pubsub: PubSub
  readonly presence: Presence
}

/**
 * What a mounted view started that outlives a message: timers, PubSub subscriptions (with
 * the topic's presence changes) and presence trackings.
 * Messages they produce are addressed to that view, so once it is gone (a navigation, the
 * end of the session) none reaches another one. `dispose` ends them all.
 */
export class Effects {
  readonly #sink: EffectSink
  #timers: Set<Timer> | undefined
  #subscriptions: Map<string, () => void> | undefined
  /** Its presence trackings: ref by topic and key. */
  #tracked: Map<string, string> | undefined
  #disposed = false

  constructor (sink: EffectSink) {
    this.#sink = sink
  }

  /** Starts a timer whose message reaches handleInfo; returns what cancels it (later a no-op). */
  timer (ms: number, msg: unknown, repeat: boolean): () => void {
    if (this.#disposed || !(ms >= 0)) return noop
    const { clock } = this.#sink
    const timers = this.#timers ??= new Set()
    const timer: Timer = { handle: undefined, msg, repeat, waiting: false }
    const fire = (): void => {
      if (!repeat) timers.delete(timer)
      this.#fire(timer)
    }
    timer.handle = repeat ? clock.setInterval(fire, ms) : clock.setTimeout(fire, ms)
    timers.add(timer)
    return () => {
      if (!timers.delete(timer)) return
      if (repeat) clock.clearInterval(timer.handle)
      else clock.clearTimeout(timer.handle)
    }
  }

  /** Runs every timer once now (the testing API's way to move time); returns how many. */
  fireAll (): number {
    const timers = [...(this.#timers ?? [])]
    for (const timer of timers) {
      if (!timer.repeat) {
        this.#sink.clock.clearTimeout(timer.handle)
        this.#timers?.delete(timer)
      }
      this.#fire(timer)
    }
    return timers.length
  }

  #fire (timer: Timer): void {
    // A tick that finds the last one still waiting is skipped: ticks never pile up.
    if (timer.waiting || this.#disposed) return
    // Set before delivering: the mailbox may run the message at once.
    timer.waiting = true
    if (!this.#sink.deliver(timer.msg, timer)) timer.waiting = false
  }

  subscribe (topic: string): boolean {
    if (this.#disposed || typeof topic !== 'string' || topic === '') return false
    const subscriptions = this.#subscriptions ??= new Map()
    if (!subscriptions.has(topic)) {
      const deliver = (msg: unknown): void => { this.#sink.deliver(msg) }
      const offMessages = this.#sink.pubsub.subscribe(topic, deliver)
      const offPresence = this.#sink.presence.watch(topic, deliver)
      subscriptions.set(topic, () => { offMessages(); offPresence() })
    }
    return true
  }

  /** Tracks `key` on `topic` with `meta` (again: its meta changes); false once disposed. */
  track (topic: string, key: string, meta: unknown): boolean {
    if (this.#disposed) return false
    const tracked = this.#tracked ??= new Map()
    const id = JSON.stringify([topic, key])
    const ref = tracked.get(id)
    if (ref === undefined) tracked.set(id, this.#sink.presence.track(topic, key, meta))
    else this.#sink.presence.update(ref, topic, key, meta)
    return true
  }

  /** Ends a tracking; false when there was none. */
  untrack (topic: string, key: string): boolean {
    const id = JSON.stringify([topic, key])
    const ref = this.#tracked?.get(id)
    if (ref === undefined) return false
    this.#tracked!.delete(id)
    this.#sink.presence.untrack(ref)
    return true
  }

  unsubscribe (topic: string): boolean {
    const off = this.#subscriptions?.get(topic)
    if (off === undefined) return false
    this.#subscriptions!.delete(topic)
    off()
    return true
  }

  /** Ends every timer and subscription; later calls do nothing. */
  dispose (): void {
    this.#disposed = true
    const { clock } = this.#sink
    for (const timer of this.#timers ?? []) {
      if (timer.repeat) clock.clearInterval(timer.handle)
      else clock.clearTimeout(timer.handle)
    }
    this.#timers = undefined
    for (const off of this.#subscriptions?.values() ?? []) off()
    this.#subscriptions = undefined
    for (const ref of this.#tracked?.values() ?? []) this.#sink.presence.untrack(ref)
    this.#tracked = undefined
  }
}

const noop = (): void => {}

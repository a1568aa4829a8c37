import type { FastifyBaseLogger } from 'fastify'

/**
 * Broadcasts between live sessions. The in-memory adapter (the default) reaches the
 * sessions of this process; another adapter (a Redis one, say) can reach every process
 * that shares it. Handlers get the message as it was broadcast: treat it as read-only.
 */
export interface PubSub {
  /** Calls `handler` with every message broadcast on `topic`; returns what unsubscribes it. */
  subscribe (topic: string, handler: (msg: unknown) => void): () => void
  /** Sends `msg` to every subscriber of `topic`. */
  broadcast (topic: string, msg: unknown): void | Promise<void>
  /** Ends the adapter (the plugin calls it when the app closes). */
  close? (): void | Promise<void>
  /** Gets the app's logger at register time (an adapter given no logger of its own logs there). */
  attachLogger? (log: Pick<FastifyBaseLogger, 'warn' | 'error'>): void
}

/** The default adapter: subscribers of this process only. */
export class MemoryPubSub implements PubSub {
  readonly #topics = new Map<string, Set<(msg: unknown) => void>>()
  readonly #onError: (err: unknown, topic: string) => void

  /** `onError` gets what a subscriber throws; the others still get the message. */
  constructor (onError: (err: unknown, topic: string) => void = () => {}) {
    this.#onError = onError
  }

  subscribe (topic: string, handler: (msg: unknown) => void): () => void {
    let handlers = this.#topics.get(topic)
    if (handlers === undefined) this.#topics.set(topic, handlers = new Set())
    // A wrapper, so one handler subscribed twice is two subscriptions.
    const entry = (msg: unknown): void => { handler(msg) }
    handlers.add(entry)
    return () => {
      handlers.delete(entry)
      if (handlers.size === 0 && this.#topics.get(topic) === handlers) this.#topics.delete(topic)
    }
  }

  broadcast (topic: string, msg: unknown): void {
    const handlers = this.#topics.get(topic)
    if (handlers === undefined) return
    for (const handler of [...handlers]) {
      try {
        handler(msg)
      } catch (err) {
        this.#onError(err, topic)
      }
    }
  }

  /** Subscribers of a topic now (for tests and metrics). */
  subscribers (topic: string): number { return this.#topics.get(topic)?.size ?? 0 }
}

/**
 * Broadcasts `msg` and never throws: a failure (thrown, or a rejected promise: Redis away)
 * goes to `onError`. For the plugin's own messages (presence, the long-poll relay).
 */
export function publish (pubsub: PubSub, topic: string, msg: unknown, onError: (err: unknown) => void): void {
  try {
    const sent = pubsub.broadcast(topic, msg)
    if (sent instanceof Promise) sent.catch(onError)
  } catch (err) {
    onError(err)
  }
}

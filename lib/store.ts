import type { Clock } from './clock.js'

/**
 * A small key-value store with expiry, shared by the processes of an app when it is
 * external (`RedisStore` from `fastify-liveview/redis`). The plugin keeps its revocation
 * records there (`liveViewDisconnect`), so they hold across processes and restarts.
 */
export interface LiveStore {
  /** The value of `key`, or undefined when there is none (or it expired). */
  get (key: string): Promise<string | undefined> | string | undefined
  /** Sets `key` to `value` for `ttlMs` milliseconds. */
  set (key: string, value: string, ttlMs: number): Promise<void> | void
  /** Ends the store (the plugin calls it when the app closes). */
  close? (): void | Promise<void>
  /** Removes `key` (persisted view state needs it: `liveViewDisconnect` deletes a user's records). */
  del? (key: string): Promise<void> | void
}

/** The default store: this process's memory (lost on restart). */
export class MemoryStore implements LiveStore {
  readonly #entries = new Map<string, { value: string, expires: number }>()
  readonly #clock: Pick<Clock, 'now'>

  constructor (clock: Pick<Clock, 'now'> = Date) {
    this.#clock = clock
  }

  get (key: string): string | undefined {
    const entry = this.#entries.get(key)
    if (entry === undefined) return undefined
    if (entry.expires > this.#clock.now()) return entry.value
    this.#entries.delete(key)
    return undefined
  }

  set (key: string, value: string, ttlMs: number): void {
    const now = this.#clock.now()
    // Expired entries go when the store has grown by half since the last sweep.
    if (this.#entries.size >= this.#swept * 1.5 + 64) {
      for (const [k, e] of this.#entries) if (e.expires <= now) this.#entries.delete(k)
      this.#swept = this.#entries.size
    }
    this.#entries.delete(key)
    this.#entries.set(key, { value, expires: now + ttlMs })
  }

  #swept = 0

  del (key: string): void {
    this.#entries.delete(key)
  }

  /** Entries held now (expired ones included until swept), for tests. */
  get size (): number { return this.#entries.size }
}

const REVOKED = 'revoked:'

/** Records that the sessions of `key` were disconnected at `at`: tokens signed until then are refused for `ttlMs`. */
export async function revoke (store: LiveStore, key: string, at: number, ttlMs: number): Promise<void> {
  await store.set(REVOKED + key, String(at), ttlMs)
}

/** When the sessions of `key` were last disconnected, if a record is kept. */
export async function revokedAt (store: LiveStore, key: string): Promise<number | undefined> {
  const value = await store.get(REVOKED + key)
  return value === undefined ? undefined : Number(value)
}

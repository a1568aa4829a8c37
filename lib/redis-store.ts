import { Redis, type RedisOptions } from 'ioredis'
import type { LiveStore } from './store.js'

export interface RedisStoreOptions {
  /** A Redis URL (`redis://127.0.0.1:6379`) or ioredis options. Default: `redis://127.0.0.1:6379` */
  redis?: string | RedisOptions | undefined
  /** Prefix of the keys. Default: `lv:` */
  prefix?: string | undefined
  /** Milliseconds a read or write may wait for Redis before it fails. Default: 2000 */
  commandTimeoutMs?: number | undefined
}

/**
 * A store over Redis (ioredis): records (`liveViewDisconnect`'s revocations, persisted view
 * state) are shared by every process that uses the same Redis server and survive restarts;
 * they expire with Redis's own TTL. A read that fails (Redis away) fails the join that needed it: a
 * revocation is never skipped because Redis did not answer.
 *
 * @example
 * import { RedisStore } from 'fastify-liveview/redis'
 * await app.register(liveview, { secret, store: new RedisStore({ redis: process.env.REDIS_URL }) })
 */
export class RedisStore implements LiveStore {
  readonly #redis: Redis
  readonly #prefix: string

  constructor (options: RedisStoreOptions = {}) {
    const redis = options.redis ?? 'redis://127.0.0.1:6379'
    this.#prefix = options.prefix ?? 'lv:'
    // Commands sent before the connection is up (a fresh process's first joins) wait for it,
    // within commandTimeout: without the offline queue they would fail at once, refusing them.
    const extra: RedisOptions = { enableOfflineQueue: true, maxRetriesPerRequest: 1, commandTimeout: options.commandTimeoutMs ?? 2000 }
    this.#redis = typeof redis === 'string' ? new Redis(redis, extra) : new Redis({ ...redis, ...extra })
    // Connection problems surface as failed commands; the client reconnects by itself.
    this.#redis.on('error', () => {})
  }

  async get (key: string): Promise<string | undefined> {
    return (await this.#redis.get(this.#prefix + key)) ?? undefined
  }

  async set (key: string, value: string, ttlMs: number): Promise<void> {
    await this.#redis.set(this.#prefix + key, value, 'PX', Math.max(1, Math.ceil(ttlMs)))
  }

  async del (key: string): Promise<void> {
    await this.#redis.del(this.#prefix + key)
  }

  async close (): Promise<void> {
    try { await this.#redis.quit() } catch { this.#redis.disconnect() }
  }
}

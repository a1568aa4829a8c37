import { randomBytes } from 'node:crypto'
import type { FastifyBaseLogger } from 'fastify'
import { Redis, type RedisOptions } from 'ioredis'
import { clip, errors } from './errors.js'
import { MemoryPubSub, type PubSub } from './pubsub.js'

export interface RedisPubSubOptions {
  /** A Redis URL (`redis://127.0.0.1:6379`) or ioredis options. Default: `redis://127.0.0.1:6379` */
  redis?: string | RedisOptions
  /** Prefix of the Redis channels. Default: `lv:` */
  prefix?: string
  /** Where connection problems are logged. Default: the app's logger (given by the plugin at register) */
  log?: Pick<FastifyBaseLogger, 'warn' | 'error'> | undefined
  /** Milliseconds a broadcast may wait for Redis before it rejects with FST_LIVEVIEW_PUBLISH_TIMEOUT. Default: 2000 */
  publishTimeoutMs?: number | undefined
  /** Broadcasts that may wait for Redis at once; beyond, a new one rejects at once with FST_LIVEVIEW_PUBLISH_BACKLOG. Default: 1000 */
  maxPendingPublishes?: number | undefined
}

/**
 * A PubSub adapter over Redis (ioredis): broadcasts reach the sessions of every process that
 * shares the Redis server. Subscribers of this process get a broadcast at once, whatever
 * Redis does; other processes get it through Redis. While Redis is away, sessions keep
 * working and local broadcasts keep flowing; broadcasts are not queued for other processes
 * (they would arrive late), and delivery across processes resumes when Redis is back.
 * A Redis that hangs (connected, not answering) cannot pile broadcasts up: one waits at most
 * `publishTimeoutMs`, and at most `maxPendingPublishes` wait at once.
 *
 * @example
 * import { RedisPubSub } from 'fastify-liveview/redis'
 * await app.register(liveview, { secret, pubsub: new RedisPubSub({ redis: process.env.REDIS_URL }) })
 */
export class RedisPubSub implements PubSub {
  readonly #local: MemoryPubSub
  readonly #pub: Redis
  readonly #sub: Redis
  readonly #prefix: string
  readonly #origin = randomBytes(8).toString('base64url')
  #log: RedisPubSubOptions['log']
  readonly #channels = new Map<string, number>()
  readonly #timeoutMs: number
  readonly #maxPending: number
  /** Broadcasts waiting for Redis now. */
  #pending = 0

  constructor (options: RedisPubSubOptions = {}) {
    const redis = options.redis ?? 'redis://127.0.0.1:6379'
    this.#prefix = options.prefix ?? 'lv:'
    this.#log = options.log
    this.#timeoutMs = options.publishTimeoutMs ?? 2000
    this.#maxPending = options.maxPendingPublishes ?? 1000
    this.#local = new MemoryPubSub((err, topic) => { this.#log?.error({ err, topic }, 'live view broadcast subscriber failed') })
    const connect = (extra: RedisOptions): Redis => typeof redis === 'string'
      ? new Redis(redis, { lazyConnect: false, ...extra })
      : new Redis({ ...redis, ...extra })
    // Publishing fails at once while Redis is away instead of queueing stale messages.
    this.#pub = connect({ enableOfflineQueue: false, maxRetriesPerRequest: 1 })
    this.#sub = connect({ maxRetriesPerRequest: null })
    for (const client of [this.#pub, this.#sub]) {
      client.on('error', (err: Error) => { this.#log?.warn({ err }, 'live view Redis connection problem') })
    }
    this.#sub.on('message', (channel: string, text: string) => { this.#receive(channel, text) })
  }

  subscribe (topic: string, handler: (msg: unknown) => void): () => void {
    const off = this.#local.subscribe(topic, handler)
    const channel = this.#prefix + topic
    const count = this.#channels.get(channel) ?? 0
    this.#channels.set(channel, count + 1)
    if (count === 0) {
      this.#sub.subscribe(channel).catch((err: unknown) => { this.#log?.warn({ err, topic }, 'live view Redis subscribe failed') })
    }
    let done = false
    return () => {
      if (done) return
      done = true
      off()
      const left = (this.#channels.get(channel) ?? 1) - 1
      if (left > 0) {
        this.#channels.set(channel, left)
        return
      }
      this.#channels.delete(channel)
      this.#sub.unsubscribe(channel).catch(() => {})
    }
  }

  /**
   * Delivers to this process's subscribers at once, then publishes to Redis. Rejects with
   * FST_LIVEVIEW_PUBLISH_TIMEOUT when Redis has not taken it within `publishTimeoutMs`, and
   * with FST_LIVEVIEW_PUBLISH_BACKLOG at once when `maxPendingPublishes` wait already (the
   * local delivery happened either way). While Redis is disconnected, publishing fails
   * at once and is only logged: other processes miss that broadcast.
   */
  async broadcast (topic: string, msg: unknown): Promise<void> {
    const text = JSON.stringify({ o: this.#origin, m: msg })
    this.#local.broadcast(topic, msg)
    if (this.#pending >= this.#maxPending) throw new errors.PUBLISH_BACKLOG(clip(topic), this.#pending)
    // Counted until Redis answers (not until the caller gives up): what ioredis holds is bounded.
    this.#pending++
    const sent = this.#pub.publish(this.#prefix + topic, text).then(() => undefined, (err: unknown) => err)
    void sent.finally(() => { this.#pending-- })
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<'timeout'>((resolve) => { timer = setTimeout(resolve, this.#timeoutMs, 'timeout') })
    let result: unknown
    try {
      result = await Promise.race([sent, timeout])
    } finally {
      clearTimeout(timer)
    }
    if (result === 'timeout') {
      this.#log?.warn({ topic: clip(topic), code: 'FST_LIVEVIEW_PUBLISH_TIMEOUT' }, 'live view broadcast did not reach Redis in time')
      throw new errors.PUBLISH_TIMEOUT(clip(topic), this.#timeoutMs)
    }
    if (result !== undefined) this.#log?.warn({ err: result, topic: clip(topic) }, 'live view broadcast did not reach Redis: other processes miss it')
  }

  /** Broadcasts waiting for Redis now (for tests and metrics). */
  get pending (): number { return this.#pending }

  attachLogger (log: Pick<FastifyBaseLogger, 'warn' | 'error'>): void { this.#log ??= log }

  /** Quits both connections; one that Redis does not answer within `publishTimeoutMs` (hung) is dropped. */
  async close (): Promise<void> {
    await Promise.all([this.#pub, this.#sub].map(async (client) => {
      let timer: NodeJS.Timeout | undefined
      const gaveUp = new Promise<'timeout'>((resolve) => { timer = setTimeout(resolve, this.#timeoutMs, 'timeout') })
      try {
        if (await Promise.race([client.quit(), gaveUp]) === 'timeout') client.disconnect()
      } catch {
        client.disconnect()
      } finally {
        clearTimeout(timer)
      }
    }))
  }

  #receive (channel: string, text: string): void {
    if (!channel.startsWith(this.#prefix)) return
    let envelope: { o?: string, m?: unknown }
    try {
      envelope = JSON.parse(text) as { o?: string, m?: unknown }
    } catch {
      this.#log?.warn({ channel }, 'live view Redis message is not JSON: ignored')
      return
    }
    // This process delivered its own broadcasts already.
    if (envelope.o === this.#origin) return
    this.#local.broadcast(channel.slice(this.#prefix.length), envelope.m)
  }
}

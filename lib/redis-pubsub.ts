import { randomBytes } from 'node:crypto'
import type { FastifyBaseLogger } from 'fastify'
import { Redis, type RedisOptions } from 'ioredis'
import { MemoryPubSub, type PubSub } from './pubsub.js'

export interface RedisPubSubOptions {
  /** A Redis URL (`redis://127.0.0.1:6379`) or ioredis options. Default: `redis://127.0.0.1:6379` */
  redis?: string | RedisOptions
  /** Prefix of the Redis channels. Default: `lv:` */
  prefix?: string
  /** Where connection problems are logged. Default: nowhere */
  log?: Pick<FastifyBaseLogger, 'warn' | 'error'>
}

/**
 * A PubSub adapter over Redis (ioredis): broadcasts reach the sessions of every process that
 * shares the Redis server. Subscribers of this process get a broadcast at once, whatever
 * Redis does; other processes get it through Redis. While Redis is away, sessions keep
 * working and local broadcasts keep flowing; broadcasts are not queued for other processes
 * (they would arrive late), and delivery across processes resumes when Redis is back.
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
  readonly #log: RedisPubSubOptions['log']
  readonly #channels = new Map<string, number>()

  constructor (options: RedisPubSubOptions = {}) {
    const redis = options.redis ?? 'redis://127.0.0.1:6379'
    this.#prefix = options.prefix ?? 'lv:'
    this.#log = options.log
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

  async broadcast (topic: string, msg: unknown): Promise<void> {
    const text = JSON.stringify({ o: this.#origin, m: msg })
    this.#local.broadcast(topic, msg)
    try {
      await this.#pub.publish(this.#prefix + topic, text)
    } catch (err) {
      this.#log?.warn({ err, topic }, 'live view broadcast did not reach Redis: other processes miss it')
    }
  }

  async close (): Promise<void> {
    for (const client of [this.#pub, this.#sub]) {
      try { await client.quit() } catch { client.disconnect() }
    }
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

/** fastify-liveview/redis: a PubSub adapter and a store over Redis (needs the `ioredis` package). */
export { RedisPubSub } from './lib/redis-pubsub.js'
export type { RedisPubSubOptions } from './lib/redis-pubsub.js'
export { RedisStore } from './lib/redis-store.js'
export type { RedisStoreOptions } from './lib/redis-store.js'

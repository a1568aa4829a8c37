/** fastify-liveview/redis: a PubSub adapter over Redis (needs the `ioredis` package). */
export { RedisPubSub } from './lib/redis-pubsub.js'
export type { RedisPubSubOptions } from './lib/redis-pubsub.js'

// The demo on N processes (node's cluster: the primary hands each connection to the next
// worker, round robin, as a load balancer without sticky sessions would), sharing Redis for
// broadcasts, presence, revocations and persisted state.
//
//   REDIS_URL=redis://127.0.0.1:6379 LV_SECRET=… WORKERS=2 PORT=3000 node dist/examples/cluster/server.js
//
// Any worker can take any page's socket: the page token and the app's own checks carry all a
// process needs to mount a view. SIGTERM (a container stopping) closes every worker
// gracefully: running handlers finish and reply, sockets close with 1001, and pages
// reconnect to the processes that remain (or the next deployment's).
import cluster from 'node:cluster'
import { randomBytes } from 'node:crypto'
import { availableParallelism } from 'node:os'
import type { LiveViewLimits } from '../../plugin.js'
import { RedisPubSub, RedisStore } from '../../redis.js'
import { buildDemo } from '../demo/server.js'

const workers = Number(process.env.WORKERS ?? availableParallelism())
const port = Number(process.env.PORT ?? 3000)
const redis = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'

if (cluster.isPrimary) {
  // Every process must share the secret (a list while rotating: see the README).
  if (process.env.LV_SECRET === undefined) {
    // Fine for a try; in a deployment every restart would then sign out every page.
    console.warn('LV_SECRET is not set: using a random one for this run (pages reload after a restart, persisted state is lost)')
    process.env.LV_SECRET = randomBytes(32).toString('base64url')
  }
  let stopping = false
  for (let i = 0; i < workers; i++) cluster.fork()
  // A worker that dies is replaced; its pages reconnect to the others meanwhile.
  cluster.on('exit', (worker, code, signal) => {
    if (!stopping) {
      console.error(`worker ${worker.process.pid} exited (${signal ?? code}): starting another`)
      cluster.fork()
    }
  })
  let ready = 0
  cluster.on('listening', () => { if (++ready === workers) console.log(`listening on http://127.0.0.1:${port} with ${workers} workers`) })
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      stopping = true
      for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGTERM')
    })
  }
} else {
  const app = await buildDemo({
    logger: process.env.LOG === '1',
    // The load report loops events far past a person's rate: it lifts the rate limit this way.
    limits: process.env.LV_LIMITS === undefined ? undefined : JSON.parse(process.env.LV_LIMITS) as LiveViewLimits,
    pubsub: new RedisPubSub({ redis }),
    store: new RedisStore({ redis })
  })
  process.once('SIGTERM', () => { app.close().then(() => process.exit(0), () => process.exit(1)) })
  await app.listen({ host: process.env.HOST ?? '127.0.0.1', port })
}

import t from 'tap'
import { forkFixture, nextMessage } from './children.js'
import { live } from '../testing.js'
import { roomApp } from './fixtures/redis-room.js'
import { freePort, startRedis, stopRedis } from './redis-server.js'

// A real redis-server (Debian's package; `npm test` installs it when missing) on a free
// loopback port, and a second Fastify process: a broadcast in one process re-renders a
// session held by the other.
t.setTimeout(60000)

const port = await freePort()
let redis = await startRedis(port)
t.teardown(() => stopRedis(redis))

const child = forkFixture(t, 'redis-child', [String(port)])
const next = async (): Promise<Record<string, unknown>> => await nextMessage(child)
await next()
const app = await roomApp(port)
t.teardown(() => app.close())

/**
 * Broadcasts `said` from this process until the child's page shows `want` (its count is
 * `said`'s length), within 10 s: a subscription (or a resubscription after Redis came back)
 * is in place on its own time, and a broadcast before it is not delivered. The child's count.
 */
async function crosses (said: string, want: string): Promise<unknown> {
  const deadline = Date.now() + 10000
  let count: unknown
  do {
    await app.liveViewBroadcast('room', { said })
    const asked = next()
    child.send({ cmd: 'count', want, ms: 500 })
    count = (await asked).count
  } while (count !== want && Date.now() < deadline)
  return count
}

t.test('a broadcast in this process re-renders a session held by another process', async (t) => {
  const local = await live(app, '/room')
  t.teardown(() => local.close())
  t.equal(await crosses('hello', '5'), '5', 'the other process rendered it')
  await local.settle()
  local.assertText('#count', '5', 'this process too, once')
})

t.test('Redis going away: sessions keep working locally; cross-process delivery resumes when it is back', async (t) => {
  const local = await live(app, '/room')
  t.teardown(() => local.close())
  await stopRedis(redis)
  await app.liveViewBroadcast('room', { said: 'while down' })
  await local.settle()
  local.assertText('#count', '10', 'local subscribers still get broadcasts')
  redis = await startRedis(port)
  // ioredis reconnects and resubscribes by itself.
  t.equal(await crosses('back again', '10'), '10', 'the other process gets broadcasts again')
})

t.test('the other process stops cleanly', async (t) => {
  const exited = new Promise((resolve) => child.once('exit', resolve))
  child.send({ cmd: 'exit' })
  t.equal(await exited, 0)
})

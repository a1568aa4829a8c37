// The Redis adapters under stress, against a real redis-server on a free loopback port: a
// hung Redis (SIGSTOP: connected, silent) bounds broadcasts in time and in number, and
// liveViewDisconnect(key) holds across processes (two apps sharing Redis) and restarts.
import t, { type Test } from 'tap'
import Fastify, { type FastifyInstance } from 'fastify'
import { Redis } from 'ioredis'
import liveview from '../plugin.js'
import { RedisPubSub, RedisStore } from '../redis.js'
import { Counter } from './fixtures/views.js'
import { SECRET, WireClient, tokenOf, viewsRoot, type Frame } from './helpers.js'
import { freePort, startRedis, stopRedis } from './redis-server.js'

t.setTimeout(60000)

const port = await freePort()
const redis = await startRedis(port)
t.teardown(() => stopRedis(redis))
const server = { host: '127.0.0.1', port }
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))
const codeOf = (err: unknown): unknown => (err as { code?: unknown }).code

/** Until `check` holds (polled), or fails the test after 5 s. */
async function until (t: Test, what: string, check: () => boolean | Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 5000
  while (!(await check())) {
    if (Date.now() > deadline) { t.fail(`timed out waiting: ${what}`); return }
    await sleep(20)
  }
}

/** Until a broadcast of `a` reaches `b` through Redis: a's publisher and b's subscriber are connected. */
async function linked (t: Test, a: RedisPubSub, b: RedisPubSub): Promise<void> {
  let seen = false
  const off = b.subscribe('probe', () => { seen = true })
  await until(t, 'a broadcast crosses Redis', async () => { await a.broadcast('probe', 1); await sleep(20); return seen })
  off()
}

t.test('a hung Redis: a broadcast times out, waiting ones are capped, the heap stays bounded, and it all resumes', async (t) => {
  const options = { redis: server, publishTimeoutMs: 300, maxPendingPublishes: 5 }
  const pubsub = new RedisPubSub(options)
  const other = new RedisPubSub(options) // a second adapter, so (b) starts from an empty backlog
  t.teardown(async () => { redis.kill('SIGCONT'); await pubsub.close(); await other.close() })
  const got: unknown[] = []
  pubsub.subscribe('t', (msg) => { got.push(msg) })
  await linked(t, pubsub, other)
  await linked(t, other, pubsub)
  redis.kill('SIGSTOP')

  // (a) one broadcast: rejects after publishTimeoutMs; local subscribers got it at once.
  const start = Date.now()
  const err = await pubsub.broadcast('t', 'hung').then(() => undefined, (e: unknown) => e)
  const took = Date.now() - start
  t.equal(codeOf(err), 'FST_LIVEVIEW_PUBLISH_TIMEOUT', 'rejected with the timeout code')
  t.ok(took >= 250 && took < 2000, `after about 300 ms (${took} ms)`)
  t.same(got, ['hung'], 'the local subscriber got the message')
  t.equal(pubsub.pending, 1, 'the timed-out publish counts until Redis answers')

  // (b) maxPendingPublishes wait at once; the next one is refused at once.
  const waiting = Array.from({ length: 5 }, (_, i) => other.broadcast('t', i).then(() => 'resolved', codeOf))
  t.equal(other.pending, 5, '5 wait for Redis')
  const sixth = other.broadcast('t', 6).then(() => undefined, (e: unknown) => e)
  // At once: settled before the event loop's next turn (no I/O, no timer), whatever the machine's speed.
  const first = await Promise.race([sixth.then(() => 'refused'), new Promise((resolve) => setImmediate(() => { resolve('waited') }))])
  t.equal(first, 'refused', 'the 6th is refused at once, not after publishTimeoutMs')
  t.equal(codeOf(await sixth), 'FST_LIVEVIEW_PUBLISH_BACKLOG', 'with the backlog code')
  t.same(await Promise.all(waiting), Array(5).fill('FST_LIVEVIEW_PUBLISH_TIMEOUT'), 'the 5 waiting time out')

  // (c) a flood: nothing piles up behind the hung connection.
  let most = 0
  const codes = new Map<unknown, number>()
  const flood: Array<Promise<void>> = []
  for (let i = 0; i < 5000; i++) {
    flood.push(other.broadcast('t', i).catch((e: unknown) => { codes.set(codeOf(e), (codes.get(codeOf(e)) ?? 0) + 1) }))
    most = Math.max(most, other.pending, pubsub.pending)
  }
  await Promise.all(flood)
  t.ok(most <= 5, `pending stayed <= 5 (max ${most})`)
  t.same([...codes], [['FST_LIVEVIEW_PUBLISH_BACKLOG', 5000]], 'every one of them was refused at once')

  // (d) Redis runs again: the backlog drains, broadcasts resolve and cross processes again.
  redis.kill('SIGCONT')
  await until(t, 'pending drains', () => pubsub.pending === 0 && other.pending === 0)
  t.equal(pubsub.pending + other.pending, 0, 'pending drained to 0')
  await t.resolves(pubsub.broadcast('t', 'back'), 'a broadcast resolves again')
  await linked(t, pubsub, other)
  t.equal(pubsub.pending + other.pending, 0, 'and nothing waits')
})

t.test('an adapter given no logger warns through the app\'s logger when a broadcast times out', async (t) => {
  const lines: Array<{ level: number, code?: string, msg: string }> = []
  const app = Fastify({ logger: { level: 'warn', stream: { write: (line: string) => { lines.push(JSON.parse(line)) } } } })
  const pubsub = new RedisPubSub({ redis: server, publishTimeoutMs: 300 })
  const probe = new RedisPubSub({ redis: server })
  let closing: Promise<unknown> | undefined
  t.teardown(async () => { redis.kill('SIGCONT'); await (closing ?? app.close()); await probe.close() })
  await app.register(liveview, { root: viewsRoot, secret: SECRET, pubsub })
  await app.ready()
  await linked(t, pubsub, probe)
  const timeouts = (): unknown[] => lines.filter((l) => l.level === 40 && l.code === 'FST_LIVEVIEW_PUBLISH_TIMEOUT')
  t.same(timeouts(), [], 'no timeout logged while Redis answers')
  redis.kill('SIGSTOP')
  await t.rejects(app.liveViewBroadcast('room', 'x'), { code: 'FST_LIVEVIEW_PUBLISH_TIMEOUT' })
  t.match(timeouts(), [{ level: 40, code: 'FST_LIVEVIEW_PUBLISH_TIMEOUT', topic: 'room', msg: /did not reach Redis in time/ }], 'one warn line, in the app\'s log')
  // Closing the app quits the adapter: a hung Redis does not hang it (publishTimeoutMs, then dropped).
  const start = Date.now()
  closing = app.close()
  t.equal(await Promise.race([closing.then(() => 'closed'), sleep(3000).then(() => 'hanging')]), 'closed', 'app.close() returns')
  t.ok(Date.now() - start < 2000, `promptly (${Date.now() - start} ms)`)
})

t.test('liveViewDisconnect(key) reaches another process through Redis, and its record outlives a restart', async (t) => {
  const admin = new Redis(server)
  const apps = new Set<FastifyInstance>()
  t.teardown(async () => { for (const app of apps) await app.close(); await admin.quit() })
  async function instance (): Promise<FastifyInstance> {
    const app = Fastify({ logger: false })
    apps.add(app)
    await app.register(liveview, {
      root: viewsRoot,
      secret: SECRET,
      session: (request) => ({ key: request.headers['x-user'] }),
      store: new RedisStore({ redis: server }),
      pubsub: new RedisPubSub({ redis: server })
    })
    app.liveView('/', Counter)
    await app.ready()
    return app
  }
  const page = async (app: FastifyInstance, user: string): Promise<string> => tokenOf((await app.inject({ url: '/', headers: { 'x-user': user } })).body)
  async function join (app: FastifyInstance, user: string, token: string, pristine = true): Promise<{ client: WireClient, reply: Frame }> {
    const client = new WireClient(await app.injectWS('/_live/ws', { headers: { 'x-user': user } }))
    t.teardown(() => { client.close() })
    return { client, reply: await client.join(token, 'http://localhost/', { pristine }) }
  }
  const errorCode = (f: Frame): unknown => f[1] === 'err' ? (f[2] as { code: string }).code : `not an error frame: ${JSON.stringify(f)}`

  const appA = await instance()
  const appB = await instance()
  // Both apps subscribed the disconnect topic in Redis.
  await until(t, 'both subscribed', async () => (await admin.pubsub('NUMSUB', 'lv:fastify-liveview:disconnect'))[1] === 2)
  const adaToken = await page(appA, 'ada')
  const bobToken = await page(appB, 'bob')
  const ada = await join(appB, 'ada', adaToken)
  const bob = await join(appB, 'bob', bobToken)
  t.same([ada.reply[1], bob.reply[1]], ['mount', 'mount'], 'ada and bob joined on app B')

  await appA.liveViewDisconnect('ada')
  t.equal(appA.liveViewSessions, 0, 'app A held no session: only Redis can reach ada')
  t.equal((await ada.client.closed).code, 4004, 'ada\'s socket on app B closes with 4004')
  t.ok(await admin.pttl('lv:revoked:ada') > 0, 'the record is in Redis, with an expiry')
  await sleep(5)
  const later = await page(appA, 'ada') // loaded after the disconnect
  t.equal(errorCode((await join(appB, 'ada', adaToken, false)).reply), 'FST_LIVEVIEW_TOKEN_REVOKED', 'app B refuses the old token')
  t.equal((await bob.client.event('inc'))[1], 'p', 'bob\'s session goes on')

  // A restart: app B goes, app C comes up with a fresh RedisStore on the same Redis.
  await appB.close()
  apps.delete(appB)
  const appC = await instance()
  t.equal(errorCode((await join(appC, 'ada', adaToken, false)).reply), 'FST_LIVEVIEW_TOKEN_REVOKED', 'app C refuses the old token too')
  t.equal((await join(appC, 'ada', later)).reply[1], 'mount', 'a page loaded after the disconnect joins')
  t.equal((await join(appC, 'bob', bobToken, false)).reply[1], 'mount', 'bob\'s page rejoins')
})

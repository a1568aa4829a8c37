// Presence across processes on a real redis-server: this process and two children track
// users on one topic; each sees all of them; a child killed with SIGKILL (no goodbye) leaves
// within the documented time (timeoutMs plus one heartbeat), and one closed normally at once.
import t from 'tap'
import type { ChildProcess } from 'node:child_process'
import { ask, forkFixture, nextMessage } from './children.js'
import Fastify from 'fastify'
import liveview from '../plugin.js'
import { RedisPubSub } from '../redis.js'
import { live } from '../testing.js'
import { PresenceRoom } from './fixtures/presence-room.js'
import { SECRET, eventually, viewsRoot } from './helpers.js'
import { freePort, startRedis, stopRedis } from './redis-server.js'

t.setTimeout(60000)
const HEARTBEAT = 200
const TIMEOUT = 1500

const port = await freePort()
const redis = await startRedis(port)
t.teardown(() => stopRedis(redis))

function child (user: string): { proc: ChildProcess, ready: Promise<unknown> } {
  const proc = forkFixture(t, 'presence-child', [String(port), user])
  return { proc, ready: nextMessage(proc) }
}

const app = Fastify({ logger: false })
t.teardown(() => app.close())
await app.register(liveview, {
  root: viewsRoot,
  secret: SECRET,
  pubsub: new RedisPubSub({ redis: { host: '127.0.0.1', port, retryStrategy: () => 100 } }),
  presence: { heartbeatMs: HEARTBEAT, timeoutMs: TIMEOUT }
})
app.liveView('/room', PresenceRoom)
await app.ready()

/** Waits until `check` holds (the page settled first), within `ms`; returns how long it took. */
async function until (page: { settle: () => Promise<unknown> }, check: () => boolean, ms: number): Promise<number> {
  const start = Date.now()
  while (!check()) {
    if (Date.now() - start > ms) break
    await page.settle()
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  return Date.now() - start
}

t.test('users of other processes come and go; a killed process\'s leave within timeoutMs plus a heartbeat', async (t) => {
  const ada = await live(app, '/room?user=ada')
  t.teardown(() => ada.close())
  const bob = child('bob')
  const cy = child('cy')
  await Promise.all([bob.ready, cy.ready])
  // Listed in the order they arrived: bob and cy may come either way.
  const who = (): string[] | undefined => ada.text('#who').match(/\w+ \(1\)/g)?.sort()
  await until(ada, () => who()?.length === 3, 5000)
  t.same(who(), ['ada (1)', 'bob (1)', 'cy (1)'], 'this process sees the users of both others')
  // bob's process hears cy's join over Redis on its own time (ada seeing it says nothing
  // of bob), and may list them in another order: asked until it lists three, within 5 s.
  const bobWho = async (): Promise<string[] | undefined> => (await ask<{ who: string }>(bob.proc, { cmd: 'who' })).who.match(/\w+ \(1\)/g)?.sort()
  let bobSees: string[] | undefined
  await eventually(async () => (bobSees = await bobWho())?.length === 3, 5000)
  t.same(bobSees, ['ada (1)', 'bob (1)', 'cy (1)'], 'and a child sees this one\'s')

  cy.proc.kill('SIGKILL')
  const took = await until(ada, () => !ada.text('#who').includes('cy'), TIMEOUT + HEARTBEAT + 3000)
  t.equal(ada.text('#who'), 'ada (1)bob (1)', 'cy left')
  // The bound has room for a loaded machine; the time it took is in the message.
  t.ok(took <= TIMEOUT + HEARTBEAT + 1500, `within timeoutMs + a heartbeat (and Redis's latency): ${took} ms`)
  // Expiry counts from cy's last heartbeat, which a starved process may have sent early: the
  // bound only tells an expiry (about timeoutMs) from a goodbye (milliseconds).
  t.ok(took >= TIMEOUT / 2, `not long before the timeout: it was expired, not told (${took} ms)`)
  t.match(ada.text('#diffs'), /\+\/-cy$/, 'as a leave diff in handleInfo')
  t.same(app.liveViewPresence('room').cy, undefined)

  const exited = new Promise((resolve) => bob.proc.once('exit', resolve))
  bob.proc.send({ cmd: 'exit' })
  const left = await until(ada, () => !ada.text('#who').includes('bob'), 5000)
  t.equal(ada.text('#who'), 'ada (1)', 'bob left')
  t.ok(left < TIMEOUT - HEARTBEAT, `a process that closes says so: no waiting for the timeout (${left} ms)`)
  await exited
})

// Presence: `this.track(topic, key, meta)`, `this.presence(topic)`, presence diffs in
// `handleInfo`; and the replica protocol between processes (two Presence instances over one
// PubSub here, with a fake clock; real processes on Redis in redis-presence.test.ts).
import t, { type Test } from 'tap'
import { live } from '../testing.js'
import { MemoryPubSub } from '../plugin.js'
import { Presence, PRESENCE_TOPIC, type PresenceDiff } from '../lib/presence.js'
import { FakeClock } from './fake-clock.js'
import { buildApp } from './helpers.js'
import { PresenceRoom } from './fixtures/presence-room.js'

t.test('sessions tracked on a topic see each other come, change and go', async (t) => {
  const app = await buildApp(t, {}, (app) => { app.liveView('/room', PresenceRoom) })
  const ada = await live(app, '/room?user=ada')
  t.equal(ada.text('#who'), 'ada (1)', 'the tracking is there at once')
  const bob = await live(app, '/room?user=bob')
  t.equal(bob.text('#who'), 'ada (1)bob (1)')
  await ada.settle()
  t.equal(ada.text('#who'), 'ada (1)bob (1)', 'ada got the join')
  t.equal(ada.text('#diffs'), '+ada/- +bob/-', 'her own join, then bob\'s')
  const bob2 = await live(app, '/room?user=bob')
  await ada.settle()
  t.equal(ada.text('#who'), 'ada (1)bob (2)', 'a key with two trackings (two tabs) has two metas')
  t.same(app.liveViewPresence('room').bob?.metas, [{ typing: false }, { typing: false }])
  await bob.click('#typing')
  await ada.settle()
  t.equal(ada.text('#diffs'), '+ada/- +bob/- +bob/- +bob/-bob', 'a meta change is a leave of the old meta and a join of the new')
  t.same(app.liveViewPresence('room').bob?.metas, [{ typing: false }, { typing: true }])
  await bob.close()
  await ada.settle()
  t.equal(ada.text('#who'), 'ada (1)bob (1)', 'a closed session leaves')
  await bob2.close()
  await ada.settle()
  t.equal(ada.text('#who'), 'ada (1)')
  t.equal(ada.text('#diffs'), '+ada/- +bob/- +bob/- +bob/-bob +/-bob +/-bob')
  await ada.close()
  t.same(app.liveViewPresence('room'), {}, 'nobody left')
})

t.test('an HTTP render tracks nothing; track and untrack say whether they did something', async (t) => {
  const app = await buildApp(t, {}, (app) => { app.liveView('/room', PresenceRoom) })
  await app.inject('/room?user=ghost')
  t.same(app.liveViewPresence('room'), {}, 'not connected: no tracking')
  const ada = await live(app, '/room?user=ada')
  const view = ada.view as PresenceRoom
  t.equal(view.untrack('room', 'nobody'), false)
  t.equal(view.untrack('room', 'ada'), true)
  t.same(app.liveViewPresence('room'), {})
  await ada.close()
  t.equal(view.track('room', 'ada'), false, 'an ended view tracks nothing')
})

/**
 * Processes' presence over one PubSub, on a fake clock (heartbeat 1 s, timeout 3 s): `join()`
 * starts one (stopped when the test ends); `send` speaks as a process seen only through its messages.
 */
function world (t: Test) {
  const pubsub = new MemoryPubSub()
  const clock = new FakeClock()
  const join = (): Presence => {
    const p = new Presence(pubsub, clock, { heartbeatMs: 1000, timeoutMs: 3000 }, (err) => { throw err })
    p.start()
    t.teardown(() => { p.stop() })
    return p
  }
  const send = (m: unknown): void => { pubsub.broadcast(PRESENCE_TOPIC, m) }
  return { pubsub, clock, join, send }
}

t.test('processes replicate trackings both ways, and their leaves', async (t) => {
  const { clock, join } = world(t)
  const [a, b] = [join(), join()]
  const diffs: PresenceDiff[] = []
  b.watch('room', (d) => { diffs.push(d) })
  const ref = a.track('room', 'ada', { n: 1 })
  t.same(b.list('room'), { ada: { metas: [{ n: 1 }] } }, 'b sees what a tracks')
  t.same(diffs, [{ event: 'presence_diff', topic: 'room', joins: { ada: { metas: [{ n: 1 }] } }, leaves: {} }])
  b.track('room', 'bob', {})
  t.same(Object.keys(a.list('room')), ['ada', 'bob'], 'a sees what b tracks')
  await clock.tick(10000)
  t.same(Object.keys(b.list('room')), ['ada', 'bob'], 'heartbeats keep both')
  a.untrack(ref)
  t.same(Object.keys(b.list('room')), ['bob'])
  t.same(diffs.at(-1), { event: 'presence_diff', topic: 'room', joins: {}, leaves: { ada: { metas: [{ n: 1 }] } } })
  t.equal(b.size, 1)
})

t.test('a killed process (no bye, no heartbeat) leaves within timeoutMs plus a heartbeat', async (t) => {
  const { clock, join, send } = world(t)
  const b = join()
  // A process seen only through its messages: it joins, heartbeats, then stops.
  send({ t: 'j', n: 'dead', v: 1, e: ['dead.1', 'room', 'ada', {}] })
  const diffs: PresenceDiff[] = []
  b.watch('room', (d) => { diffs.push(d) })
  t.same(Object.keys(b.list('room')), ['ada'])
  await clock.tick(1000)
  send({ t: 'hb', n: 'dead', v: 1 })
  await clock.tick(3000)
  t.same(Object.keys(b.list('room')), ['ada'], 'heard 3 s ago: not yet')
  await clock.tick(1000)
  t.same(b.list('room'), {}, 'gone at the first sweep past the timeout')
  t.same(diffs, [{ event: 'presence_diff', topic: 'room', joins: {}, leaves: { ada: { metas: [{}] } } }])
})

t.test('a lost message is healed: the gap asks for the whole state', async (t) => {
  const { pubsub, join, send } = world(t)
  const b = join()
  const asked: unknown[] = []
  pubsub.subscribe(PRESENCE_TOPIC, (m) => { if ((m as { t: string }).t === 'ask') asked.push(m) })
  send({ t: 'j', n: 'p', v: 1, e: ['p.1', 'room', 'ada', {}] })
  // v 2 (a join of bob) was lost; v 3 arrives.
  send({ t: 'l', n: 'p', v: 3, r: 'p.1' })
  t.same(asked, [{ t: 'ask', n: b.node, to: 'p' }], 'b asks p for its state')
  t.same(Object.keys(b.list('room')), ['ada'], 'and applies nothing out of order')
  send({ t: 'state', n: 'p', v: 3, e: [['p.2', 'room', 'bob', {}]] })
  t.same(Object.keys(b.list('room')), ['bob'], 'the state replaces what b had of p')
  send({ t: 'hb', n: 'p', v: 3 })
  t.equal(asked.length, 1, 'a heartbeat in step asks nothing')
  send({ t: 'hb', n: 'p', v: 4 })
  t.equal(asked.length, 2, 'one ahead asks again')
  send({ t: 'bye', n: 'p' })
  t.same(b.list('room'), {}, 'a process that says bye leaves at once')
})

t.test('a process that starts late learns the others\' trackings', async (t) => {
  const { join } = world(t)
  const a = join()
  a.track('room', 'ada', { x: 1 })
  const b = join()
  t.same(b.list('room'), { ada: { metas: [{ x: 1 }] } })
  a.stop()
  t.same(b.list('room'), {}, 'a stopped (bye): its users left')
})

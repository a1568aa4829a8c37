// The long-poll transport, in-process: open, join, events and replies in order, frames kept
// until acknowledged, the checks of a socket (Origin, caps, frame size, malformed input), a
// client that stops polling, and a session of another process reached through the relay.
import t, { type Test } from 'tap'
import type { FastifyInstance } from 'fastify'
import { MemoryPubSub, PROTOCOL_VERSION, type LiveViewOptions } from '../plugin.js'
import { Counter } from './fixtures/views.js'
import { buildApp, eventually, tokenOf } from './helpers.js'

async function appWith (t: Test, options: LiveViewOptions = {}): Promise<FastifyInstance> {
  return await buildApp(t, options, (app) => { app.liveView('/counter', Counter) })
}

interface Poll { a: number, f: string[], c?: [number, string] }
const json = { 'content-type': 'application/json' }

async function open (app: FastifyInstance, headers: Record<string, string> = {}): Promise<string> {
  const res = await app.inject({ method: 'POST', url: '/_live/lp', headers: { ...json, ...headers }, payload: '{}' })
  if (res.statusCode !== 200) throw new Error(`open: ${res.statusCode} ${res.body}`)
  return res.json<{ s: string }>().s
}
const send = async (app: FastifyInstance, sid: string, frames: unknown[]) =>
  await app.inject({ method: 'POST', url: '/_live/lp/send', headers: { ...json, 'x-lv-session': sid }, payload: JSON.stringify(frames) })
const poll = async (app: FastifyInstance, sid: string, a: number) => {
  const res = await app.inject({ url: `/_live/lp?a=${a}`, headers: { 'x-lv-session': sid } })
  return { status: res.statusCode, body: res.json<Poll & { code?: string }>() }
}
const frames = (p: Poll) => p.f.map((f) => JSON.parse(f) as [number, string, ...unknown[]])

async function joined (app: FastifyInstance, via = app): Promise<{ sid: string, got: number }> {
  const token = tokenOf((await app.inject('/counter')).body)
  const sid = await open(app)
  t.equal((await send(via, sid, [JSON.stringify([1, 'join', { v: PROTOCOL_VERSION, token, url: 'http://localhost/counter', pristine: true }])])).statusCode, 204)
  const p = await poll(via, sid, 0)
  t.equal(frames(p.body)[0]?.[1], 'mount', 'the join is answered in a poll')
  return { sid, got: p.body.a + p.body.f.length }
}

t.test('open, join, events: each answered once, in order, through polls', async (t) => {
  const app = await appWith(t)
  const { sid, got } = await joined(app)
  t.equal((await send(app, sid, [JSON.stringify([2, 'e', 1, 'inc', {}]), JSON.stringify([3, 'e', 1, 'inc', {}])])).statusCode, 204)
  const p = await poll(app, sid, got)
  const f = frames(p.body)
  t.same(f.map((x) => [x[0], x[1]]), [[2, 'p'], [3, 'p']], 'two replies, in order')
  t.equal(p.body.a, got, 'numbered from what was acknowledged')
  const again = await poll(app, sid, got)
  t.same(again.body.f, p.body.f, 'not acknowledged yet: a poll whose answer was lost gets them again')
  const held = poll(app, sid, got + 2)
  await new Promise((resolve) => setTimeout(resolve, 50))
  await send(app, sid, [JSON.stringify([4, 'e', 1, 'inc', {}])])
  const woken = await held
  t.same(frames(woken.body).map((x) => x[0]), [4], 'a held poll answers as soon as a frame is there')
})

t.test('the checks of a socket: Origin, malformed input, frame size, an unknown session', async (t) => {
  const app = await appWith(t, { limits: { maxFrameBytes: 1024 } })
  const foreign = await app.inject({ method: 'POST', url: '/_live/lp', headers: { ...json, origin: 'https://evil.test' }, payload: '{}' })
  t.equal(foreign.statusCode, 403)
  t.equal(foreign.json<{ code: string }>().code, 'FST_LIVEVIEW_ORIGIN_FORBIDDEN')
  t.equal((await app.inject({ method: 'POST', url: '/_live/lp', headers: { 'content-type': 'text/plain' }, payload: 'x' })).statusCode, 415, 'not JSON: a form cannot open one')
  const { sid, got } = await joined(app)
  t.equal((await app.inject({ url: '/_live/lp?a=0', headers: { origin: 'https://evil.test', 'x-lv-session': sid } })).statusCode, 403, 'a poll from another origin')
  t.equal((await app.inject({ url: `/_live/lp?s=${sid}&a=0` })).statusCode, 400, 'the session is named by a header, never in the URL')
  t.equal((await send(app, sid, [1, 2])).statusCode, 400, 'frames must be strings or { b }')
  t.equal((await send(app, sid, Array.from({ length: 33 }, () => '[]'))).statusCode, 400, 'at most 32 a batch')
  t.equal((await app.inject({ url: '/_live/lp?a=-1', headers: { 'x-lv-session': sid } })).statusCode, 400)
  await send(app, sid, ['not json'])
  const p = await poll(app, sid, got)
  t.equal(frames(p.body)[0]?.[1], 'err', 'a malformed frame gets a coded error, as over a socket')
  t.equal((frames(p.body)[0]?.[2] as { code: string }).code, 'FST_LIVEVIEW_FRAME_MALFORMED')
  await send(app, sid, ['x'.repeat(2000)])
  const closed = await poll(app, sid, p.body.a + p.body.f.length)
  t.same(closed.body.c, [1009, 'FST_LIVEVIEW_FRAME_TOO_LARGE'], 'a frame over maxFrameBytes closes it with 1009')
  t.equal((await send(app, sid, ['[]'])).statusCode, 410, 'sends to an ended session: 410')
  const unknown = await poll(app, `${sid.split('.')[0]!}.${'x'.repeat(24)}.${'y'.repeat(22)}`, 0)
  t.equal(unknown.status, 410)
  t.equal(unknown.body.code, 'FST_LIVEVIEW_POLL_GONE')
  const forged = await send(app, `somewherelse.${'x'.repeat(24)}.${'y'.repeat(22)}`, ['x'.repeat(900)])
  t.equal(forged.statusCode, 410, 'an id the app did not issue (its MAC fails): refused before the body is read, nothing relayed')
  t.equal(app.liveViewSessions, 0)
})

t.test('a client that stops polling is closed after heartbeatMs; the socket caps count it', async (t) => {
  // 400 ms: the second open comes well before the first session's idle end, even on a loaded machine.
  const app = await appWith(t, { limits: { heartbeatMs: 400, socketsPerIp: 1 } })
  const sid = await open(app)
  t.equal(app.liveViewSessions, 1)
  const second = await app.inject({ method: 'POST', url: '/_live/lp', headers: json, payload: '{}' })
  t.equal(second.statusCode, 429, 'socketsPerIp counts long-polled sessions')
  await eventually(() => app.liveViewSessions === 0, 3000)
  t.equal(app.liveViewSessions, 0, 'gone')
  const p = await poll(app, sid, 0)
  t.same(p.body.c?.[0], 4003, 'its next poll says why (within closeGraceMs)')
})

t.test('two polls at once: the older answers empty, and only the newer arms the idle timer', async (t) => {
  const app = await appWith(t, { limits: { heartbeatMs: 600 } })
  const { sid, got } = await joined(app)
  const first = poll(app, sid, got)
  await new Promise((resolve) => setTimeout(resolve, 30))
  const second = poll(app, sid, got)
  t.same((await first).body.f, [], 'superseded: answered empty')
  await new Promise((resolve) => setTimeout(resolve, 900))
  t.equal(app.liveViewSessions, 1, 'the held poll keeps it alive past heartbeatMs (no stray timer from the first)')
  await send(app, sid, [JSON.stringify([2, 'e', 1, 'inc', {}])])
  t.equal(frames((await second).body)[0]?.[1], 'p')
})

t.test('a page that leaves ends its session at once (the close beacon)', async (t) => {
  const app = await appWith(t)
  const { sid } = await joined(app)
  const res = await app.inject({ method: 'POST', url: '/_live/lp/close', headers: json, payload: JSON.stringify({ s: sid }) })
  t.equal(res.statusCode, 204)
  t.equal(app.liveViewSessions, 0)
})

t.test('a poll or send that reaches another process is relayed to the session\'s own', async (t) => {
  const pubsub = new MemoryPubSub()
  const a = await appWith(t, { pubsub })
  const b = await appWith(t, { pubsub })
  const { sid, got } = await joined(a, b)
  t.equal((await send(b, sid, [JSON.stringify([2, 'e', 1, 'inc', {}])])).statusCode, 204, 'sent through b')
  const p = await poll(b, sid, got)
  t.equal(frames(p.body)[0]?.[1], 'p', 'polled through b')
  t.equal(a.liveViewSessions, 1, 'the session lives in a')
  t.equal(b.liveViewSessions, 0)
  await a.close()
  const gone = await poll(b, sid, got + 1)
  t.equal(gone.status, 410, 'its process gone: 410 (the client opens a new session and rejoins)')
})

import t, { type Test } from 'tap'
import Fastify, { type FastifyInstance } from 'fastify'
import websocket from '@fastify/websocket'
import { WebSocket } from 'ws'
import liveview, { LiveView, defineEvents, type LiveViewOptions } from '../plugin.js'
import { Counter } from './fixtures/views.js'
import { SECRET, WireClient, tokenOf, viewsRoot } from './helpers.js'

/** A view whose every update is large, to fill a socket's buffers quickly. */
class Big extends LiveView {
  static template = 'big'
  static events = defineEvents<Big>({ grow: true })
  n = 0
  static views: Big[] = []
  static ended: string[] = []
  mount (): void { if (this.connected) Big.views.push(this) }
  grow (): void { this.n++ }
  handleInfo (n: number): void { this.n = n }
  terminate (reason: string): void { Big.ended.push(reason) }
  context () { return { n: this.n, text: String(this.n % 10).repeat(100000) } }
}

async function listen (t: Test, options: LiveViewOptions = {}, before?: (app: FastifyInstance) => Promise<void>): Promise<{ app: FastifyInstance, base: string }> {
  const app = Fastify({ logger: false })
  t.teardown(() => app.close())
  await before?.(app)
  await app.register(liveview, { root: viewsRoot, secret: SECRET, ...options })
  app.liveView('/counter', Counter)
  app.liveView('/big', Big)
  const address = await app.listen({ host: '127.0.0.1', port: 0 })
  return { app, base: address }
}

async function open (t: { teardown: (fn: () => void) => void }, base: string): Promise<WireClient> {
  const ws = new WebSocket(`${base.replace('http', 'ws')}/_live/ws`, { perMessageDeflate: false })
  t.teardown(() => { ws.terminate() })
  await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject) })
  return new WireClient(ws)
}

async function openJoined (t: { teardown: (fn: () => void) => void }, base: string, path: string): Promise<WireClient> {
  const page = await fetch(base + path)
  const client = await open(t, base)
  const join = await client.join(tokenOf(await page.text()), base + path)
  if (join[1] === 'err') throw new Error(JSON.stringify(join))
  return client
}

function underlying (client: WireClient): { pause: () => void, resume: () => void } {
  return (client.ws as unknown as { _socket: { pause: () => void, resume: () => void } })._socket
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

t.test('a socket that never joins is closed after the join deadline', async (t) => {
  const { base } = await listen(t, { limits: { joinTimeoutMs: 100 } })
  const client = await open(t, base)
  t.same(await client.closed, { code: 4000, reason: 'FST_LIVEVIEW_JOIN_TIMEOUT' })
})

t.test('the heartbeat ends a half-open connection; a client that reads again sees 4003', async (t) => {
  Big.ended.length = 0
  // 250 ms: a pong has a whole beat to come back (a loaded machine stalls for 50 ms and more).
  const { base } = await listen(t, { limits: { heartbeatMs: 250 } })
  const client = await openJoined(t, base, '/big')
  await sleep(800)
  t.equal(client.ws.readyState, WebSocket.OPEN, 'a client that answers pings stays connected')
  underlying(client).pause() // stops reading: no pong goes back
  for (let i = 0; i < 300 && Big.ended.length === 0; i++) await sleep(10)
  t.same(Big.ended, ['closed'], 'the session ended')
  await sleep(300)
  underlying(client).resume()
  t.same(await client.closed, { code: 4003, reason: 'FST_LIVEVIEW_HEARTBEAT_TIMEOUT' }, 'the coded close reaches it within the grace')
})

t.test('a session is released when its socket closes', async (t) => {
  Big.ended.length = 0
  const { app, base } = await listen(t)
  t.equal(app.liveViewSessions, 0)
  const client = await openJoined(t, base, '/big')
  const other = await openJoined(t, base, '/counter')
  t.equal(app.liveViewSessions, 2, 'one session per connected page')
  client.ws.close()
  await client.closed
  for (let i = 0; i < 100 && app.liveViewSessions > 1; i++) await sleep(10)
  t.equal(app.liveViewSessions, 1, 'the closed one is gone')
  t.same(Big.ended, ['closed'], 'its view was terminated')
  t.equal((await other.event('inc'))[1], 'p', 'the other session is unaffected')
})

t.test('a frame over the size limit closes the socket with 1009', async (t) => {
  const { base } = await listen(t, { limits: { maxFrameBytes: 1024 } })
  const client = await openJoined(t, base, '/counter')
  client.send([2, 'e', client.mount, 'inc', { pad: 'x'.repeat(2000) }])
  const closed = await client.closed
  t.equal(closed.code, 1009)
})

t.test('with @fastify/websocket registered by the app, the plugin still enforces its frame limit', async (t) => {
  const { app, base } = await listen(t, { limits: { maxFrameBytes: 1024 } }, async (app) => {
    await app.register(websocket, { options: { maxPayload: 1048576 } })
  })
  t.ok(app.hasDecorator('websocketServer'))
  const client = await openJoined(t, base, '/counter')
  t.equal((await client.event('inc'))[1], 'p', 'the socket works')
  client.send([3, 'e', client.mount, 'inc', { pad: 'x'.repeat(2000) }])
  t.same(await client.closed, { code: 1009, reason: 'FST_LIVEVIEW_FRAME_TOO_LARGE' })
})

t.test('a client that stops reading: server updates coalesce, then the latest state arrives', async (t) => {
  Big.views.length = 0
  const { base } = await listen(t, { limits: { coalesceBytes: 65536, sendBufferBytes: 16777216 } })
  const client = await openJoined(t, base, '/big')
  underlying(client).pause()
  const view = Big.views[0]!
  for (let i = 1; i <= 300; i++) {
    view.sendInfo(i)
    if (i % 10 === 0) await sleep(5)
  }
  await sleep(300)
  underlying(client).resume()
  const last = await client.waitFor((f) => f[0] === 0 && JSON.stringify(f[3]).includes('n = 300'), 5000)
  t.match(JSON.stringify(last[3]), '0'.repeat(1000), 'an update with the final state arrives')
  const pushes = client.frames.filter((f) => f[0] === 0)
  t.ok(pushes.length < 300, `updates coalesced: ${pushes.length} frames for 300 changes`)
  const versions = pushes.map((f) => f[2] as number)
  t.same(versions, versions.map((_, i) => i + 1), 'versions stay consecutive')
  t.equal(client.ws.readyState, WebSocket.OPEN, 'the socket stays open')
})

t.test('close codes reach a client that stopped reading for a while: 4002 after its buffer passed the limit', async (t) => {
  Big.ended.length = 0
  const { base } = await listen(t, { limits: { sendBufferBytes: 1048576, eventsPerSecond: 1000, eventBurst: 1000 } })
  const client = await openJoined(t, base, '/big')
  underlying(client).pause()
  for (let i = 0; i < 400; i++) client.send([i + 2, 'e', client.mount, 'grow', {}])
  for (let i = 0; i < 300 && Big.ended.length === 0; i++) await sleep(10)
  t.same(Big.ended, ['closed'], 'the server closed the session')
  // Not reading for a while longer, then reading again (within closeGraceMs, 10 s by default).
  await sleep(1500)
  underlying(client).resume()
  t.same(await client.closed, { code: 4002, reason: 'FST_LIVEVIEW_SLOW_CLIENT' }, 'the coded close, behind what was queued')
})

t.test('a client that never reads again is cut after closeGraceMs', async (t) => {
  Big.ended.length = 0
  const { base } = await listen(t, { limits: { sendBufferBytes: 1048576, eventsPerSecond: 1000, eventBurst: 1000, closeGraceMs: 200 } })
  const client = await openJoined(t, base, '/big')
  underlying(client).pause()
  for (let i = 0; i < 400; i++) client.send([i + 2, 'e', client.mount, 'grow', {}])
  for (let i = 0; i < 300 && Big.ended.length === 0; i++) await sleep(10)
  await sleep(600)
  underlying(client).resume()
  t.equal((await client.closed).code, 1006, 'cut: the server did not wait for it')
})

t.test('app.close() closes every socket with 1001 and resolves promptly', async (t) => {
  const { app, base } = await listen(t)
  const clients = await Promise.all([1, 2, 3].map(() => openJoined(t, base, '/counter')))
  const started = performance.now()
  await app.close()
  const elapsed = performance.now() - started
  const closes = await Promise.all(clients.map((c) => c.closed))
  t.same(closes.map((c) => c.code), [1001, 1001, 1001])
  t.ok(elapsed < 2000, `closed in ${Math.round(elapsed)} ms`)
})

t.test('app.close() with @fastify/websocket registered by the app resolves promptly too', async (t) => {
  const { app, base } = await listen(t, {}, async (app) => { await app.register(websocket) })
  const client = await openJoined(t, base, '/counter')
  const started = performance.now()
  await app.close()
  t.ok(performance.now() - started < 2000)
  const closed = await client.closed
  t.ok([1001, 1005].includes(closed.code), `closed (${closed.code})`)
})

// Time is an input: with a fake clock (the `clock` option), deadlines, heartbeats, rate
// limits, token expiry, view timers, slow-handler warnings and the shutdown timeout are
// tested by moving time, not by sleeping.
import t, { type Test } from 'tap'
import { Writable } from 'node:stream'
import { WebSocket } from 'ws'
import Fastify, { type FastifyInstance } from 'fastify'
import liveview, { LiveView, defineEvents, type LiveViewOptions } from '../plugin.js'
import { live } from '../testing.js'
import { kRuntime, type Runtime } from '../lib/runtime.js'
import type { Session } from '../lib/session/actor.js'
import { Counter } from './fixtures/views.js'
import { FakeClock, settle } from './fake-clock.js'
import { SECRET, WireClient, tokenOf, viewsRoot, type Frame } from './helpers.js'

const codeOf = (f: Frame): string | undefined => (f[2] as { code?: string }).code

async function app (t: Test, clock: FakeClock, options: LiveViewOptions = {}, setup?: (app: FastifyInstance) => void, logs?: string[]): Promise<FastifyInstance> {
  const stream = new Writable({ write (chunk, _enc, done) { logs?.push(String(chunk)); done() } })
  const a = Fastify({ logger: logs === undefined ? false : { level: 'warn', stream } })
  t.teardown(() => a.close())
  await a.register(liveview, { root: viewsRoot, secret: SECRET, clock, ...options })
  a.liveView('/counter', Counter)
  setup?.(a)
  await a.ready()
  return a
}

async function joined (t: Test, a: FastifyInstance, path = '/counter'): Promise<WireClient> {
  const client = new WireClient(await a.injectWS('/_live/ws'))
  t.teardown(() => { client.close() })
  await client.join(tokenOf((await a.inject(path)).body), `http://localhost${path}`)
  return client
}

/** The same over a real socket (pings, pongs and close handshakes as in production). */
async function joinedOverTcp (t: Test, a: FastifyInstance, path = '/counter'): Promise<WireClient> {
  const base = await a.listen({ host: '127.0.0.1', port: 0 })
  const ws = new WebSocket(`${base.replace('http', 'ws')}/_live/ws`)
  t.teardown(() => { ws.terminate() })
  await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject) })
  const client = new WireClient(ws)
  await client.join(tokenOf(await (await fetch(base + path)).text()), base + path)
  return client
}

t.test('a socket that never joins is closed after joinTimeoutMs', async (t) => {
  const clock = new FakeClock()
  const a = await app(t, clock)
  const client = new WireClient(await a.injectWS('/_live/ws'))
  t.teardown(() => { client.close() })
  await clock.tick(9999)
  t.equal(client.ws.readyState, client.ws.OPEN, 'open until the deadline')
  await clock.tick(1)
  t.same(await client.closed, { code: 4000, reason: 'FST_LIVEVIEW_JOIN_TIMEOUT' })
})

t.test('the heartbeat closes a socket that stops answering pings with 4003', async (t) => {
  const clock = new FakeClock()
  const a = await app(t, clock)
  const client = await joinedOverTcp(t, a)
  // Each beat: a ping goes out; the client's pong comes back over the (real) socket, and the
  // server has it before the next beat (waited for, not guessed: a loaded machine lags).
  const [session] = [...(a as unknown as Record<symbol, Runtime>)[kRuntime]!.sessions] as unknown as Session[]
  const server = (session!.transport as unknown as { socket: WebSocket }).socket
  const beat = async (): Promise<void> => {
    const pong = new Promise((resolve) => server.once('pong', resolve))
    await clock.tick(30000)
    await pong
  }
  await beat()
  await beat()
  await beat()
  t.equal(client.ws.readyState, client.ws.OPEN, 'a client that answers pings stays')
  ;(client.ws as unknown as { pong: () => void }).pong = () => {} // stops answering
  await clock.tick(30000)
  await clock.tick(30000)
  t.same(await client.closed, { code: 4003, reason: 'FST_LIVEVIEW_HEARTBEAT_TIMEOUT' })
})

t.test('the rate limit refills with time', async (t) => {
  const clock = new FakeClock()
  const a = await app(t, clock, { limits: { eventsPerSecond: 10, eventBurst: 5 } })
  const client = await joined(t, a)
  const codes: Array<string | undefined> = []
  for (let i = 0; i < 5; i++) codes.push(codeOf(await client.event('inc')))
  t.same(codes, [undefined, undefined, undefined, undefined, 'FST_LIVEVIEW_RATE_LIMITED'], 'the burst (the join took one), then refused')
  await clock.tick(100)
  t.equal(codeOf(await client.event('inc')), undefined, 'one more after 100 ms at 10/s')
  t.equal(codeOf(await client.event('inc')), 'FST_LIVEVIEW_RATE_LIMITED')
})

t.test('a page token expires after tokenMaxAgeMs: its join is refused and the page reloads', async (t) => {
  const clock = new FakeClock()
  const a = await app(t, clock, { tokenMaxAgeMs: 60000 })
  const token = tokenOf((await a.inject('/counter')).body)
  await clock.tick(60001)
  const client = new WireClient(await a.injectWS('/_live/ws'))
  t.teardown(() => { client.close() })
  const reply = await client.join(token, 'http://localhost/counter')
  t.same(reply[2], { code: 'FST_LIVEVIEW_TOKEN_EXPIRED', message: 'The page token expired: reload the page', reload: true })
})

t.test('view timers tick with the clock and never pile up', async (t) => {
  const clock = new FakeClock()
  let handled = 0
  let release: () => void = () => {}
  class Ticker extends LiveView {
    static template = 'count'
    count = 0
    mount (): void { if (this.connected) this.every(1000, 'tick') }
    async handleInfo (): Promise<void> {
      handled++
      // The first tick is slow: the ones due meanwhile are skipped, not queued.
      if (handled === 1) await new Promise<void>((resolve) => { release = resolve })
      this.count++
    }

    context () { return { count: this.count } }
  }
  const a = await app(t, clock, {}, (a) => { a.liveView('/ticker', Ticker) })
  const page = await live(a, '/ticker')
  t.teardown(() => page.close())
  await clock.tick(5000)
  t.equal(handled, 1, 'one tick running; of the four due meanwhile, one waits and three are skipped')
  release()
  await page.settle()
  t.equal(handled, 2, 'the waiting one runs')
  await clock.tick(2000)
  await page.settle()
  t.equal(handled, 4)
  page.assertText('#count', '4')
})

t.test('a handler slower than slowHandlerMs is logged while it runs', async (t) => {
  const clock = new FakeClock()
  const logs: string[] = []
  let release: () => void = () => {}
  class Slow extends LiveView {
    static template = 'count'
    // Sent straight from the wire below, not by a binding: { hook: true } keeps the boot check quiet.
    static events = defineEvents<Slow>({ slow: { hook: true } })
    async slow (): Promise<void> { await new Promise<void>((resolve) => { release = resolve }) }
    context () { return { count: 0 } }
  }
  const a = await app(t, clock, {}, (a) => { a.liveView('/slow', Slow) }, logs)
  const client = await joined(t, a, '/slow')
  client.send([client.nextRef(), 'e', client.mount, 'slow', {}])
  await settle()
  await clock.tick(999)
  t.same(logs, [])
  await clock.tick(1)
  t.match(logs.join(''), /"view":"Slow".*"event":"slow".*live view handler is slow/)
  release()
})

t.test('app.close() cuts a handler that never finishes once shutdownTimeoutMs has passed', async (t) => {
  const clock = new FakeClock()
  class Stuck extends LiveView {
    static template = 'count'
    static events = defineEvents<Stuck>({ stuck: true })
    async stuck (): Promise<void> { await new Promise(() => {}) }
    context () { return { count: 0 } }
  }
  const a = await app(t, clock, { shutdownTimeoutMs: 5000 }, (a) => { a.liveView('/stuck', Stuck) })
  const client = await joinedOverTcp(t, a, '/stuck')
  client.send([client.nextRef(), 'e', client.mount, 'stuck', {}])
  await settle()
  let closed = false
  const closing = a.close().then(() => { closed = true })
  // Let close() reach the plugin's preClose (the timeout runs from there).
  await new Promise((resolve) => setTimeout(resolve, 50))
  await clock.tick(4999)
  t.equal(closed, false, 'close() waits for the handler')
  await clock.tick(1)
  await closing
  t.equal((await client.closed).code, 1001)
})

t.test('an idle session hibernates after one to two hibernateAfterMs periods; its next events diff as before', async (t) => {
  const clock = new FakeClock()
  class Wide extends LiveView {
    static template = 'count-inc'
    static events = defineEvents<Wide>({ inc: true })
    count = 0
    inc (): void { this.count++ }
    context () { return { count: `− ${this.count} ✓` } }
  }
  const a = await app(t, clock, { limits: { hibernateAfterMs: 1000 } }, (a) => { a.liveView('/wide', Wide) })
  const page = await live(a, '/wide')
  t.teardown(() => page.close())
  ;(await page.event('inc')).assertChanged()
  const session = [...(a as unknown as Record<symbol, Runtime>)[kRuntime]!.sessions][0] as Session
  t.ok(session.tracker !== undefined, 'after an event: a rollback cache')
  await clock.tick(1000)
  t.ok(session.tracker !== undefined, 'one period: not yet')
  await clock.tick(1000)
  t.equal(session.tracker, undefined, 'two periods idle: hibernated')
  const reply = await page.event('inc')
  t.equal(reply.kind, 'patch', 'the next event is a patch against the render it kept')
  page.assertText('#count', '− 2 ✓')
  t.equal(page.html, (await a.inject('/wide')).body.match(/<div data-lv-root[^>]*>([\s\S]*)<\/div>\s*<\/body>/)![1]!.replace('− 0 ✓', '− 2 ✓'), 'the page equals a fresh render')
})

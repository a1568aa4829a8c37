// The security boundary (issue 10): every way into a view passes the route's checks, tokens
// are bound to the page and the user, URLs stay same-origin, and abuse is bounded.
import { PROTOCOL_VERSION } from '../lib/protocol.js'
import t, { type Test } from 'tap'
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify'
import { WebSocket } from 'ws'
import liveview, { LiveView, defineEvents, type LiveViewOptions, type Params } from '../plugin.js'
import { live } from '../testing.js'
import { FakeClock } from './fake-clock.js'
import { Counter } from './fixtures/views.js'
import { SECRET, TO_SCHEMA, WireClient, buildApp, tokenOf, viewsRoot, type Frame } from './helpers.js'

const errorOf = (f: Frame): { code: string, message: string, url?: string, reload?: boolean } => {
  if (f[1] !== 'err') throw new Error(`expected an error frame, got ${JSON.stringify(f)}`)
  return f[2] as { code: string, message: string, url?: string, reload?: boolean }
}

/** Admin pages need the cookie `role=admin`; others are sent to /login. */
function adminOnly (request: FastifyRequest, reply: FastifyReply, done: () => void): void {
  if (/(^|;\s*)role=admin(;|$)/.test(request.headers.cookie ?? '')) return done()
  void reply.redirect('/login')
}

class Public extends Counter {
  static template = 'count-inc'
  static events = defineEvents<Public>({ inc: true, go: { schema: TO_SCHEMA } })
  go (params: { to: string }): void { this.pushNavigate(params.to) }
}

class Admin extends Counter {}

class Doc extends LiveView {
  static template = 'count'
  static events = defineEvents<Doc>({ open: { schema: TO_SCHEMA } })
  id = ''
  tab = ''
  handleParams (params: Params): void {
    this.id = String(params.id)
    this.tab = String(params.tab ?? '')
  }

  open (params: { to: string }): void { this.pushPatch(params.to) }
  context () { return { count: `${this.id}/${this.tab}` } }
}

let checks: string[] = []

async function guardedApp (t: Test, options: LiveViewOptions = {}): Promise<FastifyInstance> {
  checks = []
  return await buildApp(t, options, (app) => {
    app.liveView('/', Public)
    app.liveView('/admin', Admin, { preHandler: adminOnly })
    // Documents: only document 1 may be read (a hook reading the path param).
    app.liveView('/doc/:id', Doc, {
      onRequest: async (request, reply) => {
        checks.push(request.url)
        if ((request.params as { id: string }).id !== '1') await reply.code(403).send('forbidden')
      }
    })
  })
}

async function joinAt (t: Test, app: FastifyInstance, path: string, headers: Record<string, string> = {}): Promise<{ client: WireClient, join: Frame, token: string }> {
  const res = await app.inject({ url: path, headers })
  if (res.statusCode !== 200) throw new Error(`GET ${path}: ${res.statusCode}`)
  const client = new WireClient(await app.injectWS('/_live/ws', { headers }))
  t.teardown(() => { client.close() })
  const token = tokenOf(res.body)
  return { client, join: await client.join(token, `http://localhost${path}`), token }
}

t.test('the route\'s hooks guard its live navigation: an lv-navigate link to a guarded route is refused, and the browser loads it in full', async (t) => {
  const app = await guardedApp(t)
  t.equal((await app.inject('/admin')).statusCode, 302, 'the GET is guarded')
  const { client } = await joinAt(t, app, '/')
  const ref = client.nextRef()
  client.send([ref, 'patch', 'http://localhost/admin'])
  const refused = errorOf(await client.reply(ref))
  t.equal(refused.code, 'FST_LIVEVIEW_MOUNT_REFUSED')
  t.equal(refused.url, 'http://localhost/admin', 'the client loads it in full: HTTP answers (302 to /login)')
  t.match(refused.message, /302 → \/login/)
  t.notOk(client.frames.some((f) => f[1] === 'mount' && f[0] === ref), 'no admin view was mounted')
  t.equal(errorOf(await client.event('nope')).code, 'FST_LIVEVIEW_EVENT_UNKNOWN', 'the public view still runs')
  t.equal((await client.event('inc'))[1], 'p')

  // pushNavigate from a handler: the same checks.
  const pushed = await client.event('go', { to: '/admin' })
  t.equal(pushed[1], 'ok', 'the handler ran (nothing to change)')
  const err = await client.waitFor((f) => f[0] === 0 && f[1] === 'err')
  t.same([errorOf(err).code, errorOf(err).url], ['FST_LIVEVIEW_MOUNT_REFUSED', 'http://localhost/admin'])

  // With the cookie the hook wants, the same link mounts the admin view live.
  const admin = await joinAt(t, app, '/', { cookie: 'role=admin' })
  const r2 = admin.client.nextRef()
  admin.client.send([r2, 'patch', 'http://localhost/admin'])
  t.equal((await admin.client.reply(r2))[1], 'mount')
})

t.test('a token signed for a guarded page does not join from a socket that fails the hooks', async (t) => {
  const app = await guardedApp(t)
  const page = await app.inject({ url: '/admin', headers: { cookie: 'role=admin' } })
  t.equal(page.statusCode, 200)
  const thief = new WireClient(await app.injectWS('/_live/ws'))
  t.teardown(() => { thief.close() })
  const refused = errorOf(await thief.join(tokenOf(page.body), 'http://localhost/admin'))
  t.equal(refused.code, 'FST_LIVEVIEW_MOUNT_REFUSED')
  t.equal(refused.reload, true, 'the page reloads: HTTP answers')
  t.equal((await thief.closed).code, 4001)
  // A rejoin is a join: once the cookie is gone (logged out), the page's own token is refused.
  const rejoin = new WireClient(await app.injectWS('/_live/ws', { headers: { cookie: 'role=user' } }))
  t.teardown(() => { rejoin.close() })
  t.equal(errorOf(await rejoin.join(tokenOf(page.body), 'http://localhost/admin', { pristine: false })).code, 'FST_LIVEVIEW_MOUNT_REFUSED')
})

t.test('path-param patches run the checks again; query-only patches do not; every URL change re-mints the token', async (t) => {
  const app = await guardedApp(t)
  const { client } = await joinAt(t, app, '/doc/1')
  t.same(checks, ['/doc/1', '/doc/1'], 'the GET, then the join ran the hook')
  let ref = client.nextRef()
  client.send([ref, 'patch', 'http://localhost/doc/1?tab=notes'])
  t.equal((await client.reply(ref))[1], 'p', 'a query-only patch runs handleParams')
  const url = await client.waitFor((f) => f[0] === 0 && f[1] === 'url')
  t.equal(url[2], 'http://localhost/doc/1?tab=notes')
  t.same(checks.length, 2, 'and no check')
  // Its token rejoins the page there (a reconnect after the patch).
  const again = new WireClient(await app.injectWS('/_live/ws'))
  t.teardown(() => { again.close() })
  t.equal((await again.join(url[3] as string, 'http://localhost/doc/1?tab=notes', { pristine: false }))[1], 'mount')

  ref = client.nextRef()
  client.send([ref, 'patch', 'http://localhost/doc/2'])
  const refused = errorOf(await client.reply(ref))
  t.same([refused.code, refused.url], ['FST_LIVEVIEW_MOUNT_REFUSED', 'http://localhost/doc/2'])
  t.equal(checks.at(-1), '/doc/2')
  // pushPatch to another id from a handler: the same.
  client.frames.length = 0
  const r = await client.event('open', { to: '/doc/3' })
  t.same([errorOf(r).code, errorOf(r).url], ['FST_LIVEVIEW_MOUNT_REFUSED', 'http://localhost/doc/3'])
  t.notOk(client.frames.some((f) => f[1] === 'url'), 'the URL did not change')
})

t.test('the testing API runs the same checks', async (t) => {
  const app = await guardedApp(t)
  const page = await live(app, '/')
  t.teardown(() => page.close())
  const reply = await page.patch('/admin')
  reply.assertError('FST_LIVEVIEW_MOUNT_REFUSED')
  t.equal(page.redirectedTo, 'http://localhost/admin', 'the browser would load it in full')
  t.ok(page.view instanceof Public)
  await t.rejects(live(app, '/admin'), { name: 'LiveTestError', message: /302/, statusCode: 302, location: '/login' } as unknown as Error)
  const admin = await live(app, '/', { headers: { cookie: 'role=admin' } })
  t.teardown(() => admin.close())
  await admin.patch('/admin')
  t.ok(admin.view instanceof Admin, 'with the cookie, the navigation mounts it')
})

t.test('hooks that throw, reply or set an error status refuse the mount; the check request is fresh each time', async (t) => {
  const seen: unknown[] = []
  const app = await buildApp(t, {}, (app) => {
    app.decorateRequest('marker', null)
    app.liveView('/', Public)
    app.liveView('/throws', Admin, { preHandler: async () => { throw new Error('no') } })
    app.liveView('/replies', Admin, { onRequest: async (_request, reply) => { await reply.code(200).send('a login form') } })
    app.liveView('/fresh', Admin, {
      onRequest: async (request) => {
        seen.push((request as unknown as { marker: unknown }).marker)
        ;(request as unknown as { marker: unknown }).marker = 'set'
      }
    })
  })
  for (const path of ['/throws', '/replies']) {
    const { client } = await joinAt(t, app, '/')
    const ref = client.nextRef()
    client.send([ref, 'patch', `http://localhost${path}`])
    t.equal(errorOf(await client.reply(ref)).code, 'FST_LIVEVIEW_MOUNT_REFUSED', path)
  }
  const { client } = await joinAt(t, app, '/fresh')
  t.same(seen, [null, null], 'each request starts fresh')
  t.equal(client.frames.length, 1)
})

t.test('onMount runs before every mount (HTTP and live); live sessions: navigation across them is a full load', async (t) => {
  const calls: string[] = []
  const app = await buildApp(t, {
    session: (request) => ({ user: request.headers['x-user'] }),
    onMount: ({ view, route, connected, session, liveSession }) => {
      calls.push(`${route}:${connected ? 'live' : 'http'}:${liveSession}`)
      if (liveSession === 'app' && (session as { user?: string }).user === undefined) view.redirect('/login')
    }
  }, (app) => {
    app.liveView('/', Public)
    app.liveView('/login', Counter)
    app.liveView('/app', Admin, { liveSession: 'app' })
    app.liveView('/app/other', Counter, { liveSession: 'app' })
  })
  const denied = await app.inject('/app')
  t.same([denied.statusCode, denied.headers.location], [302, '/login'], 'onMount redirects the GET')
  const { client } = await joinAt(t, app, '/app', { 'x-user': 'ada' })
  t.same(calls.slice(-2), ['/app:http:app', '/app:live:app'])
  let ref = client.nextRef()
  client.send([ref, 'patch', 'http://localhost/app/other'])
  t.equal((await client.reply(ref))[1], 'mount', 'within the live session: a live navigation')
  ref = client.nextRef()
  client.send([ref, 'patch', 'http://localhost/'])
  t.equal((await client.reply(ref))[1], 'ok', 'to another live session: answered…')
  t.same(await client.waitFor((f) => f[1] === 'redirect'), [0, 'redirect', '/'], '…and the page loads it in full')
  t.notOk(calls.includes('/:live:default'), 'no live mount of the other session')

  // A live mount whose onMount redirects: the socket is told where to go.
  const anon = new WireClient(await app.injectWS('/_live/ws'))
  t.teardown(() => { anon.close() })
  const page = await app.inject({ url: '/app', headers: { 'x-user': 'ada' } })
  anon.send([1, 'join', { v: PROTOCOL_VERSION, token: tokenOf(page.body), url: 'http://localhost/app', pristine: true }])
  t.same(await anon.waitFor((f) => f[1] === 'redirect'), [0, 'redirect', '/login'])
})

t.test('liveViewDisconnect(key) closes the user\'s sessions and refuses their rejoin until the page is loaded again', async (t) => {
  const clock = new FakeClock()
  const app = await buildApp(t, {
    clock,
    session: (request) => ({ key: request.headers['x-user'] })
  }, (app) => { app.liveView('/', Counter) })
  const ada = await joinAt(t, app, '/', { 'x-user': 'ada' })
  const ada2 = await joinAt(t, app, '/', { 'x-user': 'ada' })
  const bob = await joinAt(t, app, '/', { 'x-user': 'bob' })
  await clock.tick(5)
  await app.liveViewDisconnect('ada')
  t.equal((await ada.client.closed).code, 4004)
  t.equal((await ada2.client.closed).code, 4004)
  t.equal((await bob.client.event('inc'))[1], 'p', 'another user\'s session goes on')
  const token = tokenOf((await app.inject({ url: '/', headers: { 'x-user': 'ada' } })).body)
  // The page's token (signed before the disconnect) is refused: the page reloads.
  const rejoin = new WireClient(await app.injectWS('/_live/ws', { headers: { 'x-user': 'ada' } }))
  t.teardown(() => { rejoin.close() })
  const refused = errorOf(await rejoin.join(ada.token, 'http://localhost/', { pristine: false }))
  t.same([refused.code, refused.reload], ['FST_LIVEVIEW_TOKEN_REVOKED', true])
  // A token signed in the same millisecond is refused too; one signed after is not.
  const fresh = new WireClient(await app.injectWS('/_live/ws', { headers: { 'x-user': 'ada' } }))
  t.teardown(() => { fresh.close() })
  t.equal(errorOf(await fresh.join(token, 'http://localhost/')).code, 'FST_LIVEVIEW_TOKEN_REVOKED')
  await clock.tick(1)
  const later = tokenOf((await app.inject({ url: '/', headers: { 'x-user': 'ada' } })).body)
  const back = new WireClient(await app.injectWS('/_live/ws', { headers: { 'x-user': 'ada' } }))
  t.teardown(() => { back.close() })
  t.equal((await back.join(later, 'http://localhost/'))[1], 'mount', 'a page loaded after the disconnect joins')
  await t.rejects(app.liveViewDisconnect(''), { code: 'FST_LIVEVIEW_OPTIONS_INVALID' })

})

const UNSAFE = [
  'javascript:alert(1)', 'JaVaScRiPt:alert(1)', '  javascript:alert(1)', '\x01\x02javascript:alert(1)', 'java\tscript:alert(1)',
  'data:text/html,<script>alert(1)</script>', 'vbscript:msgbox(1)', '//evil.example/', '/\\evil.example/', '\\\\evil.example/',
  'https://localhost/', 'http://localhost:8080/', 'https://evil.example/'
]

t.test('URLs a view sends the browser to: same-origin http(s) only; every trick is a coded error and nothing is sent', async (t) => {
  class Mover extends LiveView {
    static template = 'count'
    static events = defineEvents<Mover>({ redirectTo: { schema: TO_SCHEMA }, navigateTo: { schema: TO_SCHEMA }, patchTo: { schema: TO_SCHEMA }, away: { schema: TO_SCHEMA } })
    redirectTo (p: { to: string }): void { this.redirect(p.to) }
    navigateTo (p: { to: string }): void { this.pushNavigate(p.to) }
    patchTo (p: { to: string }): void { this.pushPatch(p.to) }
    away (p: { to: string }): void { this.redirect(p.to, { external: true }) }
    context () { return { count: 0 } }
  }
  const app = await buildApp(t, {}, (app) => { app.liveView('/', Mover) })
  const { client } = await joinAt(t, app, '/')
  for (const to of UNSAFE) {
    for (const name of ['redirectTo', 'navigateTo', 'patchTo']) {
      const reply = errorOf(await client.event(name, { to }))
      t.equal(reply.code, 'FST_LIVEVIEW_HANDLER_FAILED', `${name}(${JSON.stringify(to)})`)
      t.match(reply.message, /URL the view may send the browser to/)
    }
    // A patch frame the page sends: refused, and no URL for the client to load.
    const ref = client.nextRef()
    client.send([ref, 'patch', to])
    const refused = errorOf(await client.reply(ref))
    t.same([refused.code, refused.url], ['FST_LIVEVIEW_URL_UNSAFE', undefined], `patch frame ${JSON.stringify(to)}`)
  }
  t.notOk(client.frames.some((f) => f[1] === 'redirect' || f[1] === 'url' || f[1] === 'mount' && f[0] !== 1), 'the browser was sent nowhere')
  // External: other http(s) origins, never another scheme.
  t.equal((await client.event('away', { to: 'https://elsewhere.example/x' }))[1], 'ok')
  t.same(await client.waitFor((f) => f[1] === 'redirect'), [0, 'redirect', 'https://elsewhere.example/x'])
  t.equal(errorOf(await client.event('away', { to: 'javascript:alert(1)' })).code, 'FST_LIVEVIEW_HANDLER_FAILED')
  // A same-origin path whose normal form starts with // is sent absolute (never as //host).
  t.equal((await client.event('redirectTo', { to: '/.//evil.example/' }))[1], 'ok')
  t.same((await client.waitFor((f) => f[1] === 'redirect' && f[2] !== 'https://elsewhere.example/x'))[2], 'http://localhost//evil.example/')
})

t.test('every frame costs a rate-limit token: syncs, malformed frames and refused joins too; a client over budget is closed (4005)', async (t) => {
  const clock = new FakeClock()
  const app = await buildApp(t, { clock, limits: { eventsPerSecond: 10, eventBurst: 5, rateLimitCloseMs: 3000 } }, (app) => { app.liveView('/', Counter) })
  const { client } = await joinAt(t, app, '/')
  const codes: string[] = []
  for (const frame of ['[2,"sync"]', 'not json', '[3,"sync"]', '[4,"nope"]', '[5,"sync"]']) {
    const seen = client.frames.length
    client.send(frame)
    await client.waitFor(() => client.frames.length > seen)
    const f = client.frames[seen]!
    codes.push(f[1] === 'err' ? errorOf(f).code : f[1])
  }
  t.same(codes, ['h', 'FST_LIVEVIEW_FRAME_MALFORMED', 'h', 'FST_LIVEVIEW_FRAME_MALFORMED', 'FST_LIVEVIEW_RATE_LIMITED'], 'the join took one; the fifth frame is over the burst')
  // Over budget, refused at least once a second, for rateLimitCloseMs: closed.
  let closed = false
  void client.closed.then(() => { closed = true })
  for (let i = 0; i < 5 && !closed; i++) {
    await clock.tick(1000)
    const seen = client.frames.length
    for (let j = 0; j < 12; j++) client.send('[9,"sync"]')
    await client.waitFor(() => closed || client.frames.length >= seen + 12).catch(() => {})
  }
  t.equal((await client.closed).code, 4005)
})

t.test('sockets are capped per client IP and in total (429 on the upgrade)', async (t) => {
  const app = await buildApp(t, { limits: { socketsPerIp: 2, maxSockets: 3 } }, (app) => { app.liveView('/', Counter) })
  const a = await app.injectWS('/_live/ws')
  const b = await app.injectWS('/_live/ws')
  t.teardown(() => { a.terminate(); b.terminate() })
  await t.rejects(app.injectWS('/_live/ws'), /429/, 'a third socket from one IP')
  a.terminate()
  await new Promise((resolve) => setTimeout(resolve, 50))
  const c = await app.injectWS('/_live/ws')
  t.teardown(() => { c.terminate() })
  t.pass('a closed socket frees its place')
  // Behind a proxy (trustProxy), the forwarded IP is the one counted.
  const other = Fastify({ trustProxy: true })
  t.teardown(() => other.close())
  await other.register(liveview, { root: viewsRoot, secret: SECRET, limits: { socketsPerIp: 1, maxSockets: 2 } })
  other.liveView('/', Counter)
  const url = (await other.listen({ host: '127.0.0.1', port: 0 })).replace('http', 'ws') + '/_live/ws'
  const open = async (ip: string): Promise<number> => await new Promise((resolve) => {
    const ws = new WebSocket(url, { headers: { 'x-forwarded-for': ip } })
    ws.on('error', () => {})
    t.teardown(() => { ws.terminate() })
    ws.once('open', () => { resolve(101) })
    ws.once('unexpected-response', (req, res) => { resolve(res.statusCode ?? 0); req.destroy() })
  })
  t.equal(await open('10.0.0.1'), 101)
  t.equal(await open('10.0.0.2'), 101, 'another forwarded IP')
  t.equal(await open('10.0.0.1'), 429, 'trustProxy: the forwarded IP counts')
  t.equal(await open('10.0.0.3'), 429, 'maxSockets in total')
})

t.test('production: error frames and error pages say the code and "see the server log", nothing more', async (t) => {
  class Leaky extends LiveView {
    static template = 'count'
    static events = defineEvents<Leaky>({ ctx: true })
    broken = false
    mount (params: Params): void { if (params.fail === '1') throw new Error('connect ECONNREFUSED password=hunter2') }
    ctx (): void { this.broken = true }
    context () {
      if (this.broken) throw new Error('db error: password=hunter2')
      return { count: 0 }
    }
  }
  const lines: string[] = []
  const app = Fastify({ logger: { level: 'info', stream: { write: (l: string) => { lines.push(l) } } } })
  t.teardown(() => app.close())
  await app.register(liveview, { root: viewsRoot, secret: SECRET, production: true })
  app.liveView('/', Leaky)
  await app.ready()
  const page = await app.inject('/?fail=1')
  t.equal(page.statusCode, 500)
  t.notMatch(page.body, /hunter2|ECONNREFUSED/, 'the 500 body keeps the message out')
  t.match(JSON.parse(page.body), { code: 'FST_LIVEVIEW_MOUNT_FAILED', message: /see the server log/ })
  t.ok(lines.some((l) => l.includes('hunter2')), 'the log has it')
  const { client } = await joinAt(t, app, '/')
  const err = errorOf(await client.event('ctx'))
  t.same(err, { code: 'FST_LIVEVIEW_CONTEXT_INVALID', message: 'see the server log' })
})

t.test('client data in logs is clipped; client faults are warnings without stacks', async (t) => {
  const lines: Array<Record<string, unknown>> = []
  const app = Fastify({ logger: { level: 'debug', stream: { write: (l: string) => { lines.push(JSON.parse(l) as Record<string, unknown>) } } } })
  t.teardown(() => app.close())
  await app.register(liveview, { root: viewsRoot, secret: SECRET })
  app.liveView('/', Counter)
  const base = await app.listen({ host: '127.0.0.1', port: 0 })
  const token = tokenOf((await app.inject('/')).body)
  const huge = new WireClient(await app.injectWS('/_live/ws'))
  t.teardown(() => { huge.close() })
  t.equal(errorOf(await huge.join(token, 'http://localhost/', { v: 'x'.repeat(60000) as unknown as number })).code, 'FST_LIVEVIEW_PROTOCOL_MISMATCH')
  const longest = Math.max(...lines.map((l) => JSON.stringify(l).length))
  t.ok(longest < 2000, `the longest log line is ${longest} characters`)
  // A frame ws itself refuses (invalid UTF-8 in a text frame).
  const ws = new WebSocket(`${base.replace('http', 'ws')}/_live/ws`)
  t.teardown(() => { ws.terminate() })
  await new Promise((resolve) => ws.once('open', resolve))
  ws.send(Buffer.from([0xff, 0xfe, 0xfd]), { binary: false })
  await new Promise((resolve) => ws.once('close', resolve))
  await new Promise((resolve) => setTimeout(resolve, 50))
  const logged = lines.find((l) => l.msg === 'live view socket error')
  t.equal(logged?.level, 40, 'a warning')
  t.notOk(JSON.stringify(logged).includes('    at '), 'without a stack')
  t.notOk(lines.some((l) => (l.level as number) >= 50), 'nothing at error level')
})

t.test('query keys like constructor, toString and __proto__ are plain params', async (t) => {
  const seen: Params[] = []
  class Probe extends Counter {
    mount (params: Params): void { seen.push(params); super.mount(params) }
  }
  const app = await buildApp(t, {}, (app) => { app.liveView('/', Probe) })
  await joinAt(t, app, '/?constructor=a&toString=b&__proto__=c&hasOwnProperty=d')
  t.equal(seen.length, 2)
  for (const params of seen) {
    t.same(Object.entries(params), [['constructor', 'a'], ['toString', 'b'], ['__proto__', 'c'], ['hasOwnProperty', 'd']])
    t.equal(typeof params.toString, 'string', 'a string, not a function')
    t.equal(Object.getPrototypeOf(params), null)
  }
})

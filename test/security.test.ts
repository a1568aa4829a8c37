// The security boundary (issue 10): every way into a view passes the route's checks, tokens
// are bound to the page and the user, URLs stay same-origin, and abuse is bounded.
import t, { type Test } from 'tap'
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify'
import { WebSocket } from 'ws'
import liveview, { LiveView, defineEvents, type LiveViewOptions, type Params } from '../plugin.js'
import { live } from '../testing.js'
import { FakeClock } from './fake-clock.js'
import { Counter } from './fixtures/views.js'
import { SECRET, WireClient, buildApp, tokenOf, viewsRoot, type Frame } from './helpers.js'

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
  static events = defineEvents<Public>({ inc: true, go: true })
  go (params: { to: string }): void { this.pushNavigate(params.to) }
}

class Admin extends Counter {}

class Doc extends LiveView {
  static template = 'counter'
  static events = defineEvents<Doc>({ open: true })
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
  anon.send([1, 'join', { v: 3, token: tokenOf(page.body), url: 'http://localhost/app', pristine: true }])
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

import t from 'tap'
import Fastify from 'fastify'
import { WebSocket } from 'ws'
import liveview, { LiveView, PROTOCOL_VERSION, defineEvents, type Params } from '../plugin.js'
import { systemClock } from '../lib/clock.js'
import { Tokens } from '../lib/tokens.js'
import { Counter } from './fixtures/views.js'
import { SECRET, WireClient, buildApp, connect, rootHtml, tokenOf, viewsRoot, type Frame } from './helpers.js'

const errorOf = (f: Frame) => f[2] as { code: string, message: string, reload?: boolean }
const mountOf = (f: Frame) => { if (f[1] !== 'mount') throw new Error(`not a mount: ${JSON.stringify(f)}`); return f[2] as { id: number, version: number, html?: string, title: string } }
/** A clock stuck at `at`. */
const frozen = (at: number) => ({ ...systemClock, now: () => at })
const v = PROTOCOL_VERSION

class Todo extends LiveView {
  static template = 'todo'
  static title = 'My todos'
  todos = [{ id: 1, text: 'Fish & "chips" <now>', done: true }]
  context () { return { title: 'Todos', todos: this.todos } }
}

t.test('the HTTP render is a complete page with one live root, a token and the client script', async (t) => {
  const app = await buildApp(t, {}, (app) => { app.liveView('/counter', Counter).liveView('/todo', Todo) })
  const res = await app.inject('/counter?start=41')
  t.equal(res.statusCode, 200)
  t.equal(res.headers['cache-control'], 'no-store')
  t.match(res.headers['content-type'], /^text\/html; charset=utf-8/)
  t.match(res.body, /^<!DOCTYPE html>/)
  t.match(res.body, /<title>Counter<\/title>/, 'the title defaults to the class name')
  t.equal(res.body.match(/data-lv-root/g)?.length, 1, 'exactly one root element')
  t.match(res.body, /<div data-lv-root data-lv-socket="\/_live\/ws" data-lv-token="[\w-]+\.[\w-]+">/)
  t.match(res.body, /<script src="\/_live\/client\.[\w-]{12}\.js" defer><\/script>/)
  t.match(rootHtml(res.body), /<strong id="count">41<\/strong>/, 'readable without JavaScript')

  const todo = await app.inject('/todo')
  t.match(todo.body, /<title>My todos<\/title>/, 'static title')
  t.match(todo.body, /Fish &amp; &quot;chips&quot; &lt;now&gt;/, 'Eta escapes the data')
})

t.test('the client script is served under a content hash with long-lived caching, with its source map', async (t) => {
  const app = await buildApp(t, {}, (app) => { app.liveView('/counter', Counter) })
  t.equal((await app.inject('/_live/ws')).statusCode, 404, 'a plain GET of the socket path is not a page')
  const src = /<script src="([^"]+)"/.exec((await app.inject('/counter')).body)![1]!
  const js = await app.inject(src)
  t.equal(js.statusCode, 200)
  t.equal(js.headers['cache-control'], 'public, max-age=31536000, immutable')
  t.match(js.headers['content-type'], /javascript/)
  t.match(js.body, /^\/\*! fastify-liveview [^ ]+ client \| MIT \*\//, 'the banner names the licence')
  t.notMatch(js.body, /LGPL|diffDOM/, 'no diff-dom code in the bundle')
  const mapName = /sourceMappingURL=(\S+)/.exec(js.body)![1]!
  t.equal(`/_live/${mapName}`, `${src}.map`)
  const map = await app.inject(`${src}.map`)
  t.equal(map.statusCode, 200)
  t.ok(Array.isArray((JSON.parse(map.body) as { sources: unknown }).sources), 'the source map lists its sources')
})

t.test('a custom layout wraps the page', async (t) => {
  const app = await buildApp(t, { layout: 'layout' }, (app) => { app.liveView('/counter', Counter) })
  const res = await app.inject('/counter')
  t.match(res.body, /<title>Custom: Counter<\/title>/)
  t.match(res.body, /<body class="custom"><div data-lv-root/)
})

t.test('join: a render equal to the HTTP one costs an ack; a different one sends full HTML', async (t) => {
  class Clock extends LiveView {
    static template = 'count'
    count = 0
    mount (): void { this.count = this.connected ? 2 : 1 }
    context () { return { count: this.count } }
  }
  const app = await buildApp(t, {}, (app) => { app.liveView('/counter', Counter).liveView('/clock', Clock) })
  t.same((await connect(t, app, '/counter')).join, [1, 'mount', { id: 1, version: 0, title: 'Counter' }], 'no html: the page shows it')
  const { join } = await connect(t, app, '/clock')
  t.equal(mountOf(join).version, 0)
  t.match(mountOf(join).html, /<strong id="count">2<\/strong>/)
})

t.test('rejoin after updates shows the server\'s state: a join that is not pristine always gets full HTML', async (t) => {
  const app = await buildApp(t, {}, (app) => { app.liveView('/counter', Counter) })
  const page = await app.inject('/counter')
  const client = new WireClient(await app.injectWS('/_live/ws'))
  t.teardown(() => { client.close() })
  const join = mountOf(await client.join(tokenOf(page.body), 'http://localhost/counter', { pristine: false }))
  t.match(join.html, /<strong id="count">0<\/strong>/, 'the same render as the token\'s, sent all the same: the page may show later state')
})

t.test('join refusals: each coded, the socket closed with 4001', async (t) => {
  const app = await buildApp(t, { tokenMaxAgeMs: 60000 }, (app) => { app.liveView('/counter', Counter).liveView('/todo', Todo) })
  const page = await app.inject('/counter')
  const token = tokenOf(page.body)
  const [body, sig] = token.split('.') as [string, string]

  async function attempt (payload: unknown, what: string): Promise<Frame> {
    const client = new WireClient(await app.injectWS('/_live/ws'))
    t.teardown(() => { client.close() })
    const ref = client.nextRef()
    client.send([ref, 'join', payload])
    const reply = await client.reply(ref)
    t.same(await client.closed, { code: 4001, reason: errorOf(reply).code }, `${what}: closed with 4001 and the code`)
    return reply
  }

  const forgedSig = await attempt({ v, token: `${body}.${sig.slice(0, -2)}AA`, url: 'http://localhost/counter' }, 'forged signature')
  t.equal(errorOf(forgedSig).code, 'FST_LIVEVIEW_TOKEN_INVALID')
  t.equal(errorOf(forgedSig).reload, true, 'a retry cannot cure it: the page reloads')

  const claims = JSON.parse(Buffer.from(body, 'base64url').toString()) as Record<string, unknown>
  const tampered = Buffer.from(JSON.stringify({ ...claims, s: { admin: true } })).toString('base64url')
  t.equal(errorOf(await attempt({ v, token: `${tampered}.${sig}`, url: 'http://localhost/counter' }, 'tampered session')).code, 'FST_LIVEVIEW_TOKEN_INVALID')
  t.equal(errorOf(await attempt({ v, token: 'garbage', url: 'http://localhost/counter' }, 'garbage')).code, 'FST_LIVEVIEW_TOKEN_INVALID')
  t.equal(errorOf(await attempt({ v, url: 'http://localhost/counter' }, 'no token')).code, 'FST_LIVEVIEW_TOKEN_INVALID')
  const otherKey = new Tokens(['another-secret-that-is-long-enough-012345'], 60000, systemClock).sign(new URL('http://localhost/counter'), undefined, 'x')
  t.equal(errorOf(await attempt({ v, token: otherKey, url: 'http://localhost/counter' }, 'other key')).code, 'FST_LIVEVIEW_TOKEN_INVALID')

  const expired = new Tokens([SECRET], 60000, frozen(Date.now() - 120000)).sign(new URL('http://localhost/counter'), undefined, 'x')
  const exp = await attempt({ v, token: expired, url: 'http://localhost/counter' }, 'expired')
  t.equal(errorOf(exp).code, 'FST_LIVEVIEW_TOKEN_EXPIRED')
  t.equal(errorOf(exp).reload, true, 'an expired token makes the page reload')

  const old = await attempt({ v: 0, token, url: 'http://localhost/counter' }, 'old protocol')
  t.equal(errorOf(old).code, 'FST_LIVEVIEW_PROTOCOL_MISMATCH')
  t.equal(errorOf(old).reload, true, 'an old page reloads')

  t.equal(errorOf(await attempt({ v, token, url: 'http://localhost/todo' }, 'other route')).code, 'FST_LIVEVIEW_TOKEN_URL_MISMATCH')
  t.equal(errorOf(await attempt({ v, token, url: 'http://localhost/counter?admin=1' }, 'other query')).code, 'FST_LIVEVIEW_TOKEN_URL_MISMATCH', 'the token binds the query too')
  t.equal(errorOf(await attempt({ v, token: `${body}.${sig}==`, url: 'http://localhost/counter' }, 'padded signature')).code, 'FST_LIVEVIEW_TOKEN_INVALID', 'only the canonical signature verifies')
  const nowhere = new Tokens([SECRET], 60000, systemClock).sign(new URL('http://localhost/nowhere'), undefined, 'x')
  t.equal(errorOf(await attempt({ v, token: nowhere, url: 'http://localhost/nowhere' }, 'no route')).code, 'FST_LIVEVIEW_ROUTE_NOT_FOUND')
  t.equal(errorOf(await attempt({ v, token, url: 'not a url' }, 'bad url')).code, 'FST_LIVEVIEW_FRAME_MALFORMED')
  t.equal(errorOf(await attempt('hello', 'payload not an object')).code, 'FST_LIVEVIEW_FRAME_MALFORMED')
})

t.test('events before a join are refused', async (t) => {
  const app = await buildApp(t, {}, (app) => { app.liveView('/counter', Counter) })
  const client = new WireClient(await app.injectWS('/_live/ws'))
  t.teardown(() => { client.close() })
  client.send([client.nextRef(), 'e', client.mount, 'inc', {}])
  t.equal(errorOf(await client.reply(1)).code, 'FST_LIVEVIEW_JOIN_REQUIRED')
  client.send([client.nextRef(), 'sync'])
  t.equal(errorOf(await client.reply(2)).code, 'FST_LIVEVIEW_JOIN_REQUIRED')
  const page = await app.inject('/counter')
  t.equal(mountOf(await client.join(tokenOf(page.body), 'http://localhost/counter')).version, 0, 'the socket can still join')
})

t.test('rotating secrets: the first signs, every one verifies', async (t) => {
  const OLD = 'old-secret-that-is-long-enough-0123456789'
  const before = await buildApp(t, { secret: OLD }, (app) => { app.liveView('/counter', Counter) })
  const oldToken = tokenOf((await before.inject('/counter')).body)
  const after = await buildApp(t, { secret: [SECRET, OLD] }, (app) => { app.liveView('/counter', Counter) })
  const client = new WireClient(await after.injectWS('/_live/ws'))
  t.teardown(() => { client.close() })
  t.same(await client.join(oldToken, 'http://localhost/counter'), [1, 'mount', { id: 1, version: 0, title: 'Counter' }], 'a page from before the rotation still joins')
  const newToken = tokenOf((await after.inject('/counter')).body)
  t.throws(() => new Tokens([OLD], 60000, systemClock).verify(newToken), { code: 'FST_LIVEVIEW_TOKEN_INVALID' }, 'new tokens are signed with the first secret')
  t.ok(new Tokens([SECRET], 60000, systemClock).verify(newToken))
})

t.test('Origin: the page\'s own host and the allowlist pass, a foreign Origin is refused with 403', async (t) => {
  const app = await buildApp(t, { allowedOrigins: ['https://partner.example'] }, (app) => { app.liveView('/counter', Counter) })
  await t.rejects(app.injectWS('/_live/ws', { headers: { origin: 'https://evil.example' } }), /Unexpected server response: 403/)
  await t.resolves(connect(t, app, '/counter', { origin: 'http://localhost:80', host: 'localhost:80' }).then((c) => c.join), 'same host')
  await t.resolves(connect(t, app, '/counter', { origin: 'https://partner.example' }), 'allowlisted')
  await t.rejects(app.injectWS('/_live/ws', { headers: { origin: 'not a url' } }), /403/)
})

t.test('Origin behind a proxy: with trustProxy, X-Forwarded-Host and -Proto are the page\'s origin; the scheme counts', async (t) => {
  const app = Fastify({ trustProxy: true })
  t.teardown(() => app.close())
  await app.register(liveview, { root: viewsRoot, secret: SECRET })
  app.liveView('/counter', Counter)
  const base = await app.listen({ host: '127.0.0.1', port: 0 })
  const token = tokenOf(await (await fetch(`${base}/counter`)).text())
  const url = `${base.replace('http', 'ws')}/_live/ws`
  const proxied = new WebSocket(url, { headers: { origin: 'https://app.example', 'x-forwarded-host': 'app.example', 'x-forwarded-proto': 'https' } })
  t.teardown(() => { proxied.terminate() })
  const client = new WireClient(proxied)
  await new Promise((resolve, reject) => { proxied.once('open', resolve); proxied.once('error', reject) })
  t.equal(mountOf(await client.join(token, `${base}/counter`)).version, 0)
  const direct = new WebSocket(url, { headers: { origin: 'https://app.example' } })
  const refused = await new Promise((resolve) => {
    direct.once('unexpected-response', (req, res) => { resolve(res.statusCode); req.destroy() })
  })
  t.equal(refused, 403, 'without the forwarded host the Origin is foreign')
  const status = async (headers: Record<string, string>): Promise<unknown> => await new Promise((resolve) => {
    const ws = new WebSocket(url, { headers })
    ws.once('open', () => { resolve(101); ws.terminate() })
    ws.once('unexpected-response', (req, res) => { resolve(res.statusCode); req.destroy() })
  })
  t.equal(await status({ origin: 'https://app.example', 'x-forwarded-host': 'app.example' }), 403, 'an https Origin on an http request is foreign')
  t.equal(await status({ origin: 'http://app.example', 'x-forwarded-host': 'app.example' }), 101, 'the http one is the page\'s')
  t.equal(await status({ origin: 'http://app.example:8080', 'x-forwarded-host': 'app.example' }), 403, 'so is not another port')
})

t.test('session data is fresh at every live mount: session(request) runs on the socket\'s request; the token binds its key and its URL', async (t) => {
  const seen: Array<{ connected: boolean, session: unknown, cookie: unknown, params: Params }> = []
  class Account extends LiveView {
    static template = 'count'
    static events = defineEvents<Account>({})
    mount (params: Params, session: { user: string }): void {
      seen.push({ connected: this.connected, session, cookie: this.request.headers.cookie, params: { ...params } })
    }

    context () { return { count: 0 } }
  }
  const app = await buildApp(t, {
    session: (request) => ({ user: String(request.headers['x-user'] ?? 'anonymous') })
  }, async (app) => {
    await app.register(async (admin) => { admin.liveView('/users/:id', Account) }, { prefix: '/admin' })
  })
  const page = await app.inject({ url: '/admin/users/7?tab=posts', headers: { 'x-user': 'ada' } })
  t.equal(page.statusCode, 200)
  t.notMatch(Buffer.from(tokenOf(page.body).split('.')[0]!, 'base64url').toString(), /ada/, 'the session data is not in the token')
  const client = new WireClient(await app.injectWS('/_live/ws', { headers: { cookie: 'sid=abc', 'x-user': 'ada' } }))
  t.teardown(() => { client.close() })
  t.equal(mountOf(await client.join(tokenOf(page.body), 'http://localhost/admin/users/7?tab=posts')).html, undefined)
  t.same(seen, [
    { connected: false, session: { user: 'ada' }, cookie: undefined, params: { tab: 'posts', id: '7' } },
    { connected: true, session: { user: 'ada' }, cookie: 'sid=abc', params: { tab: 'posts', id: '7' } }
  ])
  // No `key` in the session data: the token binds no user, and the mount gets the data of the request now.
  const later = new WireClient(await app.injectWS('/_live/ws', { headers: { 'x-user': 'grace' } }))
  t.teardown(() => { later.close() })
  t.equal((await later.join(tokenOf(page.body), 'http://localhost/admin/users/7?tab=posts'))[1], 'mount')
  t.same(seen.at(-1)?.session, { user: 'grace' }, 'not the copy of the HTTP render')
  const other = new WireClient(await app.injectWS('/_live/ws'))
  t.teardown(() => { other.close() })
  const wrong = await other.join(tokenOf(page.body), 'http://localhost/admin/users/8')
  t.equal(errorOf(wrong).code, 'FST_LIVEVIEW_TOKEN_URL_MISMATCH', 'a token for /admin/users/7 does not join /admin/users/8')
})

t.test('a session key binds the token to its user: another user\'s cookie with the token is refused', async (t) => {
  const app = await buildApp(t, {
    session: (request) => ({ key: String(request.headers['x-user'] ?? ''), user: request.headers['x-user'] })
  }, (app) => { app.liveView('/counter', Counter) })
  const page = await app.inject({ url: '/counter', headers: { 'x-user': 'ada' } })
  const mine = new WireClient(await app.injectWS('/_live/ws', { headers: { 'x-user': 'ada' } }))
  t.teardown(() => { mine.close() })
  t.equal((await mine.join(tokenOf(page.body), 'http://localhost/counter'))[1], 'mount')
  const theirs = new WireClient(await app.injectWS('/_live/ws', { headers: { 'x-user': 'mallory' } }))
  t.teardown(() => { theirs.close() })
  const refused = await theirs.join(tokenOf(page.body), 'http://localhost/counter')
  t.equal(errorOf(refused).code, 'FST_LIVEVIEW_SESSION_MISMATCH')
  t.equal(errorOf(refused).reload, true, 'the page reloads: HTTP answers for the user of the cookie')
  t.equal((await theirs.closed).code, 4001)
})

t.test('a mount that throws at join is refused with FST_LIVEVIEW_MOUNT_FAILED and terminate runs', async (t) => {
  const ended: string[] = []
  class Flaky extends LiveView {
    static template = 'count'
    mount (): void { if (this.connected) throw new Error('db down') }
    terminate (reason: string): void { ended.push(reason) }
    context () { return { count: 0 } }
  }
  const app = await buildApp(t, {}, (app) => { app.liveView('/flaky', Flaky) })
  const page = await app.inject('/flaky')
  const client = new WireClient(await app.injectWS('/_live/ws'))
  t.teardown(() => { client.close() })
  const reply = await client.join(tokenOf(page.body), 'http://localhost/flaky')
  t.equal(errorOf(reply).code, 'FST_LIVEVIEW_MOUNT_FAILED')
  t.match(errorOf(reply).message, /db down/)
  t.equal((await client.closed).code, 4001)
  t.same(ended, ['error'])
})

t.test('an HTTP render whose mount throws answers 500 through Fastify\'s error handler', async (t) => {
  class Broken extends LiveView {
    static template = 'count'
    mount (): void { throw new Error('nope') }
    context () { return { count: 0 } }
  }
  const app = await buildApp(t, {}, (app) => { app.liveView('/broken', Broken) })
  const res = await app.inject('/broken')
  t.equal(res.statusCode, 500)
})

// Regression tests of the session core (issue 9), each named after the defect it pins.
// The browser-side ones (rejoins, reload loops, redirects across a page load) are in
// browser-rejoin.test.ts.
import t, { type Test } from 'tap'
import { PROTOCOL_VERSION } from '../lib/protocol.js'
import Fastify, { type FastifyInstance } from 'fastify'
import websocket from '@fastify/websocket'
import { WebSocket } from 'ws'
import liveview, { LiveView, MemoryPubSub, defineEvents, type Params } from '../plugin.js'
import { live } from '../testing.js'
import { Counter } from './fixtures/views.js'
import { SECRET, TO_SCHEMA, WireClient, eventually, tokenOf, viewsRoot } from './helpers.js'

/** A view that shows `text` and its flash; `go` does whatever the test put in `Note.go`. */
class Note extends LiveView {
  static template = 'note'
  static events = defineEvents<Note>({ go: true })
  static go: (view: Note) => unknown = () => {}
  text = 'note'
  go (): unknown { return Note.go(this) }
  context () { return { text: this.text } }
}

async function app (t: Test, setup: (app: FastifyInstance) => void, options = {}): Promise<FastifyInstance> {
  const app = Fastify({ logger: false })
  t.teardown(() => app.close())
  await app.register(liveview, { root: viewsRoot, secret: SECRET, ...options })
  setup(app)
  await app.ready()
  return app
}

t.test('navigation half-swaps: a new view that fails to mount leaves the old one untouched, ends what it started, and the page loads the URL in full', async (t) => {
  const pubsub = new MemoryPubSub()
  const ended: string[] = []
  let ticked = 0
  class Fails extends LiveView {
    static template = 'count'
    mount (): void {
      if (!this.connected) return
      this.subscribe('news')
      this.every(5, 'tick')
      throw new Error('db down')
    }

    handleInfo (): void { ticked++ }
    terminate (reason: string): void { ended.push(reason) }
    context () { return { count: 0 } }
  }
  const a = await app(t, (a) => { a.liveView('/a', Counter).liveView('/fails', Fails) }, { pubsub })
  const page = await live(a, '/a?start=3')
  t.teardown(() => page.close())
  const reply = await page.patch('/fails')
  reply.assertError('FST_LIVEVIEW_MOUNT_FAILED')
  t.equal(reply.error?.url, 'http://localhost/fails', 'the client is told to load the URL in full (HTTP answers)')
  t.equal(page.redirectedTo, 'http://localhost/fails')
  t.ok(page.view instanceof Counter, 'the old view is still the mounted one')
  t.equal(pubsub.subscribers('news'), 0, 'the failed mount\'s subscription is gone')
  await new Promise((resolve) => setTimeout(resolve, 30))
  t.equal(ticked, 0, 'and its timer never fires')
  t.same(ended, ['error'], 'its terminate ran')
  ;(await page.click('button[lv-click=inc]')).assertChanged()
  page.assertText('#count', '4', 'the old view goes on where it was')
})

t.test('messages cross views: a navigation drops what was queued for the old view; its events are refused as stale; after terminate its API is a no-op', async (t) => {
  const got: unknown[] = []
  let old: Note | undefined
  class Other extends Note {
    handleInfo (msg: unknown): void { got.push(msg) }
  }
  Note.go = (view) => {
    old = view
    view.sendInfo('for the old view')
    view.pushNavigate('/other')
  }
  const a = await app(t, (a) => { a.liveView('/note', Note).liveView('/other', Other) })
  const page = await live(a, '/note')
  t.teardown(() => page.close())
  await page.click('#go')
  await page.settle()
  t.ok(page.view instanceof Other, 'navigated')
  t.same(got, [], 'the message queued for the old view did not reach the new one')

  // An event sent before the navigation's reply names the old mount.
  const ws = await a.injectWS('/_live/ws')
  const client = new WireClient(ws)
  t.teardown(() => { client.close() })
  await client.join(tokenOf((await a.inject('/note')).body), 'http://localhost/note')
  const first = client.mount
  client.send([client.nextRef(), 'e', first, 'go', {}])
  const nav = await client.waitFor((f) => f[1] === 'mount' && f[0] === 0)
  t.not((nav[2] as { id: number }).id, first, 'the navigation mounted a new id')
  const ref = client.nextRef()
  client.send([ref, 'e', first, 'go', {}])
  const stale = await client.reply(ref)
  t.equal((stale[2] as { code: string }).code, 'FST_LIVEVIEW_EVENT_STALE')

  // The old instance, after its terminate.
  const view = old!
  t.equal(view.connected, false)
  t.equal(view.sendInfo('x'), false)
  t.equal(view.pushEvent('x', {}), false)
  t.equal(view.subscribe('topic'), false)
  t.equal(view.unsubscribe('topic'), false)
  t.doesNotThrow(() => { view.every(10, 'x')(); view.after(10, 'x')() }, 'timers: cancellers that do nothing')
  t.doesNotThrow(() => { view.pushPatch('/nowhere'); view.pushNavigate('/nowhere'); view.redirect('/x'); view.putFlash('info', 'x') }, 'URL changes and flash: nothing, and nothing thrown')
  t.same(view.flash, {})
})

t.test('flash is carried by pushNavigate to the next view, shown once', async (t) => {
  Note.go = (view) => {
    view.putFlash('info', 'Moved!')
    view.pushNavigate('/other')
  }
  const a = await app(t, (a) => { a.liveView('/note', Note).liveView('/other', Note) })
  const page = await live(a, '/note')
  t.teardown(() => page.close())
  await page.click('#go')
  await page.settle()
  t.equal(page.url, 'http://localhost/other')
  page.assertText('.flash', 'Moved!', 'the next view shows it')
  Note.go = () => {}
  await page.click('#go')
  t.notOk(page.has('.flash'), 'gone after the next event')
})

t.test('flash is carried by redirect to the next page load (signed cookie), shown by its HTTP render and its join, once', async (t) => {
  Note.go = (view) => {
    view.putFlash('info', 'Signed out')
    view.redirect('/other')
  }
  const a = await app(t, (a) => { a.liveView('/note', Note).liveView('/other', Note) })
  const page = await live(a, '/note')
  t.teardown(() => page.close())
  await page.click('#go')
  t.equal(page.redirectedTo, '/other')
  t.notOk(page.has('.flash'), 'the page that redirects does not show it')
  const next = await page.followRedirect()
  t.teardown(() => next.close())
  next.assertText('.flash', 'Signed out')
  t.equal(next.joined.kind, 'ok', 'the join shows it too: its render equals the HTTP one')
  Note.go = () => {}
  await next.click('#go')
  t.notOk(next.has('.flash'), 'gone after the next event')

  const res = await a.inject({ url: '/other', headers: { cookie: 'lv_flash=forged.value' } })
  t.notMatch(res.body, /class="flash"/, 'a forged carrier shows nothing')
  t.match(String(res.headers['set-cookie']), /lv_flash=; Max-Age=0/, 'and is cleared')
  Note.go = (view) => {
    view.putFlash('info', 'Bye')
    view.redirect('https://elsewhere.example/')
  }
  const third = await live(a, '/note')
  t.teardown(() => third.close())
  ;(await third.click('#go')).assertError('FST_LIVEVIEW_HANDLER_FAILED')
  t.equal(third.redirectedTo, undefined, 'another origin is refused unless the view says external')
  Note.go = (view) => {
    view.putFlash('info', 'Bye')
    view.redirect('https://elsewhere.example/', { external: true })
  }
  await third.click('#go')
  const frame = third.redirectedTo
  t.equal(frame, 'https://elsewhere.example/')
  const follow = await third.followRedirect().catch((err: Error) => err)
  t.type(follow, Error, 'another origin is not followed by the testing API')
})

t.test('deep data never silences a session: deep frames are refused, deep state and deep return values are answered', async (t) => {
  class Keeper extends LiveView {
    static template = 'count-inc'
    static events = defineEvents<Keeper>({ keep: { hook: true }, give: true, inc: true })
    form: unknown = null
    count = 0
    mount (): void { if (this.connected) this.subscribe('deep') }
    keep (params: unknown): void { this.form = params }
    give (): unknown { let v: unknown = []; for (let i = 0; i < 20000; i++) v = [v]; return v }
    inc (): void { this.count++ }
    handleInfo (msg: unknown): void { this.form = msg }
    context () { return { count: this.count } }
  }
  const a = await app(t, (a) => { a.liveView('/keeper', Keeper) })
  // On the wire: arrays nested 10,000 deep (20 KB, within the frame limit).
  const client = new WireClient(await a.injectWS('/_live/ws'))
  t.teardown(() => { client.close() })
  await client.join(tokenOf((await a.inject('/keeper')).body), 'http://localhost/keeper')
  const ref = client.nextRef()
  client.send(`[${ref},"e",${client.mount},"keep",{"a":${'['.repeat(10000)}${']'.repeat(10000)}}]`)
  t.equal(((await client.reply(ref))[2] as { code: string }).code, 'FST_LIVEVIEW_FRAME_TOO_DEEP')
  t.equal((await client.event('inc'))[1], 'p', 'the session answers the next event')

  const page = await live(a, '/keeper')
  t.teardown(() => page.close())
  let deep: unknown = []
  for (let i = 0; i < 10000; i++) deep = [deep]
  ;(await page.event('inc')).assertChanged()
  await a.liveViewBroadcast('deep', { a: deep })
  await page.settle()
  for (let i = 0; i < 3; i++) (await page.event('inc')).assertChanged()
  page.assertText('#count', '4', 'every event answered, in order, after deep state')
  ;(await page.event('give')).assertError('FST_LIVEVIEW_HANDLER_FAILED')
  ;(await page.event('inc')).assertChanged()
  t.equal((await page.event('keep', { a: [[[[1]]]] } as unknown as Params)).kind, 'ok', 'and shallow params still run (keep takes any JSON: { hook: true })')
})

/** A listening app with views whose handler and terminate take time. */
async function slowApp (t: Test, before?: (app: FastifyInstance) => Promise<void>) {
  const ended: string[] = []
  class Slow extends LiveView {
    static template = 'count-inc'
    static events = defineEvents<Slow>({ slow: true, inc: true })
    count = 0
    async slow (): Promise<void> {
      await new Promise((resolve) => setTimeout(resolve, 500))
      this.count = 100
    }

    inc (): void { this.count++ }
    async terminate (reason: string): Promise<void> {
      await new Promise((resolve) => setTimeout(resolve, 50))
      ended.push(reason)
    }

    context () { return { count: this.count } }
  }
  const a = Fastify({ logger: false })
  t.teardown(() => a.close())
  await before?.(a)
  await a.register(liveview, { root: viewsRoot, secret: SECRET })
  a.liveView('/slow', Slow)
  const base = await a.listen({ host: '127.0.0.1', port: 0 })
  const open = async (): Promise<WireClient> => {
    const token = tokenOf(await (await fetch(`${base}/slow`)).text())
    const ws = new WebSocket(`${base.replace('http', 'ws')}/_live/ws`)
    t.teardown(() => { ws.terminate() })
    await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject) })
    const client = new WireClient(ws)
    await client.join(token, `${base}/slow`)
    return client
  }
  return { app: a, open, ended }
}

for (const registered of ['the plugin', 'the app']) {
  t.test(`shutdown waits for terminate: a running handler replies before 1001, queued events are refused, every terminate finishes (@fastify/websocket registered by ${registered})`, async (t) => {
    const { app: a, open, ended } = await slowApp(t, registered === 'the app' ? async (a) => { await a.register(websocket) } : undefined)
    const clients = await Promise.all(Array.from({ length: 10 }, open))
    const busy = clients[0]!
    const running = busy.nextRef()
    busy.send([running, 'e', busy.mount, 'slow', {}])
    const queued = busy.nextRef()
    busy.send([queued, 'e', busy.mount, 'inc', {}])
    // The inc waits behind the running slow (500 ms) in the mailbox: close while it does.
    await eventually(() => a.liveViewStats().mailbox.total > 0, 1000)
    t.equal(a.liveViewStats().mailbox.total, 1, 'the inc is queued behind the running slow')
    await a.close()
    t.equal(ended.length, 10, 'close() resolved after all 10 terminate calls finished')
    t.ok(ended.every((r) => r === 'shutdown'))
    const closed = await busy.closed
    t.equal(closed.code, 1001)
    const order = busy.frames.filter((f) => f[0] === running || f[0] === queued).map((f) => [f[0], f[1], (f[2] as { code?: string }).code ?? f[2]])
    t.same(order, [[queued, 'err', 'FST_LIVEVIEW_SHUTTING_DOWN'], [running, 'p', 1]], 'the queued event refused at once, the running one answered, both before the close')
  })
}

t.test('shutdown gives up on a handler that never finishes after shutdownTimeoutMs', async (t) => {
  class Stuck extends LiveView {
    static template = 'count'
    static events = defineEvents<Stuck>({ stuck: true })
    async stuck (): Promise<void> { await new Promise(() => {}) }
    context () { return { count: 0 } }
  }
  const a = await app(t, (a) => { a.liveView('/stuck', Stuck) }, { shutdownTimeoutMs: 100 })
  const base = await a.listen({ host: '127.0.0.1', port: 0 })
  const token = tokenOf(await (await fetch(`${base}/stuck`)).text())
  const ws = new WebSocket(`${base.replace('http', 'ws')}/_live/ws`)
  t.teardown(() => { ws.terminate() })
  await new Promise((resolve) => ws.once('open', resolve))
  const client = new WireClient(ws)
  await client.join(token, `${base}/stuck`)
  client.send([client.nextRef(), 'e', client.mount, 'stuck', {}])
  await new Promise((resolve) => setTimeout(resolve, 20))
  const started = performance.now()
  await a.close()
  t.ok(performance.now() - started < 1500, 'close() did not wait for it')
  t.equal((await client.closed).code, 1001)
})

t.test('redirect, pushNavigate or pushPatch in mount: the HTTP render answers 302, a connected mount sends the browser there', async (t) => {
  let signedIn = true
  class Guarded extends LiveView {
    static template = 'count'
    mount (params: Params): void {
      if (params.to === 'patch') this.pushPatch('/guarded?page=2')
      else if (!signedIn) this.redirect('/login')
    }

    context () { return { count: 0 } }
  }
  const a = await app(t, (a) => { a.liveView('/guarded', Guarded).liveView('/note', Note) })
  const res = await a.inject('/guarded?to=patch')
  t.equal(res.statusCode, 302)
  t.equal(res.headers.location, '/guarded?page=2', 'a path: same origin, whatever host the request named')
  signedIn = false
  const denied = await a.inject('/guarded')
  t.same([denied.statusCode, denied.headers.location], [302, '/login'], 'nothing of the page is rendered')

  // Signed in for the HTTP render, signed out by the time the socket joins.
  signedIn = true
  const html = (await a.inject('/guarded')).body
  signedIn = false
  const client = new WireClient(await a.injectWS('/_live/ws'))
  t.teardown(() => { client.close() })
  client.send([1, 'join', { v: PROTOCOL_VERSION, token: tokenOf(html), url: 'http://localhost/guarded', pristine: true }])
  t.same(await client.waitFor((f) => f[1] === 'redirect'), [0, 'redirect', '/login'])
  t.equal((await client.closed).code, 1000, 'and the socket closes')
  await t.rejects(live(a, '/guarded'), { name: 'LiveTestError' }, 'the testing API: the HTTP render redirects')

  // A navigation to a view whose mount redirects: the page stays, then loads that URL.
  const page = await live(a, '/note')
  t.teardown(() => page.close())
  const reply = await page.patch('/guarded')
  t.equal(reply.kind, 'ok', 'the navigation is answered, nothing changed')
  t.equal(page.redirectedTo, '/login')
  t.ok(page.view instanceof Note, 'the page\'s view is still mounted')
})

t.test('URLs a view sends the browser to with pushPatch or pushNavigate are of the page\'s origin: others throw, on the HTTP render too', async (t) => {
  class Away extends LiveView {
    static template = 'count'
    static events = defineEvents<Away>({ go: { schema: TO_SCHEMA } })
    mount (params: Params): void { if (typeof params.to === 'string') this.pushNavigate(params.to) }
    go (params: { to: string }): void { this.pushNavigate(params.to) }
    context () { return { count: 0 } }
  }
  const a = await app(t, (a) => { a.liveView('/away', Away).liveView('/note', Note) })
  const refused = async (url: string): Promise<unknown> => {
    const res = await a.inject(url)
    return [res.statusCode, res.headers.location, (JSON.parse(res.body) as { code: string }).code]
  }
  t.same(await refused('/away?to=//evil.example/note'), [400, undefined, 'FST_LIVEVIEW_URL_UNSAFE'], 'the HTTP render: refused, no 302 to another origin')
  t.same(await refused('/away?to=https://evil.example/note'), [400, undefined, 'FST_LIVEVIEW_URL_UNSAFE'])
  t.same(await refused('/away?to=/not-live'), [400, undefined, 'FST_LIVEVIEW_PATCH_REFUSED'], 'nor to a URL that is no live route')
  const ok = await a.inject('/away?to=/note')
  t.same([ok.statusCode, ok.headers.location], [302, '/note'])
  const page = await live(a, '/away')
  t.teardown(() => page.close())
  const reply = await page.event('go', { to: '//evil.example/note' })
  reply.assertError('FST_LIVEVIEW_HANDLER_FAILED')
  t.match(reply.error?.message, /not a URL the view may send the browser to/)
  t.ok(page.view instanceof Away, 'nothing mounted')
})

t.test('pushPatch from handleParams (after a pushPatch, or in mount) ends at the last URL, which the browser gets', async (t) => {
  let last = 4
  class Pages extends LiveView {
    static template = 'items'
    static events = defineEvents<Pages>({ jump: true, save: true, leave: true })
    page = 1
    handleParams (params: Params): void {
      this.page = Number(params.page ?? 1)
      // Pages past the last do not exist: back to the last one.
      if (this.page > last) this.pushPatch(`/pages?page=${last}`)
    }

    jump (): void { this.pushPatch('/pages?page=9') }
    save (): void {}
    leave (): void {}
    context () { return { page: this.page, items: [] } }
  }
  const a = await app(t, (a) => { a.liveView('/pages', Pages) })
  const redirected = await live(a, '/pages?page=7').catch((err: { location?: string }) => err)
  t.equal((redirected as { location?: string }).location, '/pages?page=4', 'the HTTP render: a 302 to the last URL')
  // Page 7 existed at the HTTP render, not at the join: the mount frame carries the last URL,
  // and the token of the page there (a reconnect rejoins page 4).
  last = 9
  const html = (await a.inject('/pages?page=7')).body
  last = 4
  const client = new WireClient(await a.injectWS('/_live/ws'))
  t.teardown(() => { client.close() })
  const joined = (await client.join(tokenOf(html), 'http://localhost/pages?page=7'))[2] as { url: string, token: string }
  t.equal(joined.url, 'http://localhost/pages?page=4', 'the join carries the URL the mount ended at')
  const again = new WireClient(await a.injectWS('/_live/ws'))
  t.teardown(() => { again.close() })
  t.equal((await again.join(joined.token, 'http://localhost/pages?page=4'))[1], 'mount', 'its token rejoins there')
  const page = await live(a, '/pages?page=2')
  t.teardown(() => page.close())
  await page.click('#jump')
  page.assertText('#page', '4')
  t.equal(page.url, 'http://localhost/pages?page=4', 'the browser gets the last URL, the one the view shows')
})

t.test('a failed URL change within the route: the error carries the URL, which the browser loads in full', async (t) => {
  class Strict extends LiveView {
    static template = 'items'
    static events = defineEvents<Strict>({ jump: true, save: true, leave: true })
    page = 1
    handleParams (params: Params): void {
      if (params.page === 'x') throw new Error('no such page')
      this.page = Number(params.page ?? 1)
    }

    jump (): void {}
    save (): void {}
    leave (): void {}
    context () { return { page: this.page, items: [] } }
  }
  const a = await app(t, (a) => { a.liveView('/strict', Strict) })
  const page = await live(a, '/strict?page=2')
  t.teardown(() => page.close())
  const reply = await page.patch('/strict?page=x')
  reply.assertError('FST_LIVEVIEW_HANDLER_FAILED')
  t.equal(reply.error?.url, 'http://localhost/strict?page=x')
  page.assertText('#page', '2', 'the view is as it was')
})

t.test('pushNavigate outside a message (a timer of the view\'s own) remounts and carries the flash, as from a handler', async (t) => {
  let nav: Note | undefined
  Note.go = (view) => { nav = view }
  const a = await app(t, (a) => { a.liveView('/note', Note).liveView('/other', Note) })
  const page = await live(a, '/note')
  t.teardown(() => page.close())
  await page.click('#go')
  const first = page.view
  nav!.putFlash('info', 'Later')
  nav!.pushNavigate('/note')
  await page.settle()
  t.not(page.view, first, 'a new instance, even on the same route')
  page.assertText('.flash', 'Later')
})

t.test('a held-back update (slow client) still reaches the page after a navigation', async (t) => {
  const { Session } = await import('../lib/session/actor.js')
  const { kRuntime } = await import('../lib/runtime.js')
  const { FakeClock } = await import('./fake-clock.js')
  const clock = new FakeClock()
  const a = await app(t, (a) => { a.liveView('/counter', Counter).liveView('/other', Counter) }, { clock })
  const frames: string[] = []
  let backlog = 0
  const session = new Session((a as unknown as Record<symbol, never>)[kRuntime], { send: (f: string) => { frames.push(f) }, backlog: () => backlog, close: () => {} }, { id: 't', log: a.log, headers: {} } as never)
  t.teardown(() => session.close())
  const token = tokenOf((await a.inject('/counter')).body)
  session.receive(JSON.stringify([1, 'join', { v: PROTOCOL_VERSION, token, url: 'http://localhost/counter', pristine: true }]))
  await session.idle()
  backlog = 1e9
  session.info({ set: 5 })
  await session.idle()
  session.receive(JSON.stringify([2, 'patch', 'http://localhost/other']))
  await session.idle()
  session.info({ set: 101 })
  await session.idle()
  backlog = 0
  await clock.tick(100)
  await session.idle()
  t.match(frames.at(-1), /"101"/, 'the new view\'s update went out once the client caught up')
})

t.test('a join still mounting when app.close() starts is answered (FST_LIVEVIEW_SHUTTING_DOWN) before the 1001 close', async (t) => {
  let mounting: () => void
  const started = new Promise<void>((resolve) => { mounting = resolve })
  class SlowMount extends LiveView {
    static template = 'count'
    async mount (): Promise<void> {
      if (!this.connected) return
      mounting()
      await new Promise((resolve) => setTimeout(resolve, 150))
    }

    context () { return { count: 0 } }
  }
  const a = await app(t, (a) => { a.liveView('/slowmount', SlowMount) })
  const base = await a.listen({ host: '127.0.0.1', port: 0 })
  const token = tokenOf(await (await fetch(`${base}/slowmount`)).text())
  const ws = new WebSocket(`${base.replace('http', 'ws')}/_live/ws`)
  t.teardown(() => { ws.terminate() })
  await new Promise((resolve) => ws.once('open', resolve))
  const client = new WireClient(ws)
  client.send([1, 'join', { v: PROTOCOL_VERSION, token, url: `${base}/slowmount`, pristine: true }])
  await started
  await a.close()
  t.same(client.frames.map((f) => [f[0], f[1], (f[2] as { code: string }).code]), [[1, 'err', 'FST_LIVEVIEW_SHUTTING_DOWN']])
  t.equal((await client.closed).code, 1001)
})

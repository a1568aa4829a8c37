import t, { type Test } from 'tap'
import Fastify from 'fastify'
import liveview, { LiveView, defineEvents, type Params } from '../plugin.js'
import { LiveTestError, live, mountView } from '../testing.js'
import { Counter } from './fixtures/views.js'
import { SECRET, viewsRoot } from './helpers.js'

class Signup extends LiveView {
  static template = 'signup'
  static events = defineEvents<Signup>({ validate: true, save: true })
  values: Params = {}
  error = ''
  saved = ''
  validate (params: Params): void {
    this.values = params
    this.error = String(params.email ?? '').includes('@') ? '' : `bad ${String(params._target)}`
  }

  save (params: Params): void {
    this.values = params
    this.saved = JSON.stringify(params)
  }

  context () { return { values: this.values, error: this.error, saved: this.saved } }
}

async function app (t: Test) {
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(liveview, { root: viewsRoot, secret: SECRET })
  app.liveView('/counter', Counter)
  app.liveView('/signup', Signup)
  app.get('/private', async (_req, reply) => reply.redirect('/login'))
  app.get('/plain', async () => 'hello')
  return app
}

t.test('live(app, url): the real route, then click and read the page', async (t) => {
  const page = await live(await app(t), '/counter?start=3')
  t.teardown(() => page.close())
  t.equal(page.joined.kind, 'ok', 'the connected render equals the served page')
  t.equal(page.text('#count'), '3')
  const reply = await page.click('button[lv-click=inc]')
  t.equal(reply.kind, 'patch')
  t.equal(reply.version, 1)
  t.ok(reply.bytes < 100, `a small patch: ${reply.bytes} bytes`)
  page.assertText('#count', '4')
  t.equal(page.version, 1)
  t.match(page.html, /<strong id="count">4<\/strong>/)
  t.equal((page.view as Counter).count, 4, 'the view instance is there for white-box checks')

  const byValue = await page.click('button[lv-value-by]')
  byValue.assertChanged()
  page.assertText('#count', /^9$/)
  t.equal((await page.event('add', { by: 2 })).kind, 'patch', 'events by name')
  t.equal(page.text('#count'), '11')
})

t.test('refused events read as their code; the page goes on', async (t) => {
  const page = await live(await app(t), '/counter')
  t.teardown(() => page.close())
  const refused = await page.event('nope')
  t.equal(refused.kind, 'error')
  t.equal(refused.error?.code, 'FST_LIVEVIEW_EVENT_UNKNOWN')
  refused.assertError('FST_LIVEVIEW_EVENT_UNKNOWN')
  t.throws(() => refused.assertError('FST_LIVEVIEW_RATE_LIMITED'), /expected an error FST_LIVEVIEW_RATE_LIMITED, got FST_LIVEVIEW_EVENT_UNKNOWN/)
  t.throws(() => refused.assertChanged(), /expected the page to change, got error FST_LIVEVIEW_EVENT_UNKNOWN/)
  ;(await page.event('boom')).assertError('FST_LIVEVIEW_HANDLER_FAILED')
  ;(await page.event('add', { by: 'x' })).assertError('FST_LIVEVIEW_PARAMS_INVALID')
  t.equal((await page.click('button[lv-click=inc]')).kind, 'patch')
  t.throws(() => page.assertText('#count', '7'), { name: 'AssertionError', message: /text of '#count' is "1", expected "7"/ })
  t.throws(() => page.assertText('#count', '7', 'after one click'), { message: /^after one click: text of '#count'/ })
})

t.test('forms: change and submit send the rendered fields with the typed values', async (t) => {
  const page = await live(await app(t), '/signup')
  t.teardown(() => page.close())
  const changed = await page.change('form', { email: 'nope' })
  changed.assertChanged()
  page.assertText('.error', 'bad email')
  t.same((page.view as Signup).values, { name: 'Ada', email: 'nope', plan: 'pro', _target: 'email' }, 'the rendered fields, the typed value and _target')
  await page.change('input[name=email]', { email: 'ada@example.com' })
  t.equal(page.text('.error'), '')
  await page.submit('form', { terms: 'yes', tags: ['a', 'b'] })
  t.same(JSON.parse(page.text('#saved')), { name: 'Ada', email: 'ada@example.com', plan: 'pro', terms: 'yes', tags: ['a', 'b'] })
  await page.submit('button[type=submit]', { terms: false, name: undefined })
  t.same(JSON.parse(page.text('#saved')), { email: 'ada@example.com', plan: 'pro' }, 'false and undefined leave a field out')
})

t.test('server-originated messages: info() runs handleInfo and returns the update', async (t) => {
  const page = await live(await app(t), '/counter')
  t.teardown(() => page.close())
  const update = await page.info({ set: 42 })
  t.equal(update?.kind, 'patch')
  t.equal(page.text('#count'), '42')
  t.equal(await page.info({ nothing: true }), undefined, 'no change, no update')
  t.equal(page.updates.length, 1)
  ;(page.view as Counter).sendInfo({ set: 7 })
  await page.info({ set: 8 })
  t.same(page.updates.map((u) => u.kind), ['patch', 'patch', 'patch'], 'updates the view sends itself are recorded too')
  t.equal(page.text('#count'), '8')
})

t.test('mountView: a view class in isolation, closed with the page', async (t) => {
  const ended: string[] = []
  class Greeter extends LiveView {
    static template = 'count'
    who = ''
    mount (params: Params, session: unknown): void {
      this.who = `${String(params.name)} ${JSON.stringify(session)} ${String(this.request.headers.cookie)}`
    }

    terminate (reason: string): void { ended.push(reason) }
    context () { return { count: this.who } }
  }
  const page = await mountView(Greeter, {
    root: viewsRoot,
    path: '/hello/:name',
    url: '/hello/ada',
    headers: { cookie: 'sid=1' },
    session: (request) => ({ user: request.headers.cookie })
  })
  t.equal(page.text('#count'), 'ada {"user":"sid=1"} sid=1', 'params, session and the upgrade request\'s cookies')
  t.match(page.sessionId, /^[\w-]{12}$/)
  await page.close()
  t.same(ended, ['closed'])
  await t.rejects(mountView(Greeter, { root: viewsRoot, prefix: 'bad' }), { code: 'FST_LIVEVIEW_OPTIONS_INVALID' })
})

t.test('mistakes in a test get clear errors', async (t) => {
  const a = await app(t)
  const page = await live(a, '/counter')
  t.teardown(() => page.close())
  t.throws(() => page.click('#nowhere'), { name: 'LiveTestError', message: /no element matches '#nowhere' in the page: <main class="counter">/ })
  t.throws(() => page.click('#count'), { message: /<strong id="count"> \(matched by '#count'\) has no lv-click binding/ })
  t.throws(() => page.change('button[lv-click=inc]'), { message: /has no lv-change binding, nor has its form/ })
  t.throws(() => page.submit('#count'), { message: /is not in a form with an lv-submit binding/ })
  t.throws(() => page.text('table'), LiveTestError)
  t.notOk(page.has('table'))
  await t.rejects(live(a, '/private'), { name: 'LiveTestError', statusCode: 302, location: '/login' })
  await t.rejects(live(a, '/plain'), { message: /not a live page/, statusCode: 200 })
  const bare = Fastify()
  t.teardown(() => bare.close())
  await t.rejects(live(bare, '/x'), { message: /not registered/ })

  class Flaky extends LiveView {
    static template = 'count'
    mount (): void { if (this.connected) throw new Error('db down') }
    context () { return { count: 0 } }
  }
  await t.rejects(mountView(Flaky, { root: viewsRoot }), { code: 'FST_LIVEVIEW_MOUNT_FAILED', message: /join of \/ refused/ })
})

t.test('handler values and pushed events: reply.value, page.pushed', async (t) => {
  const outside: boolean[] = []
  class Chat extends LiveView {
    static template = 'count'
    static events = defineEvents<Chat>({ send: true, fail: true, bare: true })
    count = 0
    mount (): void { outside.push(this.pushEvent('early', {})) }
    send (params: { text?: string }): { id: number } {
      this.count++
      this.pushEvent('scroll', { to: this.count })
      return { id: this.count }
    }

    bare (): void {}
    fail (): void {
      this.pushEvent('never', {})
      throw new Error('no')
    }

    context () { return { count: this.count } }
  }
  const page = await mountView(Chat, { root: viewsRoot })
  t.teardown(() => page.close())
  t.same(outside, [false, true], 'the HTTP render has nothing to push to; the connected mount does')
  t.same(page.pushed, [{ event: 'early', payload: {} }], 'pushed from mount: after the join reply')
  const sent = await page.event('send', { text: 'hi' })
  t.same(sent.value, { id: 1 }, "the handler's value comes back with its reply")
  t.equal(sent.kind, 'patch')
  t.same(page.pushed.slice(1), [{ event: 'scroll', payload: { to: 1 } }], 'pushed after the update')
  t.equal((await page.event('bare')).value, undefined, 'no value, nothing extra in the reply')
  ;(await page.event('fail')).assertError('FST_LIVEVIEW_HANDLER_FAILED')
  t.equal(page.pushed.length, 2, "a failed handler's pushes are dropped")
  const view = page.view as Chat
  t.ok(view.pushEvent('tick', { n: 1 }), 'outside a message (a timer, say) it goes at once')
  t.same(page.pushed.at(-1), { event: 'tick', payload: { n: 1 } })
  const cyclic: Record<string, unknown> = {}
  cyclic.self = cyclic
  t.notOk(view.pushEvent('bad', cyclic), 'a payload that is not JSON is refused, not thrown')
  t.notOk(view.pushEvent('', {}), 'an empty event name is refused')
})

t.test('key, focus, input and click-away bindings, as the client sends them', async (t) => {
  class Keys extends LiveView {
    static template = 'keys'
    static events = defineEvents<Keys>({ search: true, submitKey: true, focused: true, left: true, shortcut: true, released: true, navigate: true, closeMenu: true })
    q = 'x'
    log: string[] = []
    #note (name: string, params: Params): void { this.log.push(`${name} ${JSON.stringify(params)}`) }
    search (p: Params): void { this.#note('search', p) }
    submitKey (p: Params): void { this.#note('submitKey', p) }
    focused (p: Params): void { this.#note('focused', p) }
    left (p: Params): void { this.#note('left', p) }
    shortcut (p: Params): void { this.#note('shortcut', p) }
    released (p: Params): void { this.#note('released', p) }
    navigate (p: Params): void { this.#note('navigate', p) }
    closeMenu (p: Params): void { this.#note('closeMenu', p) }
    context () { return { q: this.q, log: this.log } }
  }
  const page = await mountView(Keys, { root: viewsRoot })
  t.teardown(() => page.close())
  ;(await page.input('input[name=q]', { q: 'fish' })).assertChanged()
  await page.keydown('input[name=q]', 'Enter')
  t.throws(() => page.keydown('input[name=q]', 'a'), { message: /listens for lv-key="Enter" only, not 'a'/ })
  await page.focus('input[name=q]')
  await page.blur('input[name=q]')
  t.same((await page.windowKeydown('K')).length, 1, 'lv-key ignores case')
  t.same((await page.windowKeydown('j')).length, 0, 'other keys: nothing sent')
  await page.windowKeyup('Escape')
  await page.keyup('#item', 'ArrowDown')
  await page.clickAway('#menu')
  t.same(page.texts('#log li'), [
    'search {"q":"fish","_target":"q","scope":"all"}',
    'submitKey {"value":"x","key":"Enter","scope":"all"}',
    'focused {"value":"x","scope":"all"}',
    'left {"value":"x","scope":"all"}',
    'shortcut {"key":"K"}',
    'released {"key":"Escape"}',
    'navigate {"key":"ArrowDown"}',
    'closeMenu {"menu":"main"}'
  ])
  t.throws(() => page.focus('#menu'), { message: /has no lv-focus binding/ })
  t.throws(() => page.clickAway('#item'), { message: /has no lv-click-away binding/ })
})

t.test('server push: timers owned by the session, broadcasts through PubSub', async (t) => {
  class Clock extends LiveView {
    static template = 'count'
    static events = defineEvents<Clock>({ stop: true })
    count = 0
    cancel: () => void = () => {}
    mount (): void {
      if (!this.connected) {
        t.notOk(this.subscribe('room'), 'not connected: no subscription')
        return
      }
      this.subscribe('room')
      this.cancel = this.every(60000, { tick: 1 })
      this.after(60000, { tick: 100 })
    }

    stop (): void { this.cancel() }
    handleInfo (msg: { tick?: number, said?: string }): void {
      if (typeof msg.tick === 'number') this.count += msg.tick
      if (typeof msg.said === 'string') this.count = msg.said.length
    }

    context () { return { count: this.count } }
  }
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(liveview, { root: viewsRoot, secret: SECRET })
  app.liveView('/clock', Clock)
  const a = await live(app, '/clock')
  const b = await live(app, '/clock')
  t.teardown(() => a.close())
  t.teardown(() => b.close())

  const ticks = await a.fireTimers()
  t.equal(ticks.length, 2, 'both timers fired, each message its update')
  a.assertText('#count', '101')
  await a.fireTimers()
  a.assertText('#count', '102', 'the one-shot timer is gone, the interval goes on')
  await a.event('stop')
  t.same(await a.fireTimers(), [], 'a cancelled timer fires no more')

  await app.liveViewBroadcast('room', { said: 'hello' })
  t.equal((await a.settle()).length, 1)
  t.equal((await b.settle()).length, 1, 'every subscriber gets it')
  a.assertText('#count', '5')
  b.assertText('#count', '5')
  ;(a.view as Clock).broadcast('room', { said: 'from a view' })
  await b.settle()
  b.assertText('#count', '11', 'a view can broadcast too')

  await a.close()
  await app.liveViewBroadcast('room', { said: 'after a left' })
  await b.settle()
  b.assertText('#count', '12', 'a broadcast to a closed session reaches the others, nothing breaks')
})

t.test('a subscriber that throws does not stop the others; the adapter is an option', async (t) => {
  const { MemoryPubSub } = await import('../plugin.js')
  const errors: string[] = []
  const pubsub = new MemoryPubSub((err) => { errors.push(String(err)) })
  const got: unknown[] = []
  const offBad = pubsub.subscribe('x', () => { throw new Error('bad subscriber') })
  pubsub.subscribe('x', (msg) => { got.push(msg) })
  pubsub.broadcast('x', 1)
  t.same(got, [1])
  t.match(errors[0], /bad subscriber/)
  offBad()
  t.equal(pubsub.subscribers('x'), 1)
  const app = Fastify()
  t.teardown(() => app.close())
  await t.rejects(async () => { await app.register(liveview, { root: viewsRoot, secret: SECRET, pubsub: {} as never }) }, { code: 'FST_LIVEVIEW_OPTIONS_INVALID' })
})

t.test('real timers tick through the mailbox and stop when the session ends', async (t) => {
  let ticks = 0
  class Ticker extends LiveView {
    static template = 'count'
    count = 0
    mount (): void { if (this.connected) this.every(5, 'tick') }
    handleInfo (): void { ticks++; this.count++ }
    context () { return { count: this.count } }
  }
  const page = await mountView(Ticker, { root: viewsRoot })
  for (let i = 0; i < 100 && ticks < 3; i++) await new Promise((resolve) => setTimeout(resolve, 10))
  t.ok(ticks >= 3, `ticked ${ticks} times`)
  await page.settle()
  t.ok(Number(page.text('#count')) >= 3, 'each tick re-rendered the page')
  await page.close()
  const after = ticks
  await new Promise((resolve) => setTimeout(resolve, 50))
  t.equal(ticks, after, 'no tick after the session ended')
})

t.test('navigation within a route: handleParams, lv-patch links, pushPatch; title, flash, redirect', async (t) => {
  const seen: string[] = []
  class Items extends LiveView {
    static template = 'items'
    static events = defineEvents<Items>({ save: true, jump: true, leave: true })
    page = 1
    handleParams (params: Params, url: URL): void {
      this.page = Number(params.page ?? 1)
      this.pageTitle = `Items, page ${this.page}`
      seen.push(`${this.connected ? 'connected' : 'http'} ${url.pathname}${url.search}`)
    }

    save (): void { this.putFlash('info', 'Saved!') }
    jump (): void { this.pushPatch('/items?page=5') }
    leave (): void { this.redirect('/goodbye') }
    context () { return { page: this.page, items: [1, 2, 3].map((n) => `item ${(this.page - 1) * 3 + n}`) } }
  }
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(liveview, { root: viewsRoot, secret: SECRET })
  app.liveView('/items', Items)
  app.liveView('/elsewhere', Counter)
  const page = await live(app, '/items?page=2')
  t.teardown(() => page.close())
  t.same(seen, ['http /items?page=2', 'connected /items?page=2'], 'handleParams after mount, on the HTTP render and on join')
  t.equal(page.title, 'Items, page 2', 'the layout has the title the view set')
  page.assertText('#page', '2')

  ;(await page.click('#next')).assertChanged()
  page.assertText('#page', '3')
  t.equal(page.url, 'http://localhost/items?page=3', 'following an lv-patch link changes the URL')
  t.equal(page.title, 'Items, page 3', 'and the title follows')
  t.equal(seen.length, 3, 'no remount: handleParams only')

  ;(await page.patch('/nowhere')).assertError('FST_LIVEVIEW_PATCH_REFUSED')
  t.equal(page.url, 'http://localhost/items?page=3', 'a URL that is no live route is refused and leaves the URL')

  await page.click('#jump')
  page.assertText('#page', '5')
  t.equal(page.url, 'http://localhost/items?page=5', 'pushPatch from a handler patches the URL')

  await page.click('#save')
  page.assertText('.flash', 'Saved!')
  t.same(page.flash, { info: 'Saved!' })
  await page.click('#next')
  t.notOk(page.has('.flash'), 'the flash is shown once')

  await page.click('#leave')
  t.equal(page.redirectedTo, '/goodbye')
  page.assertText('#page', '6', 'the page still works')

  // Another live route: the server mounts its view on the same socket.
  const ended: string[] = []
  const items = page.view as Items & { terminate?: (r: string) => void }
  items.terminate = (reason: string) => { ended.push(reason) }
  const before = page.version
  const nav = await page.click('#other')
  t.equal(nav.kind, 'html', 'navigating answers with the new view\'s full HTML')
  t.equal(nav.version, before + 1, 'as the next version of the page')
  t.ok(page.view instanceof Counter, 'the other route\'s view is mounted')
  t.same(ended, ['closed'], 'the old view ended')
  t.equal(page.url, 'http://localhost/elsewhere')
  t.equal(page.title, 'Counter')
  ;(await page.click('button[lv-click=inc]')).assertChanged()
  page.assertText('#count', '1', 'the new view is live')
  ;(await page.patch('/items?page=9')).assertChanged()
  page.assertText('#page', '9', 'and back: a fresh Items view at page 9')
})

t.test('pushNavigate from a handler; a navigation refused for a URL that is no live route', async (t) => {
  class Start extends LiveView {
    static template = 'count'
    static events = defineEvents<Start>({ go: true, bad: true })
    go (): void { this.pushNavigate('/counter?start=7') }
    bad (): void { this.pushNavigate('/not-live') }
    context () { return { count: 0 } }
  }
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(liveview, { root: viewsRoot, secret: SECRET })
  app.liveView('/start', Start)
  app.liveView('/counter', Counter)
  const page = await live(app, '/start')
  t.teardown(() => page.close())
  ;(await page.event('bad')).assertError('FST_LIVEVIEW_HANDLER_FAILED')
  await page.event('go')
  await page.settle()
  t.ok(page.view instanceof Counter)
  page.assertText('#count', '7', 'mounted with the URL\'s params')
  t.equal(page.url, 'http://localhost/counter?start=7', 'the browser gets the URL')
})

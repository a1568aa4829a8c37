// Templates and layouts as an app writes them: problems found at boot name the .eta file and
// line (partials included), every literal lv-* binding must name a declared event, and a
// layout gets the page's session data, the app's layout data and its language.
import t, { type Test } from 'tap'
import Fastify from 'fastify'
import liveview, { LiveView, defineEvents } from '../plugin.js'
import { Templates } from '../lib/templates.js'
import { bindingsOf, includesOf } from '../lib/template-check.js'
import { WireClient, tokenOf } from './helpers.js'

const templatesRoot = new URL('./fixtures/templates/', import.meta.url)
const layoutsRoot = new URL('./fixtures/layouts/', import.meta.url)
const SECRET = 'templates-test-secret-long-enough-0123456789'

function viewOf (template: string): typeof LiveView {
  return class Page extends LiveView {
    static template = template
    static events = defineEvents<Page>({})
    context () { return {} }
  }
}

async function appWith (t: Test, options: Record<string, unknown> = {}, logs?: string[]): Promise<ReturnType<typeof Fastify>> {
  const app = Fastify(logs === undefined
    ? { logger: false }
    : { logger: { level: 'warn', stream: { write: (line: string) => { logs.push(line) } } } })
  t.teardown(() => app.close())
  await app.register(liveview, { root: templatesRoot, secret: SECRET, ...options })
  return app
}

t.test('a syntax error names the .eta file and line, not Eta\'s generated code', async (t) => {
  const app = await appWith(t)
  t.throws(() => app.liveView('/s', viewOf('syntax')), {
    code: 'FST_LIVEVIEW_TEMPLATE_INVALID',
    message: /syntax\.eta:2: .*in `<% if \(it\.x \{ %>`/
  })
  const err = (() => { try { app.liveView('/s2', viewOf('syntax')) } catch (e) { return e as Error } })()
  t.notMatch(err?.message, /__eta/, 'none of the generated function in the message')
})

t.test('partials included by literal name are checked at boot too', async (t) => {
  const app = await appWith(t)
  t.throws(() => app.liveView('/b', viewOf('includes-broken')), {
    code: 'FST_LIVEVIEW_TEMPLATE_INVALID',
    message: /included by includes-broken\.eta:3\) does not compile: partials\/broken\.eta:2: /
  })
  t.throws(() => app.liveView('/m', viewOf('includes-missing')), {
    code: 'FST_LIVEVIEW_TEMPLATE_INVALID',
    message: /included by includes-missing\.eta:2\) cannot be found at .*partials\/missing\.eta/
  })
})

t.test('an error while rendering names the .eta line, in production too', async (t) => {
  for (const production of [false, true]) {
    const templates = new Templates(new URL(templatesRoot).pathname, production, false)
    t.throws(() => templates.render('runtime', {}), { message: /runtime\.eta:3[\s\S]*it\.user\.name[\s\S]*Cannot read properties of undefined/ }, `production: ${String(production)}`)
  }
})

t.test('every literal lv-* binding names a declared event: a typo is a boot error with its line', async (t) => {
  const app = await appWith(t)
  class Typo extends LiveView {
    static template = 'typo'
    static events = defineEvents<Typo>({ inc: true })
    inc (): void {}
    context () { return {} }
  }
  t.throws(() => app.liveView('/typo', Typo), {
    code: 'FST_LIVEVIEW_TEMPLATE_INVALID',
    message: "View Typo: template 'typo' typo.eta:4: lv-click=\"icn\" sends an event Typo does not declare (declared: inc)"
  })
})

t.test('an event name with spaces around it is refused: the client would send the spaces', async (t) => {
  const app = await appWith(t)
  class Spaced extends LiveView {
    static template = 'spaced'
    static events = defineEvents<Spaced>({ inc: true })
    inc (): void {}
    context () { return {} }
  }
  t.throws(() => app.liveView('/spaced', Spaced), { code: 'FST_LIVEVIEW_TEMPLATE_INVALID', message: /spaced\.eta:2: lv-click=" inc " has spaces around the event name/ })
})

t.test('bindings in partials count; computed names are skipped; unbound events warn unless { hook: true }', async (t) => {
  const logs: string[] = []
  const app = await appWith(t, {}, logs)
  class Form extends LiveView {
    static template = 'bound'
    static events = defineEvents<Form>({
      inc: true, save: true, shortcut: true, check: true, // bound by name, one in the partial
      preview: { hook: true }, // sent by a hook's pushEvent
      unused: true
    })

    inc (): void {}
    save (): void {}
    shortcut (): void {}
    check (): void {}
    preview (): void {}
    unused (): void {}
    context () { return { changeEvent: 'save' } }
  }
  app.liveView('/form', Form)
  await app.ready()
  const warnings = logs.map((l) => (JSON.parse(l) as { msg: string }).msg)
  t.same(warnings, ["fastify-liveview: Form declares the event 'unused', which no lv-* binding of its templates sends by name; declare it { hook: true } if a hook's pushEvent (or a binding with a computed name) sends it"])

  class Missing extends LiveView {
    static template = 'bound'
    static events = defineEvents<Missing>({ inc: true, save: true, shortcut: true })
    inc (): void {}
    save (): void {}
    shortcut (): void {}
    context () { return {} }
  }
  t.throws(() => app.liveView('/missing', Missing), { message: /partials\/row\.eta:1: lv-blur="check" sends an event Missing does not declare \(declared: inc, save, shortcut\)/ })
  t.throws(() => app.liveView('/bad', class Bad extends LiveView {
    static template = 'typo'
    static events = { inc: { hook: 'yes' } } as never
    inc (): void {}
    context () { return {} }
  }), { code: 'FST_LIVEVIEW_VIEW_INVALID', message: /hook must be true or false/ })
})

class Counter extends LiveView {
  static template = 'counter'
  static title = 'Counter'
  static events = defineEvents<Counter>({ inc: true, add: true })
  count = 0
  inc (): void { this.count++ }
  add (): void {}
  context () { return { count: this.count } }
}

t.test('a layout gets the session data, the layoutData option and the page language', async (t) => {
  const app = Fastify({ logger: false })
  t.teardown(() => app.close())
  await app.register(liveview, {
    root: layoutsRoot,
    secret: SECRET,
    layout: 'layout',
    session: (request) => ({ user: request.headers['x-user'] }),
    layoutData: async (_request, session) => ({ site: `Shop for ${String((session as { user?: string }).user ?? 'guests')}`, title: 'ignored' }),
    lang: (request) => request.headers['accept-language'] === 'pt-BR' ? 'pt-BR' : 'en'
  })
  app.liveView('/counter', Counter)
  const page = await app.inject({ url: '/counter', headers: { 'x-user': 'ada', 'accept-language': 'pt-BR' } })
  t.equal(page.statusCode, 200)
  t.match(page.body, '<html lang="pt-BR">')
  t.match(page.body, '<span id="user">ada</span> · Shop for ada')
  t.match(page.body, '<title>Counter · Shop</title>', "the view's title wins over layoutData's")
  const anonymous = await app.inject({ url: '/counter' })
  t.match(anonymous.body, '<html lang="en">')
  t.match(anonymous.body, '<span id="user">nobody</span> · Shop for guests')
})

t.test('a layout that would never connect, or shows the page as text, is refused at register', async (t) => {
  for (const [layout, problem] of [['no-head', /never outputs `<%~ it\.head %>`/], ['escaped-body', /never outputs `<%~ it\.body %>` raw/], ['no-body', /never outputs `<%~ it\.body %>` raw/]] as const) {
    const app = Fastify({ logger: false })
    t.teardown(() => app.close())
    await t.rejects(async () => { await app.register(liveview, { root: layoutsRoot, secret: SECRET, layout }) }, { code: 'FST_LIVEVIEW_TEMPLATE_INVALID', message: problem }, layout)
  }
})

t.test('a layout whose <head> is a partial that outputs the script tag is fine', async (t) => {
  const app = Fastify({ logger: false })
  t.teardown(() => app.close())
  await app.register(liveview, { root: layoutsRoot, secret: SECRET, layout: 'shared-head' })
  app.liveView('/counter', Counter)
  const page = await app.inject({ url: '/counter' })
  t.equal(page.statusCode, 200)
  // Outside production the development overlay's script follows the client's.
  t.match(page.body, /<head><title>Counter<\/title><script src="\/_live\/client\.[\w-]+\.js" defer><\/script><script src="\/_live\/dev\.[\w-]+\.js" defer><\/script><\/head>/)
})

t.test('lang and layoutData are checked', async (t) => {
  for (const [options, problem] of [
    [{ lang: 'en_US' }, /lang.*language tag/],
    [{ lang: 42 }, /lang.*language tag/],
    [{ layoutData: {} }, /layoutData.*function/]
  ] as const) {
    const app = Fastify({ logger: false })
    t.teardown(() => app.close())
    await t.rejects(async () => { await app.register(liveview, { root: layoutsRoot, secret: SECRET, ...options } as never) }, { code: 'FST_LIVEVIEW_OPTIONS_INVALID', message: problem })
  }
  for (const [options, problem] of [
    [{ lang: () => '"><script>' }, /lang.*returned "\\"><script>", not a language tag/],
    [{ layoutData: () => [] }, /layoutData.*must return an object, got an array/]
  ] as const) {
    const app = Fastify({ logger: false })
    t.teardown(() => app.close())
    await app.register(liveview, { root: layoutsRoot, secret: SECRET, ...options } as never)
    app.liveView('/counter', Counter)
    const page = await app.inject({ url: '/counter' })
    t.equal(page.statusCode, 500)
    t.match(page.json(), { code: 'FST_LIVEVIEW_OPTIONS_INVALID', message: problem })
  }
})

t.test('production: a failing layout or layoutData answers "see the server log", with none of the template or the error', async (t) => {
  for (const options of [{ layout: 'throwing' }, { layoutData: async () => { throw new Error('db down at 10.0.0.7') } }]) {
    const logs: string[] = []
    const app = Fastify({ logger: { level: 'error', stream: { write: (line: string) => { logs.push(line) } } } })
    t.teardown(() => app.close())
    await app.register(liveview, { root: layoutsRoot, secret: SECRET, production: true, ...options })
    app.liveView('/counter', Counter)
    const page = await app.inject({ url: '/counter' })
    t.equal(page.statusCode, 500)
    t.match(page.json(), { code: 'FST_LIVEVIEW_MOUNT_FAILED', message: /see the server log/ })
    t.notMatch(page.body, /throwing\.eta|session\.user|db down|\/fixtures\//, 'nothing of the error in the answer')
    t.match(logs.join(''), 'layout' in options ? /throwing\.eta:3/ : /db down/, 'the log has it (with the .eta line)')
  }
})

t.test('the built-in layout: a language, and no favicon request', async (t) => {
  const app = Fastify({ logger: false })
  t.teardown(() => app.close())
  await app.register(liveview, { root: layoutsRoot, secret: SECRET, lang: 'fr' })
  app.liveView('/counter', Counter)
  const page = await app.inject({ url: '/counter' })
  t.match(page.body, '<html lang="fr">')
  t.match(page.body, '<link rel="icon" href="data:,">', 'an empty icon: the browser asks for no /favicon.ico')
})

t.test('a live navigation to a page of another language is a full load; of the same, live', async (t) => {
  const app = Fastify({ logger: false })
  t.teardown(() => app.close())
  await app.register(liveview, { root: layoutsRoot, secret: SECRET, lang: (request) => request.url.startsWith('/pt/') ? 'pt' : 'en' })
  app.liveView('/:lang/counter', Counter)
  app.liveView('/:lang/other', Counter)
  await app.ready()
  const page = await app.inject({ url: '/en/counter' })
  t.match(page.body, '<html lang="en">')
  const client = new WireClient(await app.injectWS('/_live/ws'))
  t.teardown(() => { client.close() })
  await client.join(tokenOf(page.body), 'http://localhost/en/counter')
  let ref = client.nextRef()
  client.send([ref, 'patch', 'http://localhost/pt/counter'])
  const refused = await client.reply(ref)
  t.same([refused[1], (refused[2] as { code: string }).code, (refused[2] as { url?: string }).url], ['err', 'FST_LIVEVIEW_PATCH_REFUSED', 'http://localhost/pt/counter'], 'the same route in another language: the page loads it in full')
  ref = client.nextRef()
  client.send([ref, 'patch', 'http://localhost/en/other'])
  t.equal((await client.reply(ref))[1], 'mount', 'same language: a live navigation')
  ref = client.nextRef()
  client.send([ref, 'patch', 'http://localhost/pt/counter'])
  t.equal((await client.reply(ref))[1], 'ok', 'another language: answered…')
  t.same(await client.waitFor((f) => f[1] === 'redirect'), [0, 'redirect', '/pt/counter'], '…and the page loads it in full (its layout renders <html lang="pt">)')
  t.match((await app.inject({ url: '/pt/counter' })).body, '<html lang="pt">')
})

t.test('what the boot check reads as a binding or an include, and what it leaves alone', async (t) => {
  const source = [
    '<div data-lv-click="mine" LV-CLICK="inc">', // 1: data-lv-* is not a binding; names are case-insensitive
    '<!-- <button lv-click="old"> --> <%/* lv-click="gone" */%>', // 2: comments
    '<code>lv-click="demo"</code> &lt;b lv-click=&quot;inc&quot;&gt;', // 3: text, escaped samples
    '<%~ `<b lv-click="${ev}">` %> <b lv-click=x<%= it.a %>> <b lv-click=" spaced ">', // 4: computed; spaces kept
    '<script>var s = \' lv-click="js"\'</script><style>.a{} </style>', // 5: script text
    '<a', '  lv-submit=\'save\'', '  lv-window-keydown=key>', // 6-8: multi-line, quotes
    '<%~ include(\'./rows/\' + it.kind) %> <%~ it.include(\'b\') %> <%~ include("./ok", it) %> <%~ includeAsync(`./ok2`) %>', // 9
    '<%/* include(\'./gone\') */%> <!-- <%~ include(\'./old\') %> -->' // 10
  ].join('\n')
  t.same(bindingsOf(source), [
    { attr: 'lv-click', event: 'inc', line: 1 },
    { attr: 'lv-click', event: ' spaced ', line: 4 },
    { attr: 'lv-submit', event: 'save', line: 7 },
    { attr: 'lv-window-keydown', event: 'key', line: 8 }
  ])
  t.same(includesOf(source), [{ name: './ok', line: 9 }, { name: './ok2', line: 9 }])
})

t.test('a route may have its own layout; a live navigation to a route with another layout is a full load', async (t) => {
  const app = Fastify({ logger: false })
  t.teardown(() => app.close())
  await app.register(liveview, { root: layoutsRoot, secret: SECRET, layout: 'layout', session: () => ({}) })
  app.liveView('/shop/a', Counter)
  app.liveView('/shop/b', Counter)
  app.liveView('/plain', Counter, { layout: false })
  app.liveView('/nav', Counter, { layout: 'nav-layout' })
  t.throws(() => app.liveView('/bad', Counter, { layout: 'no-head' }), { code: 'FST_LIVEVIEW_TEMPLATE_INVALID', message: /never outputs `<%~ it\.head %>`/ })
  t.throws(() => app.liveView('/bad2', Counter, { layout: '' }), { code: 'FST_LIVEVIEW_ROUTE_INVALID', message: /layout must be a template name or false/ })
  await app.ready()
  t.match((await app.inject({ url: '/shop/a' })).body, '<title>Counter · Shop</title>', "the plugin's layout")
  t.match((await app.inject({ url: '/plain' })).body, '<link rel="icon" href="data:,">', 'the built-in one')
  t.match((await app.inject({ url: '/nav' })).body, '<nav><a id="to-a"', 'its own')

  const page = await app.inject({ url: '/shop/a' })
  const client = new WireClient(await app.injectWS('/_live/ws'))
  t.teardown(() => { client.close() })
  await client.join(tokenOf(page.body), 'http://localhost/shop/a')
  let ref = client.nextRef()
  client.send([ref, 'patch', 'http://localhost/shop/b'])
  t.equal((await client.reply(ref))[1], 'mount', 'the same layout: a live navigation')
  ref = client.nextRef()
  client.send([ref, 'patch', 'http://localhost/plain'])
  t.equal((await client.reply(ref))[1], 'ok', 'another layout: answered…')
  t.same(await client.waitFor((f) => f[1] === 'redirect'), [0, 'redirect', '/plain'], '…and the page loads it in full')
})

import t, { type Test } from 'tap'
import Fastify from 'fastify'
import liveview, { DEFAULT_LIMITS, LiveView, defineEvents, type LiveViewClass, type LiveViewOptions } from '../plugin.js'
import { resolveOptions } from '../lib/options.js'
import { Counter } from './fixtures/views.js'
import { SECRET, buildApp, viewsRoot } from './helpers.js'

async function registerFails (t: Test, options: unknown, code: string, what: string): Promise<void> {
  const app = Fastify()
  t.teardown(() => app.close())
  await t.rejects(async () => { await app.register(liveview, options as LiveViewOptions) }, { code }, what)
}

t.test('defaults', async (t) => {
  const o = resolveOptions({ root: viewsRoot }, {})
  t.equal(o.production, false, 'development unless NODE_ENV=production')
  t.equal(o.prefix, '/_live')
  t.equal(o.layout, false)
  t.equal(o.tokenMaxAgeMs, 86400000)
  t.same(o.limits, DEFAULT_LIMITS)
  t.same([...o.allowedOrigins], [])
  t.equal(o.generatedSecret, true, 'development generates a secret')
  t.equal(o.secrets[0]?.length, 43)
  t.same(o.session({} as never), {})
  t.equal(resolveOptions({ root: viewsRoot, secret: SECRET }, { NODE_ENV: 'production' }).production, true)
  t.match(resolveOptions({ root: viewsRoot.pathname }).root, /fixtures\/views\/?$/, 'a path works as root')
  t.same(resolveOptions({ root: viewsRoot, limits: { mailbox: 5 } }).limits, { ...DEFAULT_LIMITS, mailbox: 5 })
  t.same([...resolveOptions({ root: viewsRoot, allowedOrigins: ['https://a.example/'] }).allowedOrigins], ['https://a.example'])
})

t.test('no secret: development warns, production refuses to start', async (t) => {
  const lines: string[] = []
  const app = Fastify({ logger: { level: 'warn', stream: { write: (l: string) => { lines.push(l) } } } })
  t.teardown(() => app.close())
  await app.register(liveview, { root: viewsRoot })
  t.match(lines.join(''), /no `secret` given/)
  await registerFails(t, { root: viewsRoot, production: true }, 'FST_LIVEVIEW_SECRET_MISSING', 'production without a secret')
})

t.test('bad options fail register with a coded error', async (t) => {
  const bad: Array<[unknown, string]> = [
    [{ root: viewsRoot, nope: 1 }, 'unknown option'],
    [{ root: '/definitely/not/here' }, 'missing root'],
    [{ root: new URL('https://example.com/views') }, 'non-file URL root'],
    [{ root: 42 }, 'root not a path'],
    [{ root: viewsRoot, secret: 'short' }, 'short secret'],
    [{ root: viewsRoot, secret: [] }, 'empty secret list'],
    [{ root: viewsRoot, secret: [SECRET, 7] }, 'a secret not a string'],
    [{ root: viewsRoot, production: 'yes' }, 'production not a boolean'],
    [{ root: viewsRoot, allowedOrigins: 'https://a.example' }, 'allowedOrigins not a list'],
    [{ root: viewsRoot, allowedOrigins: ['a.example'] }, 'an origin without a scheme'],
    [{ root: viewsRoot, allowedOrigins: ['https://a.example/path'] }, 'an origin with a path'],
    [{ root: viewsRoot, prefix: 'live' }, 'prefix without /'],
    [{ root: viewsRoot, prefix: '/live/' }, 'prefix with a trailing /'],
    [{ root: viewsRoot, session: 'cookie' }, 'session not a function'],
    [{ root: viewsRoot, tokenMaxAgeMs: -1 }, 'negative token age'],
    [{ root: viewsRoot, layout: '' }, 'empty layout'],
    [{ root: viewsRoot, limits: { mailbox: 0 } }, 'zero mailbox'],
    [{ root: viewsRoot, limits: { eventsPerSecond: 1.5 } }, 'fractional limit'],
    [{ root: viewsRoot, limits: { nope: 1 } }, 'unknown limit'],
    [{ root: viewsRoot, limits: 5 }, 'limits not an object'],
    [{ root: viewsRoot, limits: { coalesceBytes: 10, sendBufferBytes: 5 } }, 'coalesce above the send buffer'],
    [{ root: viewsRoot, persistTtlMs: 0 }, 'zero persist TTL'],
    [{ root: viewsRoot, limits: { persistBytes: -1 } }, 'negative persistBytes'],
    [{ root: viewsRoot, watch: 'yes' }, 'watch not a boolean'],
    [{ root: viewsRoot, watch: true, production: true, secret: SECRET }, 'watch in production'],
    [{ root: viewsRoot, presence: 5 }, 'presence not an object'],
    [{ root: viewsRoot, presence: { heartbeatMs: 0 } }, 'a zero heartbeat'],
    [{ root: viewsRoot, presence: { heartbeatMs: 5000, timeoutMs: 5000 } }, 'a presence timeout not longer than the heartbeat']
  ]
  for (const [options, what] of bad) await registerFails(t, options, 'FST_LIVEVIEW_OPTIONS_INVALID', what)
  await registerFails(t, { root: viewsRoot, layout: 'missing-layout' }, 'FST_LIVEVIEW_TEMPLATE_INVALID', 'a layout that does not exist')
})

t.test('early validation: a bad view class fails at declaration, naming the class and the problem', async (t) => {
  const app = await buildApp(t)
  const declare = (View: unknown) => () => app.liveView('/x', View as LiveViewClass)

  class NoTemplate extends LiveView { context () { return {} } }
  t.throws(declare(NoTemplate), { code: 'FST_LIVEVIEW_VIEW_INVALID', message: /NoTemplate.*static template/ })

  class MissingTemplate extends LiveView { static template = 'nope'; context () { return {} } }
  t.throws(declare(MissingTemplate), { code: 'FST_LIVEVIEW_TEMPLATE_INVALID', message: /MissingTemplate: template 'nope' cannot be found/ })

  class BadSyntax extends LiveView { static template = 'syntax'; context () { return {} } }
  t.throws(declare(BadSyntax), { code: 'FST_LIVEVIEW_TEMPLATE_INVALID', message: /BadSyntax: template 'syntax' does not compile/ })

  class Escaping extends LiveView { static template = '../../helpers'; context () { return {} } }
  t.throws(declare(Escaping), { code: 'FST_LIVEVIEW_TEMPLATE_INVALID' }, 'a template outside root')

  class NoHandler extends LiveView { static template = 'counter'; static events = { save: true as const }; context () { return {} } }
  t.throws(declare(NoHandler), { code: 'FST_LIVEVIEW_VIEW_INVALID', message: /NoHandler: event 'save' has no method/ })

  class NotAMethod extends LiveView { static template = 'counter'; static events = { count: true as const }; count = 1; context () { return {} } }
  t.throws(declare(NotAMethod), { code: 'FST_LIVEVIEW_VIEW_INVALID', message: /event 'count' has no method/ })

  for (const name of ['_private', 'Upper', 'constructor', 'toString', 'mount', 'context', 'handleInfo', 'sendInfo', '__proto__', 'has-dash']) {
    const View = class extends LiveView { static template = 'counter'; context () { return {} } }
    Object.defineProperty(View, 'events', { value: { [name]: true } })
    Object.defineProperty(View, 'name', { value: 'Named' })
    t.throws(declare(View), { code: 'FST_LIVEVIEW_VIEW_INVALID', message: /Named: event name/ }, `refuses '${name}'`)
  }

  class BadSpec extends LiveView { static template = 'counter'; static events = { go: 'yes' } as never; go (): void {}; context () { return {} } }
  t.throws(declare(BadSpec), { code: 'FST_LIVEVIEW_VIEW_INVALID', message: /true or \{ schema \}/ })

  class BadSchema extends LiveView {
    static template = 'count'
    static events = defineEvents<BadSchema>({ go: { schema: { type: 'not-a-type' } } })
    go (): void {}
    context () { return {} }
  }
  t.throws(declare(BadSchema), { code: 'FST_LIVEVIEW_VIEW_INVALID', message: /schema of event 'go' does not compile/ })

  class NotAView { static template = 'count' }
  t.throws(declare(NotAView), { code: 'FST_LIVEVIEW_VIEW_INVALID', message: /extends LiveView/ })
  t.throws(declare(undefined), { code: 'FST_LIVEVIEW_VIEW_INVALID' })
  t.throws(() => app.liveView('relative', Counter), { code: 'FST_LIVEVIEW_ROUTE_INVALID' })
})

t.test('development re-reads edited templates; production caches them', async (t) => {
  const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs')
  const { tmpdir } = await import('node:os')
  const { join } = await import('node:path')
  const dir = mkdtempSync(join(tmpdir(), 'lv-views-'))
  t.teardown(() => { rmSync(dir, { recursive: true, force: true }) })
  writeFileSync(join(dir, 'page.eta'), '<p>one</p>')
  class Page extends LiveView { static template = 'page'; context () { return {} } }
  const dev = await buildApp(t, { root: dir }, (app) => { app.liveView('/p', Page) })
  const prod = await buildApp(t, { root: dir, production: true }, (app) => { app.liveView('/p', Page) })
  t.match((await dev.inject('/p')).body, '<p>one</p>')
  t.match((await prod.inject('/p')).body, '<p>one</p>')
  writeFileSync(join(dir, 'page.eta'), '<p>two</p>')
  t.match((await dev.inject('/p')).body, '<p>two</p>', 'development shows the edit on reload')
  t.match((await prod.inject('/p')).body, '<p>one</p>', 'production keeps the cached template')
})

t.test('the plugin registers @fastify/websocket only when the app has not', async (t) => {
  const app = Fastify()
  t.teardown(() => app.close())
  const { default: websocket } = await import('@fastify/websocket')
  await app.register(websocket)
  await app.register(liveview, { root: viewsRoot, secret: SECRET })
  app.liveView('/counter', Counter)
  await t.resolves(async () => { await app.ready() }, 'no FST_ERR_DEC_ALREADY_PRESENT')
})

import t from 'tap'
import { Window } from 'happy-dom'
import { DiffDOM } from 'diff-dom'
import { LiveView, defineEvents } from '../plugin.js'
import { Counter } from './fixtures/views.js'
import { buildApp, connect, rootHtml, type Frame } from './helpers.js'
import { decodePatch } from '../lib/patch-codec.js'

const counterApp = (t: Parameters<typeof buildApp>[0], limits = {}) =>
  buildApp(t, { limits }, (app) => { app.liveView('/counter', Counter) })

function errorCode (frame: Frame): string | undefined {
  return frame[1] === 'err' ? (frame[2] as { code: string }).code : undefined
}

t.test('events update the page through patches that diff-dom applies to exactly the new render', async (t) => {
  const app = await counterApp(t)
  const { client, html } = await connect(t, app, '/counter?start=3')
  const window = new Window()
  t.teardown(() => window.close())
  const root = window.document.createElement('div')
  root.innerHTML = rootHtml(html)
  const dd = new DiffDOM({ compress: true, document: window.document as unknown as Document })
  for (let i = 0; i < 3; i++) {
    const reply = await client.event('inc')
    t.equal(reply[1], 'p', 'a patch')
    t.equal(reply[2], i + 1, 'versions count up')
    t.ok(dd.apply(root as unknown as Element, decodePatch(reply[3]) as never), 'the patch (its wire form decoded) applies')
  }
  const expected = window.document.createElement('div')
  expected.innerHTML = rootHtml((await app.inject('/counter?start=6')).body)
  t.equal(root.innerHTML, expected.innerHTML, 'the DOM equals a fresh render of the new state')
  t.match(root.innerHTML, /<strong id="count">6<\/strong>/)
})

t.test('an event that changes nothing gets an ack with the current version', async (t) => {
  class Still extends LiveView {
    static template = 'count'
    static events = defineEvents<Still>({ noop: true })
    noop (): void {}
    context () { return { count: 1 } }
  }
  const app = await buildApp(t, {}, (app) => { app.liveView('/still', Still) })
  const { client } = await connect(t, app, '/still')
  t.same(await client.event('noop'), [2, 'ok', 0])
})

t.test('200 events sent without waiting run in order, each reply carrying its ref', async (t) => {
  const app = await counterApp(t, { eventsPerSecond: 1000, eventBurst: 1000, mailbox: 500 })
  const { client } = await connect(t, app, '/counter')
  const refs: number[] = []
  for (let i = 0; i < 200; i++) {
    const ref = client.nextRef()
    refs.push(ref)
    // every tenth event is async: order must hold across awaits too
    client.send([ref, 'e', client.mount, i % 10 === 0 ? 'slow' : 'inc', {}])
  }
  await client.waitFor((f) => f[0] === refs[199], 10000)
  const replies = client.frames.filter((f) => f[0] > 1)
  t.equal(replies.length, 200, 'exactly one reply per event')
  t.same(replies.map((f) => f[0]), refs, 'replies come in the order the events were sent')
  t.same(replies.map((f) => f[2]), refs.map((_, i) => i + 1), 'each reply is the next version')
  const page = await app.inject('/counter')
  t.ok(page.statusCode === 200)
  // 20 slow (+10 each) and 180 inc
  const last = replies[199] as Frame
  t.equal(last[1], 'p')
  t.match(JSON.stringify(last[3]), '"380"', 'the final count is 20 × 10 + 180')
})

t.test('coded errors, tied to the ref, and the session keeps working', async (t) => {
  const app = await counterApp(t)
  const { client } = await connect(t, app, '/counter')

  const cases: Array<[string, unknown, string]> = [
    ['unknown event', ['e', 1, 'nope', {}], 'FST_LIVEVIEW_EVENT_UNKNOWN'],
    ['a private name', ['e', 1, '_private', {}], 'FST_LIVEVIEW_EVENT_UNKNOWN'],
    ['constructor', ['e', 1, 'constructor', {}], 'FST_LIVEVIEW_EVENT_UNKNOWN'],
    ['__proto__', ['e', 1, '__proto__', {}], 'FST_LIVEVIEW_EVENT_UNKNOWN'],
    ['toString', ['e', 1, 'toString', {}], 'FST_LIVEVIEW_EVENT_UNKNOWN'],
    ['a lifecycle method', ['e', 1, 'mount', {}], 'FST_LIVEVIEW_EVENT_UNKNOWN'],
    ['context()', ['e', 1, 'context', {}], 'FST_LIVEVIEW_EVENT_UNKNOWN'],
    ['a method not declared as an event', ['e', 1, 'handleInfo', {}], 'FST_LIVEVIEW_EVENT_UNKNOWN'],
    ['invalid params', ['e', 1, 'add', { by: 'lots' }], 'FST_LIVEVIEW_PARAMS_INVALID'],
    ['missing params', ['e', 1, 'add', {}], 'FST_LIVEVIEW_PARAMS_INVALID'],
    ['params not an object', ['e', 1, 'inc', [1, 2]], 'FST_LIVEVIEW_FRAME_MALFORMED'],
    ['name not a string', ['e', 1, 42, {}], 'FST_LIVEVIEW_FRAME_MALFORMED'],
    ['unknown op', ['launch', {}], 'FST_LIVEVIEW_FRAME_MALFORMED'],
    ['second join', ['join', { v: 1, token: 'x', url: 'http://localhost/counter' }], 'FST_LIVEVIEW_ALREADY_JOINED'],
    ['a handler that throws', ['e', 1, 'boom', {}], 'FST_LIVEVIEW_HANDLER_FAILED'],
    ['context() returning a non-object', ['e', 1, 'badContext', {}], 'FST_LIVEVIEW_CONTEXT_INVALID']
  ]
  for (const [what, body, code] of cases) {
    const ref = client.nextRef()
    client.send([ref, ...(body as unknown[])])
    const reply = await client.reply(ref)
    t.equal(errorCode(reply), code, what)
    const ok = await client.event('inc')
    t.equal(ok[1], 'p', `the session works after ${what}`)
  }

  client.send('this is not json')
  t.equal(errorCode(await client.waitFor((f) => f[0] === 0)), 'FST_LIVEVIEW_FRAME_MALFORMED', 'not JSON')
  client.send({ ref: 1 })
  client.send([-1, 'e', client.mount, 'inc', {}])
  await client.waitFor((f) => f[0] === 0 && client.frames.filter((g) => g[0] === 0).length === 3)
  t.equal(client.frames.filter((f) => errorCode(f) === 'FST_LIVEVIEW_FRAME_MALFORMED' && f[0] === 0).length, 3, 'frames without a valid ref get ref 0')

  const coerced = await client.event('add', { by: '5' })
  t.equal(coerced[1], 'p', 'params are coerced by the schema (lv-value-* are strings)')
})

t.test('a failed handler rolls the view data back to before the event', async (t) => {
  let instance: Counter | undefined
  class Tracked extends Counter {
    override mount (params: Record<string, string | string[] | undefined>): void {
      super.mount(params)
      if (this.connected) instance = this
    }
  }
  const app = await buildApp(t, {}, (app) => { app.liveView('/counter', Tracked) })
  const { client } = await connect(t, app, '/counter?start=1')
  await client.event('inc')
  t.same(instance!.history, [2])
  const failed = await client.event('boom')
  t.equal(errorCode(failed), 'FST_LIVEVIEW_HANDLER_FAILED')
  t.match((failed[2] as { message: string }).message, /kaboom/, 'development sends the detail')
  t.equal(instance!.count, 2, 'a number field is restored')
  t.same(instance!.history, [2], 'an array mutated in place is restored')

  const ctxFailed = await client.event('badContext')
  t.equal(errorCode(ctxFailed), 'FST_LIVEVIEW_CONTEXT_INVALID')
  t.equal(instance!.count, 2, 'a context failure rolls back too')
  t.equal(instance!.failContext, false)
  const next = await client.event('inc')
  t.equal(next[1], 'p')
  t.equal(next[2], 2, 'failed events do not use up versions')
})

t.test('a template that fails at render time gets FST_LIVEVIEW_RENDER_FAILED', async (t) => {
  class Fragile extends LiveView {
    static template = 'broken'
    static events = defineEvents<Fragile>({ breakIt: true })
    missing: object | undefined = { deep: 'fine' }
    breakIt (): void { this.missing = undefined }
    context () { return { missing: this.missing } }
  }
  const app = await buildApp(t, {}, (app) => { app.liveView('/fragile', Fragile) })
  const { client } = await connect(t, app, '/fragile')
  const reply = await client.event('breakIt')
  t.equal(errorCode(reply), 'FST_LIVEVIEW_RENDER_FAILED')
  t.same(await client.event('breakIt').then(errorCode), 'FST_LIVEVIEW_RENDER_FAILED', 'the data was rolled back, so it fails again the same way')
})

t.test('production hides error details from the client', async (t) => {
  const app = await buildApp(t, { production: true }, (app) => { app.liveView('/counter', Counter) })
  const { client } = await connect(t, app, '/counter')
  const reply = await client.event('boom')
  t.equal(errorCode(reply), 'FST_LIVEVIEW_HANDLER_FAILED')
  t.notMatch((reply[2] as { message: string }).message, /kaboom/)
})

t.test('rate limit: frames over the burst (the join counts) are refused with a code, nothing else changes', async (t) => {
  const app = await counterApp(t, { eventsPerSecond: 1, eventBurst: 4 })
  const { client } = await connect(t, app, '/counter')
  const refs = [0, 1, 2, 3, 4].map(() => {
    const ref = client.nextRef()
    client.send([ref, 'e', client.mount, 'inc', {}])
    return ref
  })
  const replies = await Promise.all(refs.map((r) => client.reply(r)))
  t.same(replies.map((r) => r[1]), ['p', 'p', 'p', 'err', 'err'])
  t.equal(errorCode(replies[3] as Frame), 'FST_LIVEVIEW_RATE_LIMITED')
})

t.test('mailbox: overflow is refused with a code, replies never dropped', async (t) => {
  const app = await counterApp(t, { mailbox: 2, eventsPerSecond: 100, eventBurst: 100 })
  const { client } = await connect(t, app, '/counter')
  const refs = [0, 1, 2, 3, 4].map(() => {
    const ref = client.nextRef()
    client.send([ref, 'e', client.mount, 'slow', {}])
    return ref
  })
  const replies = await Promise.all(refs.map((r) => client.reply(r)))
  t.equal(replies.length, 5, 'every event got a reply')
  const full = replies.filter((r) => errorCode(r) === 'FST_LIVEVIEW_MAILBOX_FULL')
  t.ok(full.length >= 1, 'some were refused as the mailbox was full')
  t.ok(replies.filter((r) => r[1] === 'p').length >= 2, 'the others ran')
})

t.test('server-originated messages: sendInfo reaches handleInfo through the mailbox and streams a patch', async (t) => {
  const views: Counter[] = []
  class Pushed extends Counter {
    override mount (params: Record<string, string | string[] | undefined>): void {
      super.mount(params)
      if (!this.connected) t.notOk(this.sendInfo({ set: 1 }), 'not connected: sendInfo returns false')
      else views.push(this)
    }
  }
  const app = await buildApp(t, {}, (app) => { app.liveView('/pushed', Pushed) })
  const { client } = await connect(t, app, '/pushed')
  t.ok(views[0]!.sendInfo({ set: 77 }))
  const push = await client.waitFor((f) => f[0] === 0 && f[1] === 'p')
  t.equal(push[2], 1)
  t.match(JSON.stringify(push[3]), '"77"')
  const after = await client.event('inc')
  t.equal(after[2], 2, 'versions continue across pushes and replies')
})

t.test('sync: a client out of sync gets full HTML', async (t) => {
  const app = await counterApp(t)
  const { client } = await connect(t, app, '/counter?start=9')
  await client.event('inc')
  const ref = client.nextRef()
  client.send([ref, 'sync'])
  const reply = await client.reply(ref)
  t.equal(reply[1], 'h')
  t.equal(reply[2], 2)
  t.match(reply[3] as string, /<strong id="count">10<\/strong>/)
})

t.test('terminate is called once when the server shuts down; sessionId is visible to the view', async (t) => {
  const ended: string[] = []
  const ids: string[] = []
  class Ending extends Counter {
    override mount (params: Record<string, string | string[] | undefined>): void {
      super.mount(params)
      ids.push(this.sessionId)
    }

    terminate (reason: string): void { ended.push(reason) }
  }
  const app = await buildApp(t, {}, (app) => { app.liveView('/ending', Ending) })
  const { client } = await connect(t, app, '/ending')
  await app.close()
  t.same(await client.closed, { code: 1001, reason: 'FST_LIVEVIEW_SHUTTING_DOWN' })
  for (let i = 0; i < 20 && ended.length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 10))
  t.same(ended, ['shutdown'])
  t.equal(ids.length, 2, 'mounted on the HTTP render and on join')
  t.not(ids[0], ids[1])
  t.match(ids[1], /^[A-Za-z0-9_-]{12}$/)
})

t.test('a slow async handler is logged with its view and event', async (t) => {
  const lines: string[] = []
  const { default: Fastify } = await import('fastify')
  const { default: liveview } = await import('../plugin.js')
  const { viewsRoot, SECRET } = await import('./helpers.js')
  const stream = { write: (line: string) => { lines.push(line) } }
  const app = Fastify({ logger: { level: 'warn', stream } })
  t.teardown(() => app.close())
  await app.register(liveview, { root: viewsRoot, secret: SECRET, limits: { slowHandlerMs: 5 } })
  app.liveView('/counter', Counter)
  await app.ready()
  const { client } = await connect(t, app, '/counter')
  await client.event('slow')
  const slow = lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.msg === 'live view handler is slow')
  t.ok(slow, 'logged')
  t.equal(slow?.view, 'Counter')
  t.equal(slow?.event, 'slow')
  t.type(slow?.lvSession, 'string', 'the log line carries the session id')
})

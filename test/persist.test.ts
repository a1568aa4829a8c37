// Persisted view state (`static persist`): fields saved after each message, sealed and bound
// to the page instance, the view and the session key, laid over a fresh mount when the page
// rejoins on another process (two apps sharing one store stand for two processes here; the
// Chromium test with two real processes, Redis and kill -9 is browser-persist.test.ts).
import t, { type Test } from 'tap'
import Fastify, { type FastifyInstance } from 'fastify'
import liveview, { type LiveViewOptions } from '../plugin.js'
import { Wizard, calls } from './fixtures/wizard.js'
import { MemoryStore, type LiveStore } from '../lib/store.js'
import { Persistence, PageSaver, persistSpec, recordKey } from '../lib/persist.js'
import { SECRET, WireClient, instanceOf, serverHtml, tokenOf, viewsRoot, type Frame } from './helpers.js'
import { kRuntime } from '../lib/runtime.js'

/** An app as one process of a deployment: its own sessions, the shared store. */
async function processApp (t: Test, store: LiveStore, options: LiveViewOptions = {}, logs?: string[]): Promise<FastifyInstance> {
  const app = Fastify({ logger: logs === undefined ? false : { level: 'warn', stream: { write: (line: string) => { logs.push(line) } } } })
  t.teardown(() => app.close())
  await app.register(liveview, {
    root: viewsRoot,
    secret: SECRET,
    store,
    session: (request) => ({ key: request.headers['x-user'] }),
    ...options
  })
  app.liveView('/wizard', Wizard)
  await app.ready()
  return app
}

async function open (t: Test, app: FastifyInstance, token: string, url: string, user = 'ada'): Promise<{ client: WireClient, join: Frame }> {
  const ws = await app.injectWS('/_live/ws', { headers: { 'x-user': user } })
  const client = new WireClient(ws)
  t.teardown(() => { client.close() })
  const join = await client.join(token, url, { pristine: false })
  return { client, join }
}

/** A fresh page's token, as user ada. */
const pageToken = async (app: FastifyInstance, url: string): Promise<string> => tokenOf((await app.inject({ url, headers: { 'x-user': 'ada' } })).body)
const htmlOf = (f: Frame): string => (f[2] as { html: string }).html
/** What the persisted write of the last message needs to land (it runs after the reply). */
const written = async (): Promise<void> => { await new Promise((resolve) => setTimeout(resolve, 20)) }

t.test('a page rejoining another process continues where it was: mount, the fields laid over, restored(), handleParams', async (t) => {
  const store = new MemoryStore()
  const a = await processApp(t, store)
  const b = await processApp(t, store)
  const page = await a.inject({ url: '/wizard?tab=x', headers: { 'x-user': 'ada' } })
  const token = tokenOf(page.body)
  const first = await open(t, a, token, 'http://localhost/wizard?tab=x')
  await first.client.event('next')
  await first.client.event('named', { name: 'Ada <3' })
  await written()
  first.client.close()

  calls.length = 0
  const second = await open(t, b, token, 'http://localhost/wizard?tab=x')
  t.equal(second.join[1], 'mount')
  t.match(htmlOf(second.join), '<p id="step">2</p><p id="name">Ada &lt;3</p><p id="tab">x</p>', 'the same step and data, on the other process')
  t.same(calls, ['mount connected step=0', 'restored step=2 name=Ada <3', 'handleParams step=2'], 'in order: the connected mount, the fields, restored(), handleParams')
  t.equal((await second.client.event('next'))[1], 'p')
  t.match(serverHtml(b), '<p id="step">3</p>', 'and goes on from there')
})

t.test('restored() re-validates what comes back', async (t) => {
  const store = new MemoryStore()
  const a = await processApp(t, store)
  const token = await pageToken(a, '/wizard')
  const first = await open(t, a, token, 'http://localhost/wizard')
  for (let i = 0; i < 5; i++) await first.client.event('next')
  await written()
  first.client.close()
  const again = await open(t, a, token, 'http://localhost/wizard')
  t.match(htmlOf(again.join), '<p id="step">3</p>', 'step 6 was clamped by restored()')
})

t.test("a token of user A with user B's session restores nothing (and the record does not open for B)", async (t) => {
  const store = new MemoryStore()
  const a = await processApp(t, store)
  const token = await pageToken(a, '/wizard')
  const first = await open(t, a, token, 'http://localhost/wizard')
  await first.client.event('next')
  await written()
  first.client.close()
  const other = await open(t, a, token, 'http://localhost/wizard', 'bob')
  t.equal(other.join[1], 'err', 'the join is refused')
  t.equal((other.join[2] as { code: string }).code, 'FST_LIVEVIEW_SESSION_MISMATCH')
  // Under the join's check, the record itself is bound to the session key.
  const instance = instanceOf(token)
  const p = new Persistence([SECRET], store, 60000, 65536, Date.now)
  const spec = persistSpec('Wizard', Wizard.persist)!
  t.same(await p.load('Wizard', 'ada', instance, spec), { step: 2, name: '' }, "ada's record opens for ada")
  t.equal(await p.load('Wizard', 'bob', instance, spec), undefined, 'not for bob')
  t.equal(await p.load('Other', 'ada', instance, spec), undefined, 'nor for another view')
})

t.test('liveViewDisconnect(key) purges the persisted state of that user', async (t) => {
  const store = new MemoryStore()
  const a = await processApp(t, store)
  const token = await pageToken(a, '/wizard')
  const first = await open(t, a, token, 'http://localhost/wizard')
  await first.client.event('next')
  await written()
  const instance = instanceOf(token)
  const p = new Persistence([SECRET], store, 60000, 65536, Date.now)
  t.ok(await p.load('Wizard', 'ada', instance, persistSpec('Wizard', Wizard.persist)!), 'saved')
  await a.liveViewDisconnect('ada')
  t.equal(await p.load('Wizard', 'ada', instance, persistSpec('Wizard', Wizard.persist)!), undefined, 'gone')
  // A fresh page of the same user starts from mount.
  const fresh = await pageToken(a, '/wizard')
  const again = await open(t, a, fresh, 'http://localhost/wizard')
  t.match(htmlOf(again.join), '<p id="step">1</p>')
})

t.test('a new page (a fresh GET) starts from mount; only the same page instance restores', async (t) => {
  const store = new MemoryStore()
  const a = await processApp(t, store)
  const one = await pageToken(a, '/wizard')
  const first = await open(t, a, one, 'http://localhost/wizard')
  await first.client.event('next')
  await written()
  const two = await pageToken(a, '/wizard')
  const second = await open(t, a, two, 'http://localhost/wizard')
  t.match(htmlOf(second.join), '<p id="step">1</p>', "another tab's page is its own")
})

t.test('records are sealed: tampered or foreign ones restore nothing; secrets rotate', async (t) => {
  const store = new MemoryStore()
  const spec = persistSpec('Wizard', ['step'])!
  const old = 'an-old-secret-that-is-long-enough-0123456789'
  await new Persistence([old], store, 60000, 65536, Date.now).save('Wizard', 'ada', 'i1', 1, '{"step":4}')
  const rotated = new Persistence([SECRET, old], store, 60000, 65536, Date.now)
  t.same(await rotated.load('Wizard', 'ada', 'i1', spec), { step: 4 }, 'opened with the older secret, still listed')
  t.equal(await new Persistence([SECRET], store, 60000, 65536, Date.now).load('Wizard', 'ada', 'i1', spec), undefined, 'not once it is dropped')
  t.equal(await rotated.load('Wizard', 'ada', 'i2', spec), undefined, 'another instance has none')
  const stored = store.get(recordKey('ada', 'i1'))
  t.ok(stored !== undefined && !stored.includes('step'), 'the store holds no plain text')
  t.notMatch(recordKey('ada', 'i1'), 'ada', 'nor the session key in its keys')
  const bytes = Buffer.from(stored!.slice(3), 'base64url')
  bytes[bytes.length - 1]! ^= 1
  store.set(recordKey('ada', 'i1'), 'v1.' + bytes.toString('base64url'), 60000)
  t.equal(await rotated.load('Wizard', 'ada', 'i1', spec), undefined, 'a flipped bit restores nothing')
  store.set(recordKey('ada', 'i1'), 'junk', 60000)
  t.equal(await rotated.load('Wizard', 'ada', 'i1', spec), undefined, 'junk restores nothing')
})

t.test('the shape is versioned: another version is migrated, or not restored', async (t) => {
  const store = new MemoryStore()
  const v1 = new Persistence([SECRET], store, 60000, 65536, Date.now)
  await v1.save('Wizard', 'ada', 'i1', 1, '{"step":2,"name":"x"}')
  t.equal(await v1.load('Wizard', 'ada', 'i1', persistSpec('Wizard', { fields: ['step'], version: 2 })!), undefined, 'v2 without a migration restores nothing')
  const migrated = persistSpec('Wizard', { fields: ['stage'], version: 2, migrate: (d: Record<string, unknown>, from: number) => from === 1 ? { stage: `s${String(d.step)}` } : undefined })!
  t.same(await v1.load('Wizard', 'ada', 'i1', migrated), { stage: 's2' }, 'v2 migrates a v1 record')
  await v1.save('Wizard', 'ada', 'i1', 3, '{"step":9}')
  t.equal(await v1.load('Wizard', 'ada', 'i1', persistSpec('Wizard', ['step'])!), undefined, 'old code meeting a newer record restores nothing')
  t.equal(await v1.load('Wizard', 'ada', 'i1', migrated), undefined, 'not even with a migration (it is for older records)')
})

t.test('a schema checks what comes back: a record that fails it restores nothing', async (t) => {
  class Strict extends Wizard {
    static override persist = { fields: ['step', 'name'], schema: { type: 'object', properties: { step: { type: 'integer', maximum: 3 } }, required: ['step'] } }
  }
  const store = new MemoryStore()
  const app = Fastify({ logger: false })
  t.teardown(() => app.close())
  await app.register(liveview, { root: viewsRoot, secret: SECRET, store, session: (request) => ({ key: request.headers['x-user'] }) })
  app.liveView('/strict', Strict)
  await app.ready()
  const token = await pageToken(app, '/strict')
  const first = await open(t, app, token, 'http://localhost/strict')
  await first.client.event('next')
  await written()
  first.client.close()
  const again = await open(t, app, token, 'http://localhost/strict')
  t.match(htmlOf(again.join), '<p id="step">2</p>', 'step 2 passes the schema: restored')
  for (let i = 0; i < 3; i++) await again.client.event('next')
  await written()
  again.client.close()
  const third = await open(t, app, token, 'http://localhost/strict')
  t.match(htmlOf(third.join), '<p id="step">1</p>', 'step 5 fails it (maximum 3): mount alone')
  t.throws(() => { app.liveView('/bad', class extends Wizard { static override persist = { fields: ['step'], schema: { type: 'nope' } } }) }, { code: 'FST_LIVEVIEW_VIEW_INVALID', message: /does not compile/ })
})

t.test('a snapshot over persistBytes is not saved, logged with its code; the session goes on', async (t) => {
  const logs: string[] = []
  const store = new MemoryStore()
  const a = await processApp(t, store, { limits: { persistBytes: 100 } }, logs)
  const token = await pageToken(a, '/wizard')
  const first = await open(t, a, token, 'http://localhost/wizard')
  t.equal((await first.client.event('next'))[1], 'p')
  await written()
  t.equal(store.size, 2, 'a small one is saved (and its page listed under its user)')
  t.equal((await first.client.event('named', { name: 'x'.repeat(200) }))[1], 'p', 'the event is answered as usual')
  await written()
  const warned = logs.map((l) => JSON.parse(l) as { code?: string, msg: string }).find((l) => l.code === 'FST_LIVEVIEW_PERSIST_TOO_LARGE')
  t.equal(warned?.msg, 'live view persisted state not saved')
  first.client.close()
  const again = await open(t, a, token, 'http://localhost/wizard')
  t.match(htmlOf(again.join), '<p id="step">2</p><p id="name"></p>', 'the rejoin gets the last state that fit')
})

t.test('PageSaver writes in order, skips what is unchanged, and keeps only the latest waiting', async (t) => {
  const wrote: string[] = []
  let release!: () => void
  const failures: unknown[] = []
  const saver = new PageSaver(async (json, n) => {
    wrote.push(`${json}${n}`)
    if (json === 'a') await new Promise<void>((resolve) => { release = resolve })
  }, (err) => { failures.push(err) })
  saver.offer(() => 'a')
  saver.offer(() => 'a')
  saver.offer(() => 'b')
  saver.offer(() => 'c')
  release()
  await saver.idle()
  saver.offer(() => 'c')
  await saver.idle()
  t.same(wrote, ['a0', 'c1'], 'in order, numbered; b replaced by c while a was written; c again is not written')
  const big = { n: 1n }
  saver.offer(() => JSON.stringify(big))
  saver.offer(() => JSON.stringify(big))
  t.equal(failures.length, 1, 'a snapshot JSON cannot make is said once')
  saver.offer(() => 'd')
  await saver.idle()
  t.same(wrote.at(-1), 'd2', 'and saving goes on')
})

t.test('liveViewDisconnect deletes every page of the user, and nothing of others', async (t) => {
  const store = new MemoryStore()
  const p = new Persistence([SECRET], store, 60000, 65536, Date.now)
  for (const i of ['a1', 'a2', 'a3']) await p.save('Wizard', 'ada', i, 1, '{"step":2}', true)
  await p.save('Wizard', 'bob', 'b1', 1, '{"step":2}', true)
  t.equal(store.size, 6, 'a record per page, an index per user')
  await p.purge('ada')
  const spec = persistSpec('Wizard', ['step'])!
  t.same(await Promise.all(['a1', 'a2', 'a3'].map(async (i) => await p.load('Wizard', 'ada', i, spec))), [undefined, undefined, undefined])
  t.same(await p.load('Wizard', 'bob', 'b1', spec), { step: 2 }, "bob's stays")
  t.equal(store.size, 2)
})

t.test('a schema is checked as saved: nothing coerced', async (t) => {
  const store = new MemoryStore()
  const p = new Persistence([SECRET], store, 60000, 65536, Date.now)
  await p.save('W', 'ada', 'i1', 1, '{"step":"2"}')
  const app = Fastify({ logger: false })
  t.teardown(() => app.close())
  await app.register(liveview, { root: viewsRoot, secret: SECRET, store })
  class Typed extends Wizard { static override persist = { fields: ['step'], schema: { type: 'object', properties: { step: { type: 'integer' } } } } }
  app.liveView('/typed', Typed)
  const rt = (app as unknown as Record<symbol, { registry: { match: (u: URL) => { entry: { persist: ReturnType<typeof persistSpec> } } } }>)[kRuntime]!
  const spec = rt.registry.match(new URL('http://localhost/typed')).entry.persist!
  t.equal(await p.load('W', 'ada', 'i1', spec), undefined, '"2" is not an integer (no coercion to 2)')
})

t.test('static persist is checked when the route is declared', async (t) => {
  for (const [bad, why] of [[[], /at least one field/], [['ok', '__proto__'], /not a field name/], [{ fields: ['a'], version: 0 }, /positive integer/], [{ fields: ['a'], migrate: 1 }, /migrate/], ['step', /list of field names|at least one/]] as const) {
    t.throws(() => persistSpec('V', bad), { code: 'FST_LIVEVIEW_VIEW_INVALID', message: why })
  }
  const app = Fastify({ logger: false })
  t.teardown(() => app.close())
  await app.register(liveview, { root: viewsRoot, secret: SECRET, store: { get: () => undefined, set: () => {} } })
  t.throws(() => app.liveView('/wizard', Wizard), { code: 'FST_LIVEVIEW_VIEW_INVALID', message: /no del\(\)/ })
})

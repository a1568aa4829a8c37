// Streams (lib/session/streams.ts): items rendered once, sent as key-addressed operations,
// kept by the client only; the HTTP render shows the first ones; async iterables in pages.
import t from 'tap'
import Fastify from 'fastify'
import liveview, { LiveComponent, LiveView, defineEvents } from '../plugin.js'
import { mountView } from '../testing.js'

const root = new URL('./fixtures/streams/', import.meta.url)

interface Item { id: number, text: string }

async function * cursor (n: number): AsyncGenerator<Item> {
  for (let i = 0; i < n; i++) {
    if (i % 20 === 0) await new Promise((resolve) => setImmediate(resolve))
    yield { id: 1000 + i, text: `row ${i}` }
  }
}

export class Feed extends LiveView {
  static template = 'feed'
  static streams = { feed: 'feed-item' }
  static events = defineEvents<Feed>({ more: true, top: true, del: true, edit: true, reset: true, boom: true, cursor: true, last3: true, nope: true })
  next = 1
  count = 0
  page (n: number): Item[] {
    const items: Item[] = []
    for (let i = 0; i < n; i++, this.next++) items.push({ id: this.next, text: `item ${this.next}` })
    this.count += n
    return items
  }

  mount (): void { this.stream('feed', this.page(3)) }
  more (): void { this.stream('feed', this.page(2)) }
  top (): void { this.streamInsert('feed', { id: 0, text: 'first' }, { at: 0 }) }
  del (): void { this.streamDelete('feed', 2) }
  edit (): void { this.streamInsert('feed', { id: 1, text: 'edited' }) }
  reset (): void { this.stream('feed', [{ id: 99, text: 'fresh' }], { reset: true }) }
  boom (): void {
    this.streamInsert('feed', { id: 50, text: 'never' })
    throw new Error('no')
  }

  cursor (): void { this.stream('feed', cursor(120)) }
  last3 (): void { this.stream('feed', this.page(4), { limit: -3 }) }
  nope (): void { this.streamInsert('nope', { id: 1 }) }
  context (): object { return { count: this.count } }
}

t.test('the HTTP render shows the items mount streamed; the server keeps none', async (t) => {
  const app = Fastify({ logger: false })
  t.teardown(() => app.close())
  await app.register(liveview, { root })
  app.liveView('/feed', Feed)
  const res = await app.inject('/feed')
  t.match(res.body, /<ul id="feed" lv-stream="feed" lv-viewport-bottom="more">\n<li lv-key="1" class="item">item 1 <button lv-click="del" lv-value-id="1">x<\/button><\/li><li lv-key="2"/)
})

t.test('stream operations: insert, at, replace by key, delete, reset, limit', async (t) => {
  const page = await mountView(Feed, { root, path: '/feed' })
  t.teardown(() => page.close())
  const keys = (): string[] => page.stream('feed').map((i) => i.key)
  t.same(keys(), ['1', '2', '3'], "join: the client emptied the container, then mount's items came")
  t.same(page.texts('#feed li.item'), ['item 1 x', 'item 2 x', 'item 3 x'], 'the page shows them')
  await page.click('#more')
  t.same(keys(), ['1', '2', '3', '4', '5'])
  t.equal(page.text('h1'), 'Feed (5)', 'the rest of the page updates as usual')
  await page.click('#top')
  t.same(keys(), ['0', '1', '2', '3', '4', '5'], 'at: 0')
  await page.click('#del')
  t.same(keys(), ['0', '1', '3', '4', '5'])
  await page.click('#edit')
  t.same(page.texts('#feed li.item').slice(0, 2), ['first x', 'edited x'], 'an item with a key already there is replaced in place')
  await page.click('#last3')
  t.same(keys(), ['7', '8', '9'], 'limit -3 keeps the last three')
  await page.click('#reset')
  t.same(keys(), ['99'])
  const boom = await page.click('#boom')
  t.equal(boom.error?.code, 'FST_LIVEVIEW_HANDLER_FAILED')
  t.same(keys(), ['99'], 'a failed handler sends no stream operation')
  const nope = await page.click('#nope')
  t.equal(nope.error?.code, 'FST_LIVEVIEW_HANDLER_FAILED', 'thrown in the handler')
  t.match(nope.error?.message, /FST_LIVEVIEW_STREAM_INVALID|declares no such stream/)
})

t.test('an async iterable goes out in pages of 50 after the message, and events go on', async (t) => {
  const page = await mountView(Feed, { root, path: '/feed' })
  t.teardown(() => page.close())
  const before = page.updates.length
  await page.click('#cursor')
  await page.click('#more')
  for (let i = 0; i < 50 && page.stream('feed').length < 125; i++) await new Promise((resolve) => setTimeout(resolve, 5))
  t.equal(page.stream('feed').length, 125, '3 + 120 + 2 items')
  t.ok(page.updates.length >= before, 'pages arrived as server frames')
})

t.test('it.streams output escaped (<%= %>) is a coded error naming the fix', async (t) => {
  class Escaped extends LiveView {
    static template = 'escaped'
    static streams = { feed: 'feed-item' }
    static events = defineEvents<Escaped>({ del: true })
    del (): void {}
    context (): object { return {} }
  }
  const app = Fastify({ logger: false })
  t.teardown(() => app.close())
  await app.register(liveview, { root })
  app.liveView('/escaped', Escaped)
  const res = await app.inject('/escaped')
  t.equal(res.statusCode, 500)
  t.match(res.body, /FST_LIVEVIEW_STREAM_INVALID|use <%~ it\.streams\.name %>/)
})

t.test('a join finds the page pristine (the token hashes its connected form) and mount streams in its mount frame', async (t) => {
  const page = await mountView(Feed, { root, path: '/feed' })
  t.teardown(() => page.close())
  t.equal(page.joined.kind, 'ok', 'no HTML in the join: the page shows that render')
  t.same(page.joined.mount?.streams?.map((op) => op[2]), ['1', '2', '3'], "mount's items travel in the mount frame")
})

t.test('a component event on a page with a stream sends no stream mark; a container must hold only its mark', async (t) => {
  class Box extends LiveComponent {
    static template = 'box'
    static events = defineEvents<Box>({ bump: true })
    n = 0
    bump (): void { this.n++ }
    context (): object { return { n: this.n } }
  }
  class Mixed extends Feed {
    static template = 'mixed'
    static components = { box: Box }
  }
  const page = await mountView(Mixed, { root, path: '/feed' })
  t.teardown(() => page.close())
  const reply = await page.component(Box, 1).click('button')
  t.notMatch(reply.frame, /\uE000|lvs/, 'the patch carries no mark')
  t.notMatch(page.html, /\uE000/, "the page's HTML neither")
  t.same(page.texts('#feed li.item'), ['item 1 x', 'item 2 x', 'item 3 x'])

  class StaticChild extends Feed { static template = 'static-child' }
  const app = Fastify({ logger: false })
  t.teardown(() => app.close())
  await app.register(liveview, { root })
  app.liveView('/static', StaticChild)
  const res = await app.inject('/static')
  t.equal(res.statusCode, 500)
  t.match(res.body, /FST_LIVEVIEW_STREAM_INVALID|only content of its container/)
})

t.test('an item template that renders two roots is refused in development', async (t) => {
  class TwoRoots extends Feed {
    static streams = { feed: 'two-roots' }
  }
  const app = Fastify({ logger: false })
  t.teardown(() => app.close())
  await app.register(liveview, { root })
  app.liveView('/two', TwoRoots)
  const res = await app.inject('/two')
  t.equal(res.statusCode, 500)
  t.match(res.body, /exactly one root element/)
})

// Live components (lib/component.ts, lib/session/components.ts): their own state and events,
// re-rendered alone; props compared by value; removed when no longer rendered; checked at boot.
import t from 'tap'
import Fastify from 'fastify'
import { LiveComponent, LiveView, defineEvents, type ComponentUpdate } from '../plugin.js'
import { List, Row, log } from './fixtures/component-classes.js'
import liveview from '../plugin.js'
import { mountView } from '../testing.js'

const root = new URL('./fixtures/components/', import.meta.url)

const open = async (t: { teardown: (fn: () => Promise<void>) => void }, View: typeof List = List) => {
  log.length = 0
  const page = await mountView(View, { root })
  t.teardown(() => page.close())
  return page
}

t.test('each component renders one root element with its wire id; the join matches the served page', async (t) => {
  const page = await open(t)
  t.equal(page.joined.kind, 'ok', 'the connected render equals the HTTP one (same ids in the same order)')
  t.same(page.all('li.row').map((el) => el.attribs['lv-cid']), ['1', '2'])
  t.same(log.filter((l) => l.startsWith('mount')), ['mount 1', 'mount 2', 'mount 1', 'mount 2'], 'mounted on the HTTP render and again on join')
})

t.test('a component event runs its handler and re-renders that component alone', async (t) => {
  const page = await open(t)
  const view = page.view as List
  const before = view.renders
  log.length = 0
  const row = page.component(Row, 2)
  const reply = await row.click('.inc')
  t.equal(reply.kind, 'patch')
  t.equal(row.text('.n'), '1')
  t.equal(page.text('#row-1 .n'), '0', 'the other row is untouched')
  t.equal(view.renders, before, "the view's context() did not run")
  t.same(log, ['render 2'], 'only row 2 rendered')
  t.ok(reply.bytes < 120, `a small patch (${reply.bytes} B)`)
  t.equal(row.instance.n, 1)
})

t.test('lv-target as a CSS selector or an lv-cid, as the browser client resolves it', async (t) => {
  const page = await open(t)
  await page.click('#inc-two')
  t.equal(page.text('#row-2 .n'), '1', 'the selector matched row 2: its component ran inc')
  await page.click('#inc-cid-one')
  t.equal(page.text('#row-1 .n'), '1', 'lv-target="1": the component with lv-cid 1')
  const none = await page.click('#inc-none')
  t.equal(none.error?.code, 'FST_LIVEVIEW_TARGET_UNKNOWN', 'a selector that matches nothing')
})

t.test("sendParent reaches the view's handleInfo, which re-renders the page", async (t) => {
  const page = await open(t)
  const row = page.component(Row, 1)
  for (let i = 0; i < 3; i++) await row.click('.inc')
  await page.settle()
  t.equal(page.text('#total'), '1')
  t.equal(row.text('.n'), '3', 'the component keeps its state through the view render')
})

t.test('a failing component event rolls that component back and reports a coded error', async (t) => {
  const page = await open(t)
  const row = page.component(Row, 1)
  await row.click('.inc')
  const reply = await row.click('.fail')
  t.equal(reply.error?.code, 'FST_LIVEVIEW_HANDLER_FAILED')
  t.match(reply.error?.message, /Row \(component 1\)/)
  t.equal(row.instance.n, 1, 'n is back to 1')
  t.equal(row.text('.n'), '1')
  const again = await row.click('.inc')
  t.equal(again.kind, 'patch', 'the session goes on')
  t.equal(row.text('.n'), '2')
})

t.test('a view render reuses unchanged components and updates those with other props', async (t) => {
  const page = await open(t)
  const view = page.view as List
  log.length = 0
  await page.click('#add')
  t.same(log, ['mount 3', 'update 3', 'render 3'], 'only the new row mounts and renders')
  t.equal(page.all('li.row').length, 3)
  log.length = 0
  // Changed in place: the same object, another label.
  ;(view.rows[0] as { label: string }).label = 'uno'
  await page.event('add')
  t.same(log, ['mount 4', 'update 1', 'update 4', 'render 1', 'render 4'], 'the row changed in place is updated')
  t.equal(page.text('#row-1 .label'), 'uno')
})

t.test('components no longer rendered are terminated; events to them are refused, coded', async (t) => {
  const page = await open(t)
  const row2 = page.component(Row, 2)
  const cid = row2.cid
  log.length = 0
  await page.click('#row-2 .remove')
  t.same(log, ['terminate 2'])
  t.equal(row2.alive, false)
  const gone = await page.event('inc', {}, cid)
  t.equal(gone.error?.code, 'FST_LIVEVIEW_TARGET_UNKNOWN')
  const none = await page.event('inc', {}, 0)
  t.equal(none.error?.code, 'FST_LIVEVIEW_TARGET_UNKNOWN')
  const unknown = await page.event('nope', {}, page.component(Row, 1).cid)
  t.equal(unknown.error?.code, 'FST_LIVEVIEW_EVENT_UNKNOWN')
  const bad = await page.event('inc', { x: 1 }, page.component(Row, 1).cid)
  t.equal(bad.error?.code, 'FST_LIVEVIEW_PARAMS_INVALID', "a component's params are checked as a view's")
  t.throws(() => page.component(Row, 2), /no Row with id 2/)
})

t.test('sendUpdate lays props over the component, runs update and renders it alone', async (t) => {
  const page = await open(t)
  const view = page.view as List
  const before = view.renders
  log.length = 0
  const updates = await page.component(Row, 1).sendUpdate({ label: 'first' })
  t.equal(updates.length, 1)
  t.equal(page.text('#row-1 .label'), 'first')
  t.same(log, ['update 1', 'render 1'])
  t.equal(view.renders, before)
  // From the view too.
  view.sendUpdate(Row, 2, { label: 'second' })
  await page.settle()
  t.equal(page.text('#row-2 .label'), 'second')
})

t.test('updateMany runs once per class per render, for the instances that need it', async (t) => {
  const calls: number[][] = []
  class Cell extends LiveComponent<{ v: number }> {
    static template = 'cell'
    static updateMany (updates: Array<ComponentUpdate<Cell>>): void {
      calls.push(updates.map((u) => u.props.v))
      for (const u of updates) u.component.loaded = u.props.v * 10
    }

    loaded = 0
    context (): object { return { id: this.props.id, loaded: this.loaded } }
  }
  class Grid extends LiveView {
    static template = 'grid'
    static components = { cell: Cell }
    static events = defineEvents<Grid>({ bump: true })
    vs = [1, 2, 3]
    bump (): void { this.vs[1] = 20 }
    context (): object { return { vs: this.vs } }
  }
  const page = await mountView(Grid, { root })
  t.teardown(() => page.close())
  t.same(calls, [[1, 2, 3], [1, 2, 3]], 'one call for the three cells, on the HTTP render and on join')
  t.same(page.texts('.cell'), ['10', '20', '30'])
  calls.length = 0
  await page.click('#bump')
  t.same(calls, [[20]], 'one call, for the changed cell only')
  t.same(page.texts('.cell'), ['10', '200', '30'])
})

/** An inner component (its own count) inside an outer one that renders a list of them (nest-*.eta). */
class Inner extends LiveComponent<{ label: string }> {
  static template = 'nest-inner'
  static events = defineEvents<Inner>({ bump: true })
  n = 0
  bump (): void { this.n++ }
  context (): object { return { label: this.props.label, n: this.n } }
}

class Outer extends LiveComponent<{ title: string, kids: string[] }> {
  static template = 'nest-outer'
  static components = { inner: Inner }
  context (): object { return { title: this.props.title, kids: this.props.kids } }
}

t.test('nested components: each re-renders alone; a parent render keeps its children', async (t) => {
  class Nest extends LiveView {
    static template = 'nest-page'
    static components = { outer: Outer }
    static events = defineEvents<Nest>({ rename: true, move: { hook: true } })
    outers = [{ id: 'a', title: 'A', kids: ['x', 'y'] }, { id: 'b', title: 'B', kids: ['z'] }]
    rename (): void { this.outers[1]!.title = 'BB' }
    /** Moves inner `id` to the other outer. */
    move (p: unknown): void {
      const id = (p as { id: string }).id
      const [from, to] = this.outers[0]!.kids.includes(id) ? [this.outers[0]!, this.outers[1]!] : [this.outers[1]!, this.outers[0]!]
      from.kids = from.kids.filter((k) => k !== id)
      to.kids.push(id)
    }

    context (): object { return { outers: this.outers } }
  }
  const page = await mountView(Nest, { root })
  t.teardown(() => page.close())
  t.same(page.texts('.inner'), ['A/x:0+', 'A/y:0+', 'B/z:0+'])
  await page.component(Inner, 'y').click('button')
  t.same(page.texts('.inner'), ['A/x:0+', 'A/y:1+', 'B/z:0+'])
  await page.click('#rename')
  t.same(page.texts('.inner'), ['A/x:0+', 'A/y:1+', 'BB/z:0+'], "the renamed outer's inner got new props; the others kept their state")
  t.equal(page.all('[lv-cid]').length, 5)
  const cid = page.component(Inner, 'y').cid
  await page.event('move', { id: 'y' })
  t.same(page.texts('.inner'), ['A/x:0+', 'BB/z:0+', 'BB/y:1+'], 'moved to a later owner: its state kept')
  t.equal(page.component(Inner, 'y').cid, cid, 'the same component')
  await page.event('move', { id: 'y' })
  t.same(page.texts('.inner'), ['A/x:0+', 'A/y:1+', 'BB/z:0+'], 'moved back to an earlier owner: its state kept')
  t.equal(page.component(Inner, 'y').cid, cid)
})

t.test('render-time problems are coded errors', async (t) => {
  class Two extends LiveComponent {
    static template = 'two-roots'
    context (): object { return {} }
  }
  class TwoPage extends LiveView {
    static template = 'uses-untargeted'
    static components = { u: Two }
    context (): object { return {} }
  }
  class Dup extends LiveView {
    static template = 'dup-page'
    static components = { row: Row }
    static events = defineEvents<Dup>({ remove: true })
    remove (): void {}
    context (): object { return { ids: [1, 2, 1] } }
  }
  const app = Fastify({ logger: false })
  t.teardown(() => app.close())
  await app.register(liveview, { root })
  app.liveView('/two', TwoPage)
  app.liveView('/dup', Dup)
  const res = await app.inject('/two')
  t.equal(res.statusCode, 500)
  t.match(res.body, /FST_LIVEVIEW_COMPONENT_INVALID|exactly one root element/)

  const dup = await app.inject('/dup')
  t.equal(dup.statusCode, 500)
  t.match(dup.body, /FST_LIVEVIEW_COMPONENT_DUPLICATE|Component Row with id '1' is rendered twice/)
})

t.test('the boot check covers component templates, it.component names and lv-target', async (t) => {
  class U extends LiveComponent {
    static template = 'untargeted'
    static events = defineEvents<U>({ save: true })
    save (): void {}
    context (): object { return {} }
  }
  class UsesU extends LiveView {
    static template = 'uses-untargeted'
    static components = { u: U }
    context (): object { return {} }
  }
  class Myself extends LiveView {
    static template = 'myself-in-view'
    static events = defineEvents<Myself>({ go: true })
    go (): void {}
    context (): object { return {} }
  }
  class Undeclared extends LiveView {
    static template = 'undeclared'
    context (): object { return {} }
  }
  class NotAComponent extends LiveView {
    static template = 'uses-untargeted'
    static components = { u: List as never }
    context (): object { return {} }
  }
  const app = Fastify({ logger: false })
  t.teardown(() => app.close())
  await app.register(liveview, { root })
  t.throws(() => app.liveView('/u', UsesU), { code: 'FST_LIVEVIEW_TEMPLATE_INVALID', message: /untargeted\.eta:1: lv-click="save" sends an event UsesU does not declare.*add lv-target="@myself" to send it to U/ })
  t.throws(() => app.liveView('/m', Myself), { code: 'FST_LIVEVIEW_TEMPLATE_INVALID', message: /lv-target="@myself" is for a component's template/ })
  t.throws(() => app.liveView('/n', Undeclared), { code: 'FST_LIVEVIEW_TEMPLATE_INVALID', message: /it\.component\('nope'\) renders a component Undeclared does not declare/ })
  t.throws(() => app.liveView('/x', NotAComponent), { code: 'FST_LIVEVIEW_VIEW_INVALID', message: /is not a class that extends LiveComponent/ })
})

t.test('a view event whose render fails (a duplicate id) is rolled back; the components made for it are gone', async (t) => {
  class Flaky extends LiveView {
    static template = 'dup-page'
    static components = { row: Row }
    static events = defineEvents<Flaky>({ remove: true, grow: true, dup: true, late: true })
    ids = [1, 2]
    remove (): void {}
    grow (): void { this.ids.push(this.ids.length + 1) }
    dup (): void { this.ids.push(7, 7) }
    late (): void { this.ids.push(8, 9, 8) }
    context (): object { return { ids: this.ids } }
  }
  log.length = 0
  const page = await mountView(Flaky, { root })
  t.teardown(() => page.close())
  log.length = 0
  const failed = await page.event('dup')
  t.equal(failed.error?.code, 'FST_LIVEVIEW_COMPONENT_DUPLICATE')
  t.same((page.view as Flaky).ids, [1, 2], "the view's data is back")
  t.same(log, [], 'the duplicate was found before the component made for it mounted: it is dropped, never mounted nor terminated')
  t.throws(() => page.component(Row, 7))
  log.length = 0
  const late = await page.event('late')
  t.equal(late.error?.code, 'FST_LIVEVIEW_COMPONENT_DUPLICATE')
  t.same(log, [], 'nothing mounted (nor terminated): the duplicate was found first')
  const ok = await page.event('grow')
  t.equal(ok.kind, 'patch', 'the session goes on')
  t.same(page.all('li.row').map((el) => el.attribs['lv-cid']), ['1', '2', '6'])
  t.equal(page.all('li.row').length, 3)
})

t.test('a render that fails halfway changes nothing the page shows: new rows go, old props come back', async (t) => {
  class Boom extends LiveComponent<{ explode: boolean }> {
    static template = 'boom'
    context (): object {
      if (this.props.explode) throw new Error('boom')
      return { text: 'fine \uE000 <not a mark>' }
    }
  }
  class Fails extends LiveView {
    static template = 'fail-page'
    static components = { row: Row, boom: Boom }
    static events = defineEvents<Fails>({ remove: true, both: true })
    rows = [{ id: 1, label: 'one' }, { id: 2, label: 'two' }]
    explode = false
    remove (): void {}
    both (): void {
      this.rows[0]!.label = 'NEW'
      this.rows.push({ id: 3, label: 'three' })
      this.explode = true
    }

    context (): object { return { rows: this.rows, explode: this.explode } }
  }
  log.length = 0
  const page = await mountView(Fails, { root })
  t.teardown(() => page.close())
  t.equal(page.text('.boom'), 'fine \uE000 <not a mark>', 'U+E000 in text is escaped (it starts the component mark) and shows as itself')
  t.equal(page.all('.boom')[0]?.attribs['data-cid'], page.all('.boom')[0]?.attribs['lv-cid'], 'it.myself is the lv-cid')
  log.length = 0
  const failed = await page.event('both')
  t.equal(failed.error?.code, 'FST_LIVEVIEW_CONTEXT_INVALID', "Boom's context() threw")
  t.same(log, ['mount 3', 'update 1', 'update 3', 'render 1', 'render 3', 'terminate 3'], 'row 3 was made, then dropped with the failed render')
  const row1 = page.component(Row, 1)
  t.equal(row1.instance.props.label, 'one', "row 1's props are back")
  await row1.click('.inc')
  t.same(page.texts('li.row .label'), ['one', 'two'], 'its own render shows the props the page had, and no row 3')
  t.equal(page.all('li.row').length, 2)
})

t.test('a component moved out of an owner that leaves in the same render keeps its state', async (t) => {
  class Closing extends LiveView {
    static template = 'nest-page'
    static components = { outer: Outer }
    static events = defineEvents<Closing>({ rename: true })
    outers = [{ id: 'a', title: 'A', kids: ['x'] }, { id: 'b', title: 'B', kids: ['z'] }]
    /** Closes outer b; a takes its inner. */
    rename (): void { this.outers = [{ id: 'a', title: 'A', kids: ['x', 'z'] }] }
    context (): object { return { outers: this.outers } }
  }
  const page = await mountView(Closing, { root })
  t.teardown(() => page.close())
  await page.component(Inner, 'z').click('button')
  const reply = await page.click('#rename')
  t.equal(reply.kind, 'patch', 'no duplicate: its old owner left the page')
  t.same(page.texts('.inner'), ['A/x:0+', 'A/z:1+'], 'z kept its state')
  t.equal(page.all('section.outer').length, 1)
})

t.test("the boot check reads a field's form lv-target, as the client does", async (t) => {
  class F extends LiveComponent {
    static template = 'form-target'
    static events = defineEvents<F>({ search: true, clear: true })
    search (): void {}
    clear (): void {}
    context (): object { return {} }
  }
  class UsesF extends LiveView {
    static template = 'uses-form-target'
    static components = { f: F }
    context (): object { return {} }
  }
  class ViewForm extends LiveView {
    static template = 'view-form-target'
    static events = defineEvents<ViewForm>({ search: true })
    search (): void {}
    context (): object { return {} }
  }
  const app = Fastify({ logger: false })
  t.teardown(() => app.close())
  await app.register(liveview, { root })
  t.doesNotThrow(() => app.liveView('/f', UsesF), "the input's and the button's events go to F (their form's lv-target)")
  t.throws(() => app.liveView('/v', ViewForm), { code: 'FST_LIVEVIEW_TEMPLATE_INVALID', message: /@myself/ })
})

t.test('a context field named component is refused; props with back references compare in linear time', async (t) => {
  class Shadow extends LiveView {
    static template = 'list'
    static components = { row: Row }
    static events = defineEvents<Shadow>({ add: true, remove: true, inc: { hook: true } })
    add (): void {}
    remove (): void {}
    inc (): void {}
    context (): object { return { rows: [], total: 0, component: 'mine' } }
  }
  const app = Fastify({ logger: false })
  t.teardown(() => app.close())
  await app.register(liveview, { root })
  app.liveView('/shadow', Shadow)
  const res = await app.inject('/shadow')
  t.equal(res.statusCode, 500)
  t.match(res.body, /FST_LIVEVIEW_CONTEXT_INVALID|hide it\.component/)

  const { snapshot, sameProps } = await import('../lib/session/props.js')
  interface Col { cards: Array<{ col: Col, n: number }> }
  const col: Col = { cards: [] }
  for (let i = 0; i < 200; i++) col.cards.push({ col, n: i })
  const props = { id: 1, card: col.cards[5], col }
  const snap = snapshot(props)
  t.ok(sameProps(snap, props), 'equal to itself')
  col.cards[5]!.n = -1
  t.notOk(sameProps(snap, props), 'a change in place is seen')
})

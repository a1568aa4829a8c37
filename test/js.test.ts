// Client-side commands on the server (lib/js.ts): the builder, what templates output, the
// boot check of the events they push, and the testing API (`page.js`, pushes run for real).
import t from 'tap'
import { Eta } from 'eta'
import { JS, LiveView, defineEvents } from '../plugin.js'
import { mountView } from '../testing.js'
import { bindingsOf } from '../lib/template-check.js'

const root = new URL('./fixtures/js/', import.meta.url)

t.test('a command list is immutable JSON, output escaped', async (t) => {
  const close = JS.hide('#modal')
  const a = close.push('closed')
  const b = close.focus('#open')
  t.same(close.commands, [['hide', { to: '#modal' }]], 'chaining never changes a list')
  t.equal(String(a), '[["hide",{"to":"#modal"}],["push",{"event":"closed"}]]')
  t.same(b.commands.map((c) => c[0]), ['hide', 'focus'])
  t.same(JS.show().commands, [['show', {}]], 'no target: the element itself (nothing undefined on the wire)')
  const all = JS.show('#a', { display: 'flex', transition: 'fade', time: 100 }).hide('#a').toggle('#a', { in: 'x', out: ['a', 'b', 'c'] })
    .addClass('x y', '#a').removeClass('x').toggleClass('y').setAttribute('aria-expanded', 'true', '#b').removeAttribute('hidden')
    .transition('shake', '#c', { time: 50 }).focus().focusFirst('#m').pushFocus().popFocus().dispatch('copied', '#d', { detail: { n: 1 } })
    .push('save', { target: '@myself', loading: '#spin', value: { id: 7 } }).navigate('/a?b=1').patch('?page=2', { replace: true }).announce('Saved', { politeness: 'assertive' })
  t.same(all.commands.map((c) => c[0]), ['show', 'hide', 'toggle', 'addClass', 'removeClass', 'toggleClass', 'setAttribute', 'removeAttribute', 'transition', 'focus', 'focusFirst', 'pushFocus', 'popFocus', 'dispatch', 'push', 'navigate', 'patch', 'announce'])
  t.same(JSON.parse(JSON.stringify(all)), all.commands, 'toJSON: the list')
  t.throws(() => JS.navigate('javascript:alert(1)'), TypeError, 'not http(s): refused when built')
  t.throws(() => JS.patch('data:text/html,x'), TypeError)
  const eta = new Eta()
  const html = eta.renderString('<b lv-click="<%= it.js %>"></b>', { js: JS.push('say', { value: { text: '"><script>x</script>' } }) })
  t.notMatch(html, '<script>', 'a value with markup is escaped')
  t.match(html, '&quot;push&quot;')
})

t.test('the boot check reads the events a command list pushes', async (t) => {
  const source = [
    '<button lv-click="<%= JS.show(\'#m\').push(\'open\') %>">', // 1
    "<form lv-submit='<%= JS.push(\"save\", { target: \"@myself\", loading: \"#s\" }) %>'>", // 2
    '<b lv-click="<%= it.JS.hide().push(`close`, { value: { a: 1 } }).push(\'again\') %>">', // 3
    '<b lv-click="<%= JS.push(it.name) %>"> <b lv-click="<%= other.push(\'x\') %>">', // 4: computed, not a command list
    '<b lv-click="<%= it.JS.push(\'inc\', { value: { by: \'1\', target: \'no\' }, target: \'@myself\' }) %>">', // 5: nested value first
    '<b lv-click="<%= JS.push(\'pick\', { target: 3 }).hide() %>">', // 6: a component id
    '<b lv-click="<%= JS.push(\'deep\', { value: { a: { b: 1 }, target: \'no\' }, target: \'@myself\' }) %>">' // 7: deeper nesting
  ].join('\n')
  t.same(bindingsOf(source), [
    { attr: 'lv-click', event: 'open', line: 1 },
    { attr: 'lv-submit', event: 'save', line: 2, target: '@myself' },
    { attr: 'lv-click', event: 'close', line: 3 },
    { attr: 'lv-click', event: 'again', line: 3 },
    { attr: 'lv-click', event: 'inc', line: 5, target: '@myself' },
    { attr: 'lv-click', event: 'pick', line: 6, target: '3' },
    { attr: 'lv-click', event: 'deep', line: 7, target: '@myself' }
  ])
  class Bad extends LiveView {
    static template = 'bad'
    context (): object { return { JS } }
  }
  await t.rejects(mountView(Bad, { root }), { code: 'FST_LIVEVIEW_TEMPLATE_INVALID', message: /lv-click="nope" sends an event Bad does not declare/ })
})

class Menu extends LiveView {
  static template = 'menu'
  static events = defineEvents<Menu>({ opened: true, closed: true, save: true })
  count = 0
  saved = ''
  seen: Record<string, unknown> = {}
  opened (p: Record<string, unknown>): void { this.count++; this.seen = p }
  closed (): void { this.count-- }
  save (p: Record<string, unknown>): void { this.saved = String(p.q) }
  context (): object { return { JS, opened: this.count, saved: this.saved, note: 'n"1' } }
}

t.test('page.js lists what a binding runs; its pushes run for real', async (t) => {
  const page = await mountView(Menu, { root })
  t.teardown(() => page.close())
  t.same(page.js('#open'), [
    ['show', { to: '#menu', transition: ['ease-out', 'opacity-0', 'opacity-100'] }],
    ['push', { event: 'opened', value: { note: 'n"1' } }]
  ], 'the commands as data (the escaped attribute read back)')
  t.same(page.js('#plain'), [['push', { event: 'closed' }]], 'an event name is its push')
  t.same(page.js('#f', 'submit'), [['push', { event: 'save', loading: '#spin' }]])
  await page.click('#open')
  t.equal(page.text('#state'), '1/', 'the push ran')
  t.same((page.view as Menu).seen, { note: 'n"1' }, 'with its value')
  await page.click('#close')
  t.equal(page.text('#state'), '0/')
  await t.rejects(page.click('#local'), { name: 'LiveTestError', message: /runs commands in the browser only/ })
  await page.submit('#f', { q: 'hello' })
  t.equal(page.text('#state'), '0/hello', "a form's command push sends its fields")
})

// Function components: the `html` tag (TypeScript, typed props, escaped interpolations) and
// Eta partials with slots (capture), as the README's "Function components" shows them.
import t from 'tap'
import { Html, LiveView, defineEvents, html } from '../plugin.js'
import { mountView } from '../testing.js'

const root = new URL('./fixtures/components/', import.meta.url)

const Badge = (p: { count: number, tone?: 'info' | 'done' }): Html =>
  html`<span class="badge ${p.tone ?? 'info'}">${p.count}</span>`

t.test('html escapes interpolations, keeps Html and lists of it, drops null, undefined and false', async (t) => {
  const name = '<script>alert("x")</script> & \'co\''
  t.equal(String(html`<b title="${name}">${name}</b>`), '<b title="&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;co&#39;">&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;co&#39;</b>')
  const items = ['a<', 'b&']
  t.equal(String(html`<ul>${items.map((i) => html`<li>${i}</li>`)}</ul>`), '<ul><li>a&lt;</li><li>b&amp;</li></ul>')
  t.equal(String(html`${null}${undefined}${false}${0}${true}`), '0true')
  t.equal(String(html`<p>${Badge({ count: 3, tone: 'done' })}</p>`), '<p><span class="badge done">3</span></p>')
  t.equal(JSON.stringify({ h: html`<i>x</i>` }), '{"h":"<i>x</i>"}')
  // @ts-expect-error: a prop of the wrong type is a compile error
  Badge({ count: 'three' })
})

t.test('Eta partials take props and slots (capture), and <%= %> leaves Html as it is', async (t) => {
  class Slots extends LiveView {
    static template = 'slots'
    static events = defineEvents<Slots>({ remove: true })
    remove (): void {}
    context (): object {
      return { name: 'Ada & <Bo>', items: [{ name: 'pen', qty: 2 }, { name: '<ink>', qty: 1 }], badge: Badge({ count: 2 }) }
    }
  }
  const page = await mountView(Slots, { root })
  t.teardown(() => page.close())
  t.equal(page.text('#confirm h2'), 'Sure?')
  t.equal(page.text('#confirm p'), 'Delete Ada & <Bo>?', 'the body slot, escaped where the caller escaped it')
  t.equal(page.all('#confirm p strong').length, 1, 'the slot is markup, not text')
  t.equal(page.all('#confirm footer button[lv-click="remove"]').length, 1, 'the footer slot, with its binding checked at boot')
  t.same(page.texts('table tbody td'), ['pen', '2', '<ink>', '1'], 'a row slot, called by the table per row')
  t.same(page.texts('table th'), ['Name', 'Qty'])
  t.equal(page.all('#badge span.badge').length, 1, '<%= Html %> is not escaped again')
  t.equal(page.text('#badge'), '2')
})

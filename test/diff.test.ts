import t from 'tap'
import { Window } from 'happy-dom'
import { DiffDOM } from 'diff-dom'
import { Rendered, diffRendered } from '../lib/diff.js'
import { parseTree } from '../lib/html-tree.js'

// A seeded generator, so a failure names a case that can be replayed.
function rng (seed: number): () => number {
  let s = seed >>> 0
  return () => {
    s = (s + 0x6D2B79F5) >>> 0
    let x = Math.imul(s ^ (s >>> 15), 1 | s)
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296
  }
}

const WORDS = ['alpha', 'beta', 'Fish &amp; chips', '&lt;tag&gt;', '&quot;quoted&quot;', 'it&#39;s', '42', 'ünïcödé', '&nbsp;', '']

interface Model { title: string, items: Array<{ id: number, text: string, done: boolean }>, rows: number[], note: string, choice: number, svgR: number, comment: string, cls: string }

function randomModel (r: () => number): Model {
  const pick = <T>(a: T[]): T => a[Math.floor(r() * a.length)] as T
  const n = Math.floor(r() * 8)
  return {
    title: pick(WORDS),
    items: Array.from({ length: n }, (_, i) => ({ id: Math.floor(r() * 20), text: pick(WORDS), done: r() < 0.5 })).filter((x, i, a) => a.findIndex((y) => y.id === x.id) === i),
    rows: Array.from({ length: Math.floor(r() * 5) }, () => Math.floor(r() * 100)),
    note: pick(WORDS),
    choice: Math.floor(r() * 3),
    svgR: Math.floor(r() * 10),
    comment: pick(['a', 'b', '']),
    cls: pick(['', 'x', 'x y'])
  }
}

function mutate (r: () => number, m: Model): Model {
  const next: Model = JSON.parse(JSON.stringify(m)) as Model
  const fresh = randomModel(r)
  const which = Math.floor(r() * 8)
  if (which === 0) next.title = fresh.title
  if (which === 1 && next.items.length > 0) next.items.splice(Math.floor(r() * next.items.length), 1)
  if (which === 2) next.items.splice(Math.floor(r() * (next.items.length + 1)), 0, { id: 100 + Math.floor(r() * 100), text: fresh.note, done: r() < 0.5 })
  if (which === 3) next.items.reverse()
  if (which === 4 && next.items.length > 0) { const it = next.items[0]!; it.done = !it.done; it.text = fresh.title }
  if (which === 5) next.rows = fresh.rows
  if (which === 6) { next.note = fresh.note; next.choice = fresh.choice }
  if (which === 7) { next.svgR = fresh.svgR; next.comment = fresh.comment; next.cls = fresh.cls }
  return next
}

function render (m: Model): string {
  return `
  <section class="${m.cls}">
    <h1>${m.title}</h1>
    <!--${m.comment}-->
    <ul>
      ${m.items.map((i) => `<li id="item-${i.id}" class="${i.done ? 'done' : ''}"><input type="checkbox" ${i.done ? 'checked' : ''}> ${i.text}</li>`).join('\n      ')}
    </ul>
    <table>
      ${m.rows.map((v, i) => `<tr><td>${i}</td><td>${v}</td></tr>`).join('')}
    </table>
    <form>
      <input name="note" value="${m.note}">
      <textarea name="long">${m.note}</textarea>
      <select name="choice">${[0, 1, 2].map((c) => `<option value="${c}" ${c === m.choice ? 'selected' : ''}>${c}</option>`).join('')}</select>
    </form>
    <svg viewBox="0 0 10 10"><circle cx="5" cy="5" r="${m.svgR}"></circle></svg>
    <p>${m.note} <b>${m.items.length}</b></p>
  </section>`
}

t.test('patches applied with diff-dom to the old DOM give exactly the new render (property test)', async (t) => {
  const window = new Window()
  t.teardown(() => window.close())
  const document = window.document as unknown as Document
  const dd = new DiffDOM({ compress: true, document })
  const CASES = 400
  let failures = 0
  for (let seed = 1; seed <= CASES; seed++) {
    const r = rng(seed)
    let model = randomModel(r)
    const root = document.createElement('div')
    root.innerHTML = render(model)
    let prev = new Rendered(render(model))
    for (let step = 0; step < 3; step++) {
      model = mutate(r, model)
      const html = render(model)
      const next = new Rendered(html)
      const patch = diffRendered(prev, next) ?? []
      const applied = dd.apply(root, patch as never)
      const expected = document.createElement('div')
      expected.innerHTML = html
      const same = applied && root.innerHTML === expected.innerHTML && formState(root) === formState(expected)
      if (!same) {
        failures++
        if (failures <= 3) t.fail(`seed ${seed} step ${step}`, { found: root.innerHTML, wanted: expected.innerHTML })
      }
      prev = next
    }
  }
  t.equal(failures, 0, `${CASES * 3} patches applied exactly`)
})

// Options are left out: happy-dom 21 parses `<option selected>` as selecting the option
// before it. Their `selected` attribute is compared through innerHTML.
function formState (el: Element): string {
  return [...el.querySelectorAll('input, textarea')].map((n) => {
    const f = n as HTMLInputElement
    return f.type === 'checkbox' ? String(f.checked) : f.value
  }).join('|')
}

t.test('the server tree matches the browser\'s parse: entities decoded, tables get tbody, form state set', async (t) => {
  const tree = parseTree('<table><tr><td>a &amp; b &#39;c&#39;</td></tr></table><input type="checkbox" checked><input value="x &quot;y&quot;"><textarea>\nhi</textarea><option selected>o</option><svg viewBox="0 0 1 1"><foreignObject></foreignObject></svg>')
  const [table, box, input, area, option, svg] = tree.childNodes!
  t.equal(table!.childNodes![0]!.nodeName, 'TBODY', 'the parser adds tbody as browsers do')
  t.equal(table!.childNodes![0]!.childNodes![0]!.childNodes![0]!.childNodes![0]!.data, "a & b 'c'", 'entities decoded in text')
  t.equal(box!.checked, true)
  t.equal(input!.value, 'x "y"', 'entities decoded in attributes')
  t.equal(area!.value, 'hi', 'textarea value, leading newline dropped')
  t.equal(option!.selected, true)
  t.equal(svg!.nodeName, 'svg', 'SVG keeps its case')
  t.equal(svg!.attributes!.viewBox, '0 0 1 1', 'and its attribute case')
  t.equal(svg!.childNodes![0]!.nodeName, 'foreignObject')
})

t.test('no change, no patch; patches carry no old values', async (t) => {
  const a = new Rendered('<p>same</p>')
  t.equal(diffRendered(a, new Rendered('<p>same</p>')), undefined)
  const patch = diffRendered(new Rendered('<p>' + 'old'.repeat(50) + '</p>'), new Rendered('<div>new</div>'))!
  t.notMatch(JSON.stringify(patch), 'oldold', 'replaced subtrees are not sent back')
})

import * as protocol from '../lib/protocol.js'
import { DIFF_CONST_NAMES } from '../lib/protocol.js'
import t from 'tap'
import { Window } from 'happy-dom'
import { DiffDOM } from 'diff-dom'
import { FULL_HTML, Rendered, diffPaths, diffRendered } from '../lib/diff.js'
import { pack, unpack } from '../lib/rendered.js'
import { parseTree } from '../lib/html-tree.js'
import { TreeBuilder, type INode } from '../lib/tree-index.js'
import { scan } from '../lib/scan.js'
import { REORDER, type Patch } from '../lib/protocol.js'
import { decodePatch, encodePatch } from '../lib/patch-codec.js'
import { mutate, randomModel, render, rng } from './fixtures/pages.js'
import { defaultTreeAdapter, html as parse5Html, parseFragment, serialize } from 'parse5'

// happy-dom's parser is not the HTML standard's for markup the parser must repair (tables
// without tbody, a div in a p): DOMs are built from parse5's serialisation of the spec
// parse, which happy-dom reads as written. Chromium checks the raw markup (browser tests).
t.setTimeout(180000)

const context = defaultTreeAdapter.createElement('div', parse5Html.NS.HTML, [])
const canonical = (html: string): string => serialize(parseFragment(context, html, {}))

t.test('patches applied with diff-dom to the old DOM give exactly the new render (property test)', async (t) => {
  const window = new Window()
  t.teardown(() => window.close())
  const document = window.document as unknown as Document
  const dd = new DiffDOM({ compress: true, document })
  // The unit tier (npm run test:unit, LV_QUICK=1) runs fewer cases.
  const CASES = process.env.LV_QUICK === '1' ? 100 : 300
  const STEPS = 4
  let failures = 0
  let indexFailures = 0
  let fast = 0
  let clean = 0
  for (let seed = 1; seed <= CASES; seed++) {
    const r = rng(seed)
    let model = randomModel(r)
    const root = document.createElement('div')
    root.innerHTML = canonical(render(model))
    let prev = new Rendered(render(model))
    for (let step = 0; step < STEPS; step++) {
      // Often several places at once (an item and a count elsewhere…): each is its own region.
      model = r() < 0.5 ? mutate(r, model) : mutate(r, mutate(r, model))
      const html = render(model)
      const next = new Rendered(html)
      const scannedBefore = diffPaths.scan
      const patch = diffRendered(prev, next)
      if (!model.messy && diffPaths.scan > scannedBefore) fast++
      if (!model.messy && html !== prev.html) clean++
      if (patch === FULL_HTML) failures++
      let applied: boolean
      try {
        // Through the wire form, as the client gets it.
        applied = patch === undefined || patch === FULL_HTML || applyAll(dd, root, decodePatch(JSON.parse(JSON.stringify(encodePatch(patch)))))
      } catch {
        applied = false
      }
      const expected = document.createElement('div')
      expected.innerHTML = canonical(html)
      // The markup; what fields show follows from it on the client (fields.ts), checked in
      // Chromium with the client's own apply (browser-diff-fuzz.test.ts).
      const same = applied && root.innerHTML === expected.innerHTML
      if (!same) {
        failures++
        if (failures <= 3) t.fail(`seed ${seed} step ${step}`, { found: root.innerHTML, wanted: expected.innerHTML, patch: JSON.stringify(patch) })
      }
      // The index the diff left for the next one must equal a fresh scan of the new render.
      const kept = next.takeIndex()
      if (kept !== undefined) {
        const fresh = new TreeBuilder()
        scan(html, fresh)
        if (dumpIndex(kept) !== dumpIndex(fresh.roots[0]!)) {
          indexFailures++
          if (indexFailures <= 3) t.fail(`index, seed ${seed} step ${step}`, { kept: dumpIndex(kept), fresh: dumpIndex(fresh.roots[0]!) })
        }
        next.giveIndex(kept)
      }
      prev = next
    }
  }
  t.equal(indexFailures, 0, 'the index updated in place always equals a fresh scan')
  t.equal(failures, 0, `${CASES * STEPS} patches applied exactly`)
  t.equal(fast, clean, `every well-formed page took the scan's path (${fast} of ${clean})`)
})

/** diff-dom's apply, and our own `reorder` action as the client applies it. */
function applyAll (dd: DiffDOM, root: Element, patch: Patch): boolean {
  for (const action of patch) {
    if (action['14'] === REORDER) {
      let node: Node = root
      for (const i of action['15'] as number[]) node = node.childNodes[i] as Node
      const from = action['21'] as number
      const order = action['24'] as number[]
      const kids = [...node.childNodes].slice(from, from + order.length)
      const after = node.childNodes[from + order.length] ?? null
      for (const k of order) node.insertBefore(kids[k] as Node, after)
    } else if (!dd.apply(root, [action] as never)) {
      return false
    }
  }
  return true
}

/** A tree's shape and lengths, and its cached child offsets checked against their lengths. */
function dumpIndex (node: INode): string {
  const kids = node.kids ?? []
  if (node.rel !== undefined) {
    let at = 0
    kids.forEach((k, i) => { if (node.rel![i] !== at) throw new Error(`stale offset of child ${i} in ${node.name}`); at += k.len })
  }
  const own = [node.kind, node.name, node.ns, node.ignored ? 1 : 0, node.len, node.open, node.close].join(',')
  return kids.length === 0 ? own : `${own}(${kids.map(dumpIndex).join(' ')})`
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

t.test('lv-update="ignore": never patched inside, never replaced from around', async (t) => {
  const page = (chart: string, note: string, wrap = 'section') =>
    `<${wrap} class="w"><div id="chart" lv-update="ignore"><canvas data-v="${chart}"></canvas></div><p>${note}</p></${wrap}>`
  const step = (a: string, b: string) => diffRendered(new Rendered(a), new Rendered(b))
  t.same(step(page('1', 'x'), page('2', 'x')), [], 'a change inside the region sends nothing')
  const beside = step(page('1', 'x'), page('1', 'y')) as Array<Record<string, unknown>>
  t.ok(Array.isArray(beside) && beside.length > 0, 'a change beside it is patched')
  t.notMatch(JSON.stringify(beside), 'canvas', 'without touching the region')
  t.equal(step(page('1', 'x'), page('1', 'x', 'article')), FULL_HTML, 'replacing an element around it takes full HTML')
  t.equal(step(`<table><tr><td>${page('1', 'x', 'div')}</td></tr></table>`, `<table><tr><td>${page('1', 'y', 'div')}</td></tr></table>`), FULL_HTML,
    'markup the scan leaves to whole trees: full HTML when a region is there')
})

t.test('keyed children that only moved: relocations, not replacements', async (t) => {
  const window = new Window()
  t.teardown(() => window.close())
  const document = window.document as unknown as Document
  const dd = new DiffDOM({ compress: true, document })
  const render = (xs: number[]) => `<ul>${xs.map((i) => `<li id="item-${i}">Item <b>${i}</b></li>`).join('')}</ul>`
  const items = Array.from({ length: 120 }, (_, i) => i)
  const swapped = [...items]
  ;[swapped[5], swapped[100]] = [swapped[100] as number, swapped[5] as number]
  const patch = diffRendered(new Rendered(render(items)), new Rendered(render(swapped))) as Array<Record<string, unknown>>
  t.equal(patch.length, 2, 'two rows swapped: two moves')
  t.ok(patch.every((a) => a['14'] === 4), 'relocateGroup actions')
  const root = document.createElement('div')
  root.innerHTML = render(items)
  const kept = root.querySelector('#item-100')
  t.ok(dd.apply(root, patch as never))
  t.equal(root.innerHTML, render(swapped))
  t.equal(root.querySelector('#item-100'), kept, 'the moved element is the same node')
  const changedToo = diffRendered(new Rendered(render(items)), new Rendered(render(swapped).replace('Item <b>7</b>', 'Item <b>seven</b>'))) as Array<Record<string, unknown>>
  t.ok(changedToo.some((a) => a['14'] !== 4), 'moved and changed: diffed as usual')
})

t.test('a packed render (a hibernated session\'s) unpacks to its HTML exactly, whatever characters it holds, and diffs as before', async (t) => {
  const samples = ['', 'plain', '<p>a − b</p>', '\0 nul, é, ÿ, Ā, 😀 and a lone \ud800', '<ul>' + '<li>x</li>'.repeat(2000) + '</ul>']
  for (const html of samples) t.equal(unpack(pack(html)), html, JSON.stringify(html.slice(0, 30)))
  t.ok(pack(samples[4]!).length < 200, 'a repetitive page packs small')
  const prev = new Rendered(unpack(pack('<main><p id="a">1</p><p>−</p></main>')))
  const next = new Rendered('<main><p id="a">2</p><p>−</p></main>')
  t.same(diffRendered(prev, next), [{ 14: 3, 15: [0, 0, 0], 17: '2' }], 'an unpacked render diffs (its index rebuilt)')
})

t.test('several places change at once: each is diffed in its own element, nothing between them is sent or re-read', async (t) => {
  const window = new Window()
  t.teardown(() => window.close())
  const document = window.document as unknown as Document
  const dd = new DiffDOM({ compress: true, document })
  const page = (items: Array<[number, boolean]>, badge: string, note = 'ok') => `<main>
  <header><h1>Todos</h1><span id="open" class="badge">${badge}</span></header>
  <ul id="list">
${items.map(([id, done]) => `    <li id="todo-${id}" class="${done ? 'done' : 'open'}"><label><input type="checkbox"${done ? ' checked' : ''}> Item ${id}</label></li>`).join('\n')}
  </ul>
  <footer><p class="note">${note}</p></footer>
</main>`
  const items = Array.from({ length: 300 }, (_, i): [number, boolean] => [i, false])
  const check = (label: string, before: string, after: string): Array<Record<string, unknown>> => {
    const patch = diffRendered(new Rendered(before), new Rendered(after)) as Array<Record<string, unknown>>
    const root = document.createElement('div')
    root.innerHTML = before
    t.ok(Array.isArray(patch) && applyAll(dd, root, patch as Patch), `${label}: applies`)
    const expected = document.createElement('div')
    expected.innerHTML = after
    t.equal(root.innerHTML, expected.innerHTML, `${label}: gives the new render`)
    return patch
  }
  const toggled = items.map(([id, done]): [number, boolean] => [id, id === 150 ? !done : done])
  const toggle = check('an item in the middle and a count in the header', page(items, '300'), page(toggled, '299'))
  t.ok(JSON.stringify(toggle).length < 300, `two sites, a small patch (${JSON.stringify(toggle).length} B)`)
  t.notMatch(JSON.stringify(toggle), /todo-(149|151)/, 'the neighbours are not sent')
  const three = check('three far-apart places', page(items, '300', 'a'), page(toggled, '299', 'b'))
  t.equal(three.filter((a) => a['14'] === 3).length, 2, 'two text changes (the count, the note)')
  const appended = [...items.slice(1), [999, false] as [number, boolean]]
  const append = check('the oldest dropped, one appended, a badge', page(items, '300'), page(appended, '1 new'))
  t.ok(JSON.stringify(append).length < 500, `a small patch (${JSON.stringify(append).length} B)`)
  t.notMatch(JSON.stringify(append), /todo-(1|2|298)"/, 'no other item is sent')
  const moved = [...items]
  moved.splice(200, 0, moved.splice(20, 1)[0]!)
  const move = check('one item moved', page(items, '300'), page(moved, '300'))
  t.equal(move.length, 1, 'one action')
  t.equal(move[0]!['14'], 4, 'a relocation (the item and its white space): the node keeps its identity')
  const reversed = check('a reversed list', page(items, '300'), page([...items].reverse(), '300'))
  t.ok(JSON.stringify(reversed).length < page(items, '300').length / 4, `one reorder, far smaller than the page (${JSON.stringify(reversed).length} B)`)
  t.ok(reversed.some((a) => a['14'] === REORDER))
})

t.test('the wire form of a patch: arrays, shared route prefixes, common names as numbers; it decodes to the patch', async (t) => {
  const before = '<ul id="l"><li id="a" class="x">A</li></ul><p class="n">1</p>'
  const after = '<ul id="l"><li id="a" class="y">A</li><li id="b"><input type="checkbox" checked> B</li></ul><p class="n">2</p>'
  const patch = diffRendered(new Rendered(before), new Rendered(after)) as Patch
  const wire = encodePatch(patch)!
  t.ok(JSON.stringify(wire).length < JSON.stringify(patch).length * 0.7, `smaller than the object form (${JSON.stringify(wire).length} vs ${JSON.stringify(patch).length} B)`)
  const plain = (p: unknown): unknown => JSON.parse(JSON.stringify(p).replaceAll(',"childNodes":[]', ''))
  t.same(plain(decodePatch(JSON.parse(JSON.stringify(wire)))), plain(patch), 'decodes to the same actions (form state derived again)')
  t.same(encodePatch([{ 14: 3, 15: [0, 1], 17: 'x' }, { 14: 3, 15: [0, 1, 2], 17: 'y' }]), [[3, [0, 0, 1], 'x'], [3, [2, 2], 'y']], 'a route repeats only what differs from the one before')
  const added = [0, 1, 2].map((i) => ({ 14: 6, 15: [1, 4 + i], 18: { nodeName: '#text', data: `t${i}` } }))
  t.same(encodePatch(added), [[6, [0, 1, 4], 't0', 't1', 't2']], 'nodes added one after another: one action')
  t.same(decodePatch(encodePatch(added)), added, 'and back')
  t.equal(encodePatch([{ 14: 42, 15: [] }]), undefined, 'an action it does not know: no wire form (the session sends full HTML)')
  for (const bad of [null, {}, [[3]], [[3, [1, 0], 'x']], [[3, [0, -1], 'x']], [[6, [0, 0], [999, 0]]], [[6, [0, 0], ['DIV', 'x']]], [[77, [0], 1]]]) {
    t.throws(() => decodePatch(bad), `malformed: ${JSON.stringify(bad)} (the client resyncs)`)
  }
})

t.test('an insertion right before a change of the element after it: both are sent', async (t) => {
  const window = new Window()
  t.teardown(() => window.close())
  const document = window.document as unknown as Document
  const dd = new DiffDOM({ compress: true, document })
  const before = '<input id="f8" type="color" value="500" class="b">'
  const after = '<meter>m</meter><input id="f8" type="color" value="500" class="b" disabled>'
  const patch = diffRendered(new Rendered(before), new Rendered(after)) as Patch
  const root = document.createElement('div')
  root.innerHTML = before
  t.ok(applyAll(dd, root, patch))
  const expected = document.createElement('div')
  expected.innerHTML = after
  t.equal(root.innerHTML, expected.innerHTML)
  t.match(root.innerHTML, /^<meter>m<\/meter><input[^>]* disabled/)
})

t.test('the Diff enum numbers diff-dom names as DIFF_CONST_NAMES does (the client has only the numbers)', async (t) => {
  const Diff = (protocol as unknown as Record<string, Record<string, number>>).Diff!
  t.same(DIFF_CONST_NAMES.map((name) => Diff[name]), DIFF_CONST_NAMES.map((_, i) => i))
  t.equal(Object.keys(Diff).filter((k) => Number.isNaN(Number(k))).length, DIFF_CONST_NAMES.length, 'and has no other names')
})

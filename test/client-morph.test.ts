// The browser client's DOM code (client/morph.ts, client/apply.ts) under happy-dom.
//
// The client is type-checked by client/tsconfig.json (DOM lib), not by this project's
// tsconfig (Node lib): it is loaded here through specifiers tsc does not follow.
// morph.ts runs from its source. apply.ts imports diff-dom's TypeScript sources, which
// Node cannot load, so it is bundled with esbuild as the real build does.
import t from 'tap'
import { build } from 'esbuild'
import { Window } from 'happy-dom'
import { DiffDOM } from 'diff-dom'
import { SOURCES } from './client-harness.js'

type Morph = (root: unknown, html: string) => void
type ApplyPatch = (root: unknown, patch: Array<Record<string, unknown>>) => boolean

const morphModule: string = '../client/morph.js'
const { morph } = await import(morphModule) as { morph: Morph }

const bundle = await build({
  entryPoints: [`${SOURCES}client/apply.ts`],
  bundle: true,
  format: 'esm',
  write: false,
  logLevel: 'silent'
})
const applyModule = 'data:text/javascript;base64,' + Buffer.from(bundle.outputFiles[0]!.text).toString('base64')
const { applyPatch } = await import(applyModule) as { applyPatch: ApplyPatch }

const window = new Window({ url: 'http://localhost/' })
const document = window.document
t.teardown(() => window.happyDOM.close())

function page (inner: string) {
  document.body.innerHTML = `<div data-lv-root>${inner}</div>`
  return document.querySelector('[data-lv-root]')!
}

/** What the browser makes of `html`, to compare with a morphed or patched root. */
function parsed (html: string): string {
  const div = document.createElement('div')
  div.innerHTML = html
  return div.innerHTML
}

const q = (sel: string) => document.querySelector(sel) as unknown as HTMLInputElement

t.test('morph', async t => {
  t.test('updates text, attributes and comments in place', async t => {
    const root = page('<h1 class="a">Hi</h1><!-- c1 --><p title="x">one <b>two</b></p>')
    const h1 = root.firstChild
    const b = root.querySelector('b')
    const next = '<h1 class="b" lang="en" @click="go">Hello</h1><!-- c2 --><p>one <b>three</b></p>' +
      '<svg><use xlink:href="#i"></use></svg>'
    morph(root, next)
    t.equal(root.innerHTML, parsed(next))
    t.ok(root.firstChild === h1, 'same h1')
    t.ok(root.querySelector('b') === b, 'same b')
    t.equal(root.querySelector('use')!.getAttributeNS('http://www.w3.org/1999/xlink', 'href'), '#i')
  })

  t.test('keyed children keep identity when reordered, added and removed', async t => {
    const root = page('<ul><li data-key="1">one</li><li data-key="2">two</li><li data-key="3">three</li></ul><p id="x">x</p>')
    const [one, two] = [...root.querySelectorAll('li')]
    const p = root.querySelector('#x')
    const next = '<ul><li data-key="4">four</li><li data-key="2">two!</li><li data-key="1">one</li></ul><p id="x">y</p>'
    morph(root, next)
    t.equal(root.innerHTML, parsed(next))
    const lis = [...root.querySelectorAll('li')]
    t.ok(lis[1] === two)
    t.ok(lis[2] === one)
    t.ok(root.querySelector('#x') === p)
  })

  t.test('an element added or dropped before unkeyed siblings does not replace them', async t => {
    const form = '\n  <label>Name</label>\n  <input name="n">\n  <button>Go</button>\n'
    const root = page(form)
    const input = root.querySelector('input')
    const button = root.querySelector('button')
    const withError = '\n  <p class="error">Required</p>' + form
    morph(root, withError)
    t.equal(root.innerHTML, parsed(withError))
    t.ok(root.querySelector('input') === input, 'same input after an insert')
    t.ok(root.querySelector('button') === button)
    morph(root, form)
    t.equal(root.innerHTML, parsed(form))
    t.ok(root.querySelector('input') === input, 'same input after a removal')
    t.ok(root.querySelector('button') === button)
  })

  t.test('a changed node name replaces the node', async t => {
    const root = page('<span>a</span>text<em>b</em>')
    morph(root, '<div>a</div><em>b</em>more')
    t.equal(root.innerHTML, '<div>a</div><em>b</em>more')
  })

  t.test('keeps what the user typed before the join reconcile', async t => {
    const root = page(
      '<input name="a" value="x"><input name="b" value="x">' +
      '<input type="checkbox" name="c"><input type="checkbox" name="d">' +
      '<textarea name="e">x</textarea><textarea name="f">x</textarea>')
    q('[name=a]').value = 'typed'
    q('[name=c]').checked = true
    q('[name=e]').value = 'typed'
    morph(root,
      '<input name="a" value="server"><input name="b" value="server">' +
      '<input type="checkbox" name="c"><input type="checkbox" name="d" checked>' +
      '<textarea name="e">server</textarea><textarea name="f">server</textarea>')
    t.equal(q('[name=a]').value, 'typed', 'dirty input kept')
    t.equal(q('[name=b]').value, 'server', 'clean input updated')
    t.equal(q('[name=c]').checked, true, 'dirty checkbox kept')
    t.equal(q('[name=d]').checked, true, 'clean checkbox updated')
    t.equal(q('[name=e]').value, 'typed', 'dirty textarea kept')
    t.equal(q('[name=f]').value, 'server', 'clean textarea updated')
  })

  t.test('never rewrites the focused field', async t => {
    const root = page('<input name="a" value="x"><select name="s"><option>1</option><option>2</option></select>')
    q('[name=a]').focus()
    morph(root, '<input name="a" value="server"><select name="s"><option>1</option><option selected>2</option></select>')
    t.equal(q('[name=a]').value, 'x')
    t.equal(q('[name=s]').value, '2', 'a select that is not focused follows the server')
    q('[name=s]').focus()
    morph(root, '<input name="a" value="server"><select name="s"><option selected>1</option><option>2</option></select>')
    t.equal(q('[name=s]').value, '2', 'the focused select is kept')
    t.equal(q('[name=a]').value, 'x', 'the blurred input still shows what the server has not seen')
    morph(root, '<input name="a" value="x"><select name="s"><option selected>1</option><option>2</option></select>')
    morph(root, '<input name="a" value="new"><select name="s"><option selected>1</option><option>2</option></select>')
    t.equal(q('[name=a]').value, 'new', 'once the server rendered its value, the input follows it again')
  })

  t.test('skips lv-update="ignore" elements', async t => {
    const root = page('<div id="w" lv-update="ignore" class="a"><canvas></canvas>client</div><p>1</p>')
    const w = root.querySelector('#w')
    morph(root, '<div id="w" lv-update="ignore" class="b">server</div><p>2</p>')
    t.ok(root.querySelector('#w') === w)
    t.equal(root.innerHTML, '<div id="w" lv-update="ignore" class="a"><canvas></canvas>client</div><p>2</p>')
  })
})

t.test('applyPatch', async t => {
  const differ = new DiffDOM({ compress: true, valueDiffing: true })
  const patch = (a: string, b: string) => differ.diff(a, b) as unknown as Array<Record<string, unknown>>

  t.test('turns the old HTML into the new', async t => {
    const cases: Array<[string, string]> = [
      ['<div><p>1</p></div>', '<div><p>2</p></div>'],
      ['<div><p class="a">x</p><!-- a --></div>', '<div><p class="b" title="t">x</p><!-- b --></div>'],
      ['<div><ul><li>a</li><li>b</li></ul></div>', '<div><ul><li>b</li><li>c</li><li>d</li></ul><span>e</span></div>'],
      ['<div><p>x</p><i>y</i></div>', '<div><b>x</b></div>'],
      ['<div><input value="a"></div>', '<div><input value="b"><input checked></div>']
    ]
    for (const [before, after] of cases) {
      const root = page('')
      root.outerHTML = before
      const el = document.body.firstChild
      // JSON: numeric keys arrive as strings, as over the socket.
      t.equal(applyPatch(el, JSON.parse(JSON.stringify(patch(before, after)))), true, after)
      t.equal(document.body.innerHTML, parsed(after), after)
    }
  })

  t.test('route [] is the root itself', async t => {
    const root = page('x')
    t.equal(applyPatch(root, [{ 14: 0, 15: [], 23: 'class', 24: 'on' }]), true)
    t.equal(root.getAttribute('class'), 'on')
  })

  t.test('a patch that does not fit says so instead of throwing', async t => {
    const root = page('<p>1</p>')
    const p = patch('<div><p>1</p><p>2</p><p>3</p></div>', '<div><p>1</p><p>2</p><p>4</p></div>')
    t.equal(applyPatch(root, p), false, 'route past the end')
    t.equal(applyPatch(root, [{ 14: 3, 15: [] }]), false, 'text change on an element')
    t.equal(applyPatch(root, [{ 14: 99, 15: [] }]), false, 'unknown action')
    t.equal(applyPatch(root, [{ 14: '3', 15: [0, 0] }]), false, 'action that is not a number')
  })

  t.test('leaves lv-update="ignore" elements alone', async t => {
    const before = '<div><div lv-update="ignore" class="a"><span>1</span></div><p>1</p></div>'
    const after = '<div><div lv-update="ignore" class="b"><span>2</span><i></i></div><p>2</p></div>'
    const root = page('')
    root.outerHTML = before
    const el = document.body.firstChild
    t.equal(applyPatch(el, patch(before, after)), true)
    t.equal(document.body.innerHTML, parsed('<div><div lv-update="ignore" class="a"><span>1</span></div><p>2</p></div>'))
  })

  t.test('does not rewrite the value of the focused field', async t => {
    const before = '<div><input value="a"><input value="a"></div>'
    const after = '<div><input value="b"><input value="b"></div>'
    const root = page('')
    root.outerHTML = before
    const el = document.body.firstChild
    const [focused, other] = [...document.querySelectorAll('input')]
    focused!.focus()
    t.equal(applyPatch(el, patch(before, after)), true)
    t.equal(focused!.value, 'a')
    t.equal(other!.value, 'b')
  })

  t.test('a field the user changed but left follows the server, as in Phoenix: only the focused one is kept', async t => {
    // As the server sends them: an attribute change, then the property it drives.
    const toB = [
      { 14: 1, 15: [0], 23: 'value', 17: 'b' }, { 14: 10, 15: [0], 17: 'b' },
      { 14: 0, 15: [1], 23: 'checked', 24: '' }, { 14: 11, 15: [1], 17: true }
    ]
    const root = page('<input value="a"><input type="checkbox">')
    const [text, box] = [...document.querySelectorAll('input')]
    text!.value = 'typed'
    box!.checked = false
    t.equal(applyPatch(root, toB), true)
    t.equal(text!.value, 'b', 'the value follows the server')
    t.equal(box!.checked, true, 'the box follows the server')
    box!.checked = true
    t.equal(applyPatch(root, [{ 14: 2, 15: [1], 23: 'checked' }, { 14: 11, 15: [1], 17: false }]), true)
    t.equal(box!.checked, false, 'a box changed by script still follows a removed attribute')
  })
})

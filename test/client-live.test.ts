// The browser client's connection and bindings (client/index.ts, live.ts, bindings.ts):
// the real entry, bundled with esbuild, booted on a happy-dom page against a fake WebSocket.
import t from 'tap'
import { Window } from 'happy-dom'
import { FakeSocket, bundleClient, type Frame } from './client-harness.js'

const client = await bundleClient()

const window = new Window({ url: 'https://example.test/page?x=1' })
const document = window.document
t.teardown(() => window.happyDOM.close())
let reloads = 0
const location = { protocol: 'https:', host: 'example.test', href: 'https://example.test/page?x=1', reload () { reloads++ } }
// The client reads these as globals, as in a browser.
Object.assign(globalThis, {
  document, location, WebSocket: FakeSocket,
  CustomEvent: window.CustomEvent, FormData: window.FormData
})
// No jitter: each reconnect waits half its delay (100 ms first).
Math.random = () => 0

let boots = 0
/** Renders `inner` in a live root and boots a fresh copy of the client on it. */
async function boot (inner: string) {
  document.body.innerHTML = `<main data-lv-root data-lv-token="tok" data-lv-socket="/_live/ws">${inner}</main>`
  const root = document.querySelector('main')!
  const events: Array<[string, unknown]> = []
  for (const type of ['lv:connected', 'lv:disconnected', 'lv:error']) {
    root.addEventListener(type, e => events.push([type, (e as unknown as { detail: unknown }).detail]))
  }
  await import(`data:text/javascript;base64,${Buffer.from(`${client}//${++boots}`).toString('base64')}`)
  const ws = FakeSocket.all.at(-1)!
  return { root, ws, events, classes: () => [...root.classList].sort().join(' ') }
}

/** A socket that joined at version 0. */
async function joined (inner: string) {
  const page = await boot(inner)
  page.ws.open()
  page.ws.receive([1, 'ok', 0])
  return page
}

const click = (sel: string) => (document.querySelector(sel) as unknown as { click (): void }).click()
const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms))

t.test('joins over one socket to the root\'s path with its token', async t => {
  const { ws, events, classes } = await boot('<p>hi</p>')
  t.equal(ws.url, 'wss://example.test/_live/ws')
  t.same(ws.sent, [])
  ws.open()
  t.same(ws.sent, [[1, 'join', { v: 1, token: 'tok', url: 'https://example.test/page?x=1' }]])
  t.equal(classes(), '', 'not connected before the join reply')
  ws.receive([1, 'ok', 0])
  t.equal(classes(), 'lv-connected')
  t.same(events, [['lv:connected', null]])
})

t.test('the join reply may bring the page as full HTML', async t => {
  const { root, ws } = await boot('<p>old</p><input name="q" value="">')
  const input = root.querySelector('input') as unknown as { value: string }
  input.value = 'typed early'
  ws.open()
  ws.receive([1, 'h', 0, '<p>new</p><input name="q" value="">'])
  t.equal(root.querySelector('p')!.textContent, 'new')
  t.equal(root.querySelector('input'), input as unknown)
  t.equal(input.value, 'typed early')
  ws.receive([0, 'p', 1, [{ 14: 3, 15: [0, 0], 17: 'newer' }]])
  t.equal(root.querySelector('p')!.textContent, 'newer', 'then patches from version 1 on')
})

t.test('lv-click sends the event with lv-value-* params; lv-loading until the reply', async t => {
  const { root, ws, classes } = await joined('<button lv-click="inc" lv-value-id="7" lv-value-foo-bar="x"><b>+</b></button><span>0</span>')
  click('b')
  t.same(ws.sent.at(-1), [2, 'e', 'inc', { id: '7', 'foo-bar': 'x' }])
  t.equal(classes(), 'lv-connected lv-loading')
  t.ok(root.querySelector('button')!.classList.contains('lv-loading'))
  ws.receive([2, 'p', 1, [{ 14: 3, 15: [1, 0], 17: '1' }]])
  t.equal(root.querySelector('span')!.textContent, '1')
  t.equal(classes(), 'lv-connected')
  t.notOk(root.querySelector('button')!.classList.contains('lv-loading'))
  click('span')
  t.equal(ws.sent.length, 2, 'a click outside any lv-click sends nothing')
})

t.test('version gaps and patches that do not fit ask for full HTML', async t => {
  const { root, ws } = await joined('<p>a</p>')
  ws.receive([0, 'p', 2, [{ 14: 3, 15: [0, 0], 17: 'b' }]])
  t.same(ws.sent.at(-1), [2, 'sync'], 'gap')
  t.equal(root.innerHTML, '<p>a</p>', 'the patch past the gap is not applied')
  ws.receive([0, 'p', 3, []])
  t.equal(ws.sent.length, 2, 'one sync at a time; updates before its reply are dropped')
  ws.receive([2, 'h', 3, '<p>c</p>'])
  t.equal(root.innerHTML, '<p>c</p>')
  ws.receive([0, 'p', 4, [{ 14: 3, 15: [5, 5], 17: 'x' }]])
  t.same(ws.sent.at(-1), [3, 'sync'], 'a patch that does not fit')
  ws.receive([3, 'h', 4, '<p>d</p>'])
  ws.receive([0, 'ok', 5])
  t.same(ws.sent.at(-1), [4, 'sync'], 'an ok with another version')
})

t.test('lv-submit sends the form\'s fields; repeated names become arrays', async t => {
  const { root, ws } = await joined(`
    <form lv-submit="save" lv-value-kind="user">
      <input name="name" value="Ada">
      <input type="checkbox" name="tags" value="a" checked>
      <input type="checkbox" name="tags" value="b" checked>
      <input type="checkbox" name="tags" value="c">
      <select name="pick"><option>x</option><option selected>y</option></select>
      <button>Save</button>
    </form>`)
  const form = root.querySelector('form')!
  const submit = new window.Event('submit', { bubbles: true, cancelable: true })
  form.dispatchEvent(submit)
  t.ok(submit.defaultPrevented)
  // (A multiple select gives an array the same way in browsers; happy-dom 21's FormData
  // only serialises its first selected option.)
  t.same(ws.sent.at(-1), [2, 'e', 'save', { name: 'Ada', tags: ['a', 'b'], pick: 'y', kind: 'user' }])
  t.ok(form.classList.contains('lv-loading'))
})

t.test('lv-change sends the form with _target, or a lone field\'s value', async t => {
  const { root, ws } = await joined(`
    <form lv-change="validate"><input name="a" value="1"><input name="b" value="2"></form>
    <input name="solo" value="s" lv-change="pick" lv-value-row="3">
    <input type="checkbox" name="flag" value="on" lv-change="flag">
    <input name="plain">`)
  const change = (sel: string) => root.querySelector(sel)!.dispatchEvent(new window.Event('change', { bubbles: true }))
  change('[name=b]')
  t.same(ws.sent.at(-1), [2, 'e', 'validate', { a: '1', b: '2', _target: 'b' }])
  change('[name=solo]')
  t.same(ws.sent.at(-1), [3, 'e', 'pick', { solo: 's', _target: 'solo', row: '3' }])
  change('[name=flag]')
  t.same(ws.sent.at(-1), [4, 'e', 'flag', { _target: 'flag' }], 'an unticked box sends no value')
  change('[name=plain]')
  t.equal(ws.sent.length, 4, 'no lv-change, no event')
})

t.test('err replies: lv:error on the root, lv-error, and a reload when asked', async t => {
  const { ws, events, classes } = await joined('<button lv-click="boom">x</button>')
  click('button')
  ws.receive([2, 'err', { code: 'FST_LIVEVIEW_HANDLER', message: 'boom' }])
  t.same(events.at(-1), ['lv:error', { code: 'FST_LIVEVIEW_HANDLER', message: 'boom', ref: 2 }])
  t.equal(classes(), 'lv-connected lv-error')
  t.equal(reloads, 0)
  ws.receive([0, 'err', { code: 'FST_LIVEVIEW_SESSION_GONE', message: 'gone', reload: true }])
  t.equal(reloads, 1)
  const sockets = FakeSocket.all.length
  ws.close(4001)
  await sleep(150)
  t.equal(FakeSocket.all.length, sockets, 'no reconnect while reloading')
})

t.test('reconnects with backoff; events while disconnected are dropped', async t => {
  const { ws, events, classes } = await joined('<button lv-click="inc">+</button>')
  ws.close()
  t.equal(classes(), 'lv-disconnected')
  t.same(events.at(-1), ['lv:disconnected', null])
  click('button')
  t.equal(ws.sent.length, 1, 'nothing sent')
  t.match(events.at(-1), ['lv:error', { code: 'FST_LIVEVIEW_DISCONNECTED', ref: 0 }])
  const count = FakeSocket.all.length
  await sleep(150)
  t.equal(FakeSocket.all.length, count + 1, 'a new socket after 100 ms')
  const second = FakeSocket.all.at(-1)!
  second.close(4001)
  await sleep(150)
  t.equal(FakeSocket.all.length, count + 1, 'the next wait is longer (200 ms)')
  await sleep(100)
  const third = FakeSocket.all.at(-1)!
  t.not(third, second)
  third.open()
  t.same(third.sent, [[2, 'join', { v: 1, token: 'tok', url: 'https://example.test/page?x=1' }]], 'the same token')
  third.receive([2, 'h', 0, '<button lv-click="inc">+</button>'])
  t.equal(classes(), 'lv-connected')
  t.same(events.filter(([type]) => type === 'lv:connected').length, 2)
  click('button')
  t.same(third.sent.at(-1), [3, 'e', 'inc', {}])
})

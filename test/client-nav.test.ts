// The browser client's live navigation (client/live.ts, bindings.ts): lv-patch links,
// back/forward, and the url / title / redirect frames. The real entry, bundled with
// esbuild, booted on a happy-dom page against a fake WebSocket, as in client-live.test.ts.
import t from 'tap'
import { PROTOCOL_VERSION } from '../lib/protocol.js'
import { Window } from 'happy-dom'
import { FakeSocket, bundleClient, type Frame } from './client-harness.js'

const client = await bundleClient()

const START = 'https://example.test/items?page=1'
const window = new Window({ url: START, settings: { disableJavaScriptFileLoading: true, handleDisabledFileLoadingAsSuccess: true } })
const document = window.document
t.teardown(() => window.happyDOM.close())

/** What the client did to the browser: full loads and history entries. */
let reloads = 0
let assigned: string[] = []
let pushed: string[] = []
const location = {
  protocol: 'https:',
  host: 'example.test',
  origin: 'https://example.test',
  href: START,
  reload () { reloads++ },
  assign (url: string) { assigned.push(url) }
}
const history = {
  state: null as unknown,
  pushState (state: unknown, _title: string, url: string) {
    this.state = state
    location.href = new URL(url, location.href).href
    pushed.push(location.href)
  },
  replaceState (state: unknown) { this.state = state }
}
// The client reads these as globals, as in a browser.
Object.assign(globalThis, {
  document, location, history, WebSocket: FakeSocket,
  CustomEvent: window.CustomEvent, FormData: window.FormData
})
// No jitter: each reconnect waits half its delay (100 ms first).
Math.random = () => 0

/** The browser going back or forward to `url`: the URL changes, then `popstate`. */
function popstate (url: string): void {
  location.href = url
  window.dispatchEvent(new window.Event('popstate'))
}

let boots = 0
/** Boots a fresh copy of the client on a live root with `inner`, joined at version 0. */
async function joined (inner: string) {
  location.href = START
  reloads = 0
  assigned = []
  pushed = []
  document.body.innerHTML = `<main data-lv-root data-lv-token="tok" data-lv-socket="/_live/ws">${inner}</main>`
  const root = document.querySelector('main')!
  const errors: unknown[] = []
  root.addEventListener('lv:error', e => errors.push((e as unknown as { detail: unknown }).detail))
  await import(`data:text/javascript;base64,${Buffer.from(`${client}//${++boots}`).toString('base64')}`)
  const ws = FakeSocket.all.at(-1)!
  ws.open()
  ws.receive([1, 'mount', { id: 1, version: 0, title: document.title }])
  return { root, ws, errors, classes: () => [...root.classList].sort().join(' ') }
}

/**
 * Clicks `el` as a mouse would, with `init`'s buttons and keys; returns whether the client
 * prevented the default. (Then the test prevents it: happy-dom would follow the link.)
 */
type Clicked = InstanceType<typeof window.MouseEvent>
function click (el: { dispatchEvent (e: Clicked): unknown }, init: Record<string, unknown> = {}) {
  const e: Clicked = new window.MouseEvent('click', { bubbles: true, cancelable: true, ...init })
  let defaultPrevented: boolean | undefined
  const last = (e: { defaultPrevented: boolean, preventDefault (): void }) => {
    defaultPrevented = e.defaultPrevented
    e.preventDefault()
  }
  window.addEventListener('click', last)
  el.dispatchEvent(e)
  window.removeEventListener('click', last)
  return { defaultPrevented }
}
const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms))

const LINKS = '<ul><li>1</li></ul><a id="next" href="/items?page=2" lv-patch><b>next</b></a>' +
  '<a id="plain" href="/items?page=3">plain</a><a id="away" href="https://elsewhere.test/x" lv-patch>away</a>' +
  '<a id="blank" href="/items?page=4" target="_blank" lv-patch>blank</a>'

t.test('an lv-patch click pushes the URL and sends a patch with a ref; the reply updates the page', async t => {
  const { root, ws, classes } = await joined(LINKS)
  const a = root.querySelector('#next')!
  const e = click(a)
  t.ok(e.defaultPrevented, 'no page load')
  t.same(pushed, ['https://example.test/items?page=2'])
  t.equal(location.href, 'https://example.test/items?page=2')
  t.same(ws.sent.at(-1), [2, 'patch', 'https://example.test/items?page=2'], 'the absolute URL')
  t.equal(classes(), 'lv-connected lv-loading')
  t.ok(a.classList.contains('lv-loading'))
  ws.receive([2, 'p', 1, [[3, [0, 0, 0, 0], '2']]])
  t.equal(root.querySelector('li')!.textContent, '2')
  t.equal(classes(), 'lv-connected')
  t.notOk(a.classList.contains('lv-loading'))

  click(a.querySelector('b')!)
  t.same(ws.sent.at(-1), [3, 'patch', 'https://example.test/items?page=2'], 'a click inside the link; the page is there already')
  t.equal(pushed.length, 1, 'no second history entry for the same URL')
  ws.receive([3, 'ok', 1])
})

t.test('clicks the browser must handle are not intercepted', async t => {
  const { root, ws } = await joined(LINKS)
  const next = root.querySelector('#next')!
  for (const init of [{ metaKey: true }, { ctrlKey: true }, { shiftKey: true }, { altKey: true }, { button: 1 }]) {
    const e = click(next, init)
    t.notOk(e.defaultPrevented, `${JSON.stringify(init)}: the browser opens the link`)
  }
  for (const id of ['plain', 'away', 'blank']) {
    t.notOk(click(root.querySelector(`#${id}`)!).defaultPrevented, `#${id} is followed by the browser`)
  }
  const early = (e: { preventDefault (): void }) => { e.preventDefault() }
  next.addEventListener('click', early)
  click(next)
  next.removeEventListener('click', early)
  t.same(ws.sent, [[1, 'join', { v: PROTOCOL_VERSION, token: 'tok', url: START, pristine: true }]], 'nothing sent')
  t.same(pushed, [], 'no history entry')
  t.equal(location.href, START)
})

t.test('an lv-patch link outside the live root (site navigation in the layout) is followed live too', async t => {
  const { ws } = await joined('<p>x</p>')
  document.body.insertAdjacentHTML('beforeend', '<a id="outside" href="/items?page=2" lv-patch>out</a>')
  const outside = document.querySelector('#outside')!
  t.teardown(() => { outside.remove() })
  t.ok(click(outside).defaultPrevented, 'no page load')
  t.same(ws.sent.at(-1), [2, 'patch', 'https://example.test/items?page=2'])
  ws.receive([2, 'ok', 0])
  t.ok(click(outside, { ctrlKey: true }).defaultPrevented === false, 'a new tab is still the browser\'s')
})

t.test('back and forward send a patch for the new URL; a fragment alone does not', async t => {
  const { root, ws, classes } = await joined(LINKS)
  click(root.querySelector('#next')!)
  ws.receive([2, 'ok', 0])
  popstate(START)
  t.same(ws.sent.at(-1), [3, 'patch', START], 'back')
  t.equal(classes(), 'lv-connected lv-loading')
  ws.receive([3, 'h', 1, '<ul><li>1</li></ul>'])
  t.equal(classes(), 'lv-connected')
  popstate('https://example.test/items?page=2')
  t.same(ws.sent.at(-1), [4, 'patch', 'https://example.test/items?page=2'], 'forward')
  ws.receive([4, 'ok', 1])
  popstate('https://example.test/items?page=2#top')
  t.equal(ws.sent.length, 4, 'only the fragment changed: nothing sent')
  t.same(pushed, ['https://example.test/items?page=2'], 'popstate pushes nothing')
  t.equal(reloads, 0)
})

t.test('a patch refused (another route\'s URL) loads the page in full', async t => {
  const { ws, errors } = await joined('<p>x</p>')
  popstate('https://example.test/other')
  t.same(ws.sent.at(-1), [2, 'patch', 'https://example.test/other'])
  ws.receive([2, 'err', { code: 'FST_LIVEVIEW_PATCH_REFUSED', message: 'not this route', url: 'https://example.test/other' }])
  t.equal(reloads, 1, 'one load, of the URL the page is at (the history entry the client pushed)')
  t.equal(location.href, 'https://example.test/other')
  t.match(errors, [{ code: 'FST_LIVEVIEW_PATCH_REFUSED', ref: 2 }])
  const sockets = FakeSocket.all.length
  ws.close()
  await sleep(150)
  t.equal(FakeSocket.all.length, sockets, 'no reconnect while reloading')
})

t.test('other errors of a patch do not reload', async t => {
  const { root, ws, classes } = await joined(LINKS)
  click(root.querySelector('#next')!)
  ws.receive([2, 'err', { code: 'FST_LIVEVIEW_HANDLER', message: 'handleParams failed' }])
  t.equal(reloads, 0)
  t.equal(classes(), 'lv-connected lv-error')
})

t.test('not connected: an lv-patch link loads in full, and so does back', async t => {
  const { root, ws } = await joined(LINKS)
  ws.close()
  t.notOk(click(root.querySelector('#next')!).defaultPrevented, 'the browser follows the link')
  t.same(pushed, [])
  popstate('https://example.test/items?page=5')
  t.equal(reloads, 1)
  t.equal(ws.sent.length, 1, 'nothing sent')
})

t.test('a rejoin sends the URL the page is at now', async t => {
  const { root, ws } = await joined(LINKS)
  click(root.querySelector('#next')!)
  ws.close()
  await sleep(150)
  const again = FakeSocket.all.at(-1)!
  t.not(again, ws)
  again.open()
  t.same(again.sent, [[3, 'join', { v: PROTOCOL_VERSION, token: 'tok', url: 'https://example.test/items?page=2', pristine: true }]])
  t.equal(reloads, 0, 'the patch that the close ended does not reload')
  again.receive([3, 'mount', { id: 1, version: 0, html: '<ul><li>2</li></ul>', title: '' }])
  t.equal(root.querySelector('li')!.textContent, '2', 'the new session renders that URL')
})

t.test('url, title and redirect frames', async t => {
  const { root, ws } = await joined('<button lv-click="more">more</button><p>x</p>')
  ;(root.querySelector('button') as unknown as { click (): void }).click()
  ws.receive([0, 'url', 'https://example.test/items?page=9'])
  t.same(pushed, ['https://example.test/items?page=9'], 'the view patched the URL: a history entry')
  ws.receive([0, 'title', 'Page 9'])
  t.equal(document.title, 'Page 9')
  ws.receive([2, 'p', 1, [[3, [0, 1, 0], 'y']]])
  t.equal(root.querySelector('p')!.textContent, 'y', 'the reply still applies at its version')
  ws.receive([0, 'url', 'https://example.test/items?page=9'])
  t.equal(pushed.length, 1, 'no entry for the URL the page is at')
  popstate(START)
  t.same(ws.sent.at(-1), [3, 'patch', START], 'back from a URL the view pushed')
  ws.receive([3, 'ok', 1])
  ws.receive([0, 'redirect', 'https://example.test/login'])
  t.same(assigned, ['https://example.test/login'], 'a full load')
  t.equal(reloads, 0)
  const sockets = FakeSocket.all.length
  ws.close(1001)
  await sleep(150)
  t.equal(FakeSocket.all.length, sockets, 'no reconnect while leaving')
})

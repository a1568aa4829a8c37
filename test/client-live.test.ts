// The browser client's connection and bindings (client/index.ts, live.ts, bindings.ts):
// the real entry, bundled with esbuild, booted on a happy-dom page against a fake WebSocket.
import t, { type Test } from 'tap'
import { PROTOCOL_VERSION } from '../lib/protocol.js'
import { Window } from 'happy-dom'
import { FakeSocket, bundleChunk, bundleClient, type Frame } from './client-harness.js'

const client = await bundleClient()
const chunk = await bundleChunk('js')
const lpChunk = await bundleChunk('lp')

// The client's lazy chunks are loaded by the test (see joined): happy-dom neither fetches nor fails them.
const window = new Window({ url: 'https://example.test/page?x=1', settings: { disableJavaScriptFileLoading: true, handleDisabledFileLoadingAsSuccess: true } })
const document = window.document
t.teardown(() => window.happyDOM.close())
let reloads = 0
let assigned: string[] = []
const location = {
  protocol: 'https:',
  host: 'example.test',
  origin: 'https://example.test',
  href: 'https://example.test/page?x=1',
  reload () { reloads++ },
  assign (url: string) { assigned.push(url) }
}
const history = {
  state: null as unknown,
  pushState (s: unknown, _t: string, url: string) { this.state = s; location.href = new URL(url, location.href).href },
  replaceState (s: unknown, _t: string, url?: string) { this.state = s; if (url !== undefined) location.href = new URL(url, location.href).href }
}
// The client reads these as globals, as in a browser.
Object.assign(globalThis, {
  document, location, history, WebSocket: FakeSocket, sessionStorage: window.sessionStorage,
  CustomEvent: window.CustomEvent, FormData: window.FormData, addEventListener: window.addEventListener.bind(window)
})
const JOIN = { v: PROTOCOL_VERSION, token: 'tok', url: 'https://example.test/page?x=1' }
const mount = (ref: number, extra: Record<string, unknown> = {}): Frame => [ref, 'mount', { id: 1, version: 0, title: '', ...extra }]
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

/** A socket that joined at version 0; the command and hook chunk loaded if the page asked for it. */
async function joined (inner: string) {
  const page = await boot(inner)
  page.ws.open()
  page.ws.receive(mount(1))
  const asked = document.head.querySelector('script[src="__LV_JS_SRC__"]')
  if (asked) {
    asked.remove()
    await import(`data:text/javascript;base64,${Buffer.from(`${chunk}//${boots}`).toString('base64')}`)
  }
  return page
}

const click = (sel: string) => (document.querySelector(sel) as unknown as { click (): void }).click()
const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms))

t.test('joins over one socket to the root\'s path with its token', async t => {
  const { ws, events, classes } = await boot('<p>hi</p>')
  t.equal(ws.url, 'wss://example.test/_live/ws')
  t.same(ws.sent, [])
  ws.open()
  t.same(ws.sent, [[1, 'join', { ...JOIN, pristine: true }]], 'pristine: the page shows the render its token was signed for')
  t.equal(classes(), '', 'not connected before the join reply')
  ws.receive(mount(1))
  t.equal(classes(), 'lv-connected')
  t.same(events, [['lv:connected', null]])
})

t.test('the join reply may bring the page as full HTML', async t => {
  const { root, ws } = await boot('<p>old</p><input name="q" value="">')
  const input = root.querySelector('input') as unknown as { value: string }
  input.value = 'typed early'
  ws.open()
  ws.receive(mount(1, { html: '<p>new</p><input name="q" value="">' }))
  t.equal(root.querySelector('p')!.textContent, 'new')
  t.equal(root.querySelector('input'), input as unknown)
  t.equal(input.value, 'typed early')
  ws.receive([0, 'p', 1, [[3, [0, 0, 0], 'newer']]])
  t.equal(root.querySelector('p')!.textContent, 'newer', 'then patches from version 1 on')
})

t.test('lv-click sends the event with lv-value-* params; lv-loading until the reply', async t => {
  const { root, ws, classes } = await joined('<button lv-click="inc" lv-value-id="7" lv-value-foo-bar="x"><b>+</b></button><span>0</span>')
  click('b')
  t.same(ws.sent.at(-1), [2, 'e', 1, 'inc', { id: '7', 'foo-bar': 'x' }], 'for mount 1')
  t.equal(classes(), 'lv-connected lv-loading')
  t.ok(root.querySelector('button')!.classList.contains('lv-loading'))
  ws.receive([2, 'p', 1, [[3, [0, 1, 0], '1']]])
  t.equal(root.querySelector('span')!.textContent, '1')
  t.equal(classes(), 'lv-connected')
  t.notOk(root.querySelector('button')!.classList.contains('lv-loading'))
  click('span')
  t.equal(ws.sent.length, 2, 'a click outside any lv-click sends nothing')
})

t.test('version gaps and patches that do not fit ask for full HTML', async t => {
  const { root, ws } = await joined('<p>a</p>')
  ws.receive([0, 'p', 2, [[3, [0, 0, 0], 'b']]])
  t.same(ws.sent.at(-1), [2, 'sync'], 'gap')
  t.equal(root.innerHTML, '<p>a</p>', 'the patch past the gap is not applied')
  ws.receive([0, 'p', 3, []])
  t.equal(ws.sent.length, 2, 'one sync at a time; updates before its reply are dropped')
  ws.receive([2, 'h', 3, '<p>c</p>'])
  t.equal(root.innerHTML, '<p>c</p>')
  ws.receive([0, 'p', 4, [[3, [0, 5, 5], 'x']]])
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
  t.same(ws.sent.at(-1), [2, 'e', 1, 'save', { name: 'Ada', tags: ['a', 'b'], pick: 'y', kind: 'user' }, null, ['name', 'tags', 'pick']], 'a submit uses every named field (used, outside the params)')
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
  t.same(ws.sent.at(-1), [2, 'e', 1, 'validate', { a: '1', b: '2', _target: 'b' }, null, ['b']], 'the changed field is used')
  change('[name=solo]')
  t.same(ws.sent.at(-1), [3, 'e', 1, 'pick', { solo: 's', _target: 'solo', row: '3' }])
  change('[name=flag]')
  t.same(ws.sent.at(-1), [4, 'e', 1, 'flag', { _target: 'flag' }], 'an unticked box sends no value')
  change('[name=plain]')
  t.equal(ws.sent.length, 4, 'no lv-change, no event')
})

t.test('err replies: lv:error on the root, lv-error, and a reload when asked', async t => {
  sessionStorage.clear()
  reloads = 0
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

t.test('lv-error stays only until the next successful reply', async t => {
  const { ws, classes } = await joined('<button lv-click="x">x</button><p>a</p>')
  click('button')
  ws.receive([2, 'err', { code: 'FST_LIVEVIEW_HANDLER_FAILED', message: 'no' }])
  t.equal(classes(), 'lv-connected lv-error')
  click('button')
  ws.receive([3, 'ok', 0])
  t.equal(classes(), 'lv-connected', 'an ok clears it')
  click('button')
  ws.receive([4, 'err', { code: 'FST_LIVEVIEW_HANDLER_FAILED', message: 'no' }])
  ws.receive([0, 'p', 1, [[3, [0, 1, 0], 'b']]])
  t.equal(classes(), 'lv-connected', 'so does an update')
})

t.test('an event the server refused as stale (meant for a view no longer shown) is no page error', async t => {
  const { ws, events, classes } = await joined('<button lv-click="x">x</button>')
  click('button')
  t.equal(classes(), 'lv-connected lv-loading')
  ws.receive([2, 'err', { code: 'FST_LIVEVIEW_EVENT_STALE', message: 'stale' }])
  t.equal(classes(), 'lv-connected', 'answered (no lv-loading), and no lv-error')
  t.notOk(events.some(([type]) => type === 'lv:error'), 'no lv:error')
})

t.test('a refused rejoin reloads at most 3 times in 30 s, then stops with lv-error and lv:error', async t => {
  sessionStorage.clear()
  reloads = 0
  for (let i = 1; i <= 4; i++) {
    // Each boot is the page after a reload: the same tab, the same sessionStorage.
    const { ws, events, classes } = await boot('<p>x</p>')
    ws.open()
    ws.receive([1, 'err', { code: 'FST_LIVEVIEW_TOKEN_INVALID', message: 'forged or rotated', reload: true }])
    ws.close(4001)
    if (i <= 3) {
      t.equal(reloads, i, `refusal ${i}: a reload`)
    } else {
      t.equal(reloads, 3, 'the fourth refusal does not reload')
      t.equal(classes(), 'lv-disconnected lv-error')
      t.match(events.at(-1), ['lv:error', { code: 'FST_LIVEVIEW_RELOAD_LIMIT' }])
      const sockets = FakeSocket.all.length
      await sleep(250)
      t.equal(FakeSocket.all.length, sockets, 'and no more reconnects')
    }
  }
  sessionStorage.clear()
})

t.test('a rejoin after updates tells the server the page is not pristine; after a navigation it is again', async t => {
  const { ws } = await joined('<p>a</p>')
  ws.receive([0, 'p', 1, [[3, [0, 0, 0], 'b']]])
  ws.close(1006)
  await sleep(150)
  const again = FakeSocket.all.at(-1)!
  again.open()
  t.same(again.sent, [[2, 'join', { ...JOIN, pristine: false }]], 'an update was applied: the server sends full HTML')
  again.receive(mount(2, { html: '<p>b</p>' }))
  again.receive([0, 'mount', { id: 2, version: 1, html: '<p>other</p>', token: 'tok2', title: 'Other', url: 'https://example.test/other' }])
  t.equal(document.title, 'Other')
  location.href = 'https://example.test/page?x=1'
  again.close(1006)
  await sleep(350)
  const third = FakeSocket.all.at(-1)!
  third.open()
  t.same(third.sent.at(-1), [3, 'join', { ...JOIN, token: 'tok2', pristine: true }], 'the navigation\'s token, and its render is what the page shows')
})

t.test('close codes: 4002 and 4003 rejoin at once; a shutdown (1001) backs off', async t => {
  for (const code of [4002, 4003]) {
    const { ws } = await joined('<p>a</p>')
    const count = FakeSocket.all.length
    ws.close(code)
    await sleep(5)
    t.equal(FakeSocket.all.length, count + 1, `${code}: a new socket at once`)
  }
  const { ws } = await joined('<p>a</p>')
  const count = FakeSocket.all.length
  ws.close(1001)
  await sleep(5)
  t.equal(FakeSocket.all.length, count, '1001: not at once')
  await sleep(150)
  t.equal(FakeSocket.all.length, count + 1, 'after the backoff')
})

t.test('a redirect keeps the flash it carries in a cookie for the next page, and leaves', async t => {
  assigned = []
  const { ws } = await joined('<p>a</p>')
  ws.receive([0, 'redirect', '/done', 'signed.flash'])
  t.same(assigned, ['https://example.test/done'], 'resolved against the page')
  t.match(document.cookie, /lv_flash=signed\.flash/)
  const count = FakeSocket.all.length
  ws.close(1000)
  await sleep(150)
  t.equal(FakeSocket.all.length, count, 'no reconnect while leaving')
})

t.test('a redirect or URL to a scheme other than http(s) is not followed, whatever the server says', async t => {
  for (const bad of ['javascript:alert(1)', ' JaVaScRiPt:alert(1)', 'java\tscript:alert(1)', 'data:text/html,<script>alert(1)</script>', 'vbscript:msgbox(1)']) {
    assigned = []
    const { ws } = await joined('<p>a</p>')
    ws.receive([0, 'redirect', bad])
    t.same(assigned, [], `redirect to ${JSON.stringify(bad)} not followed`)
    ws.receive([1, 'err', { code: 'FST_LIVEVIEW_PATCH_REFUSED', message: 'x', url: bad }])
    t.same(assigned, [], `error url ${JSON.stringify(bad)} not loaded`)
  }
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
  t.same(third.sent, [[2, 'join', { ...JOIN, pristine: true }]], 'the same token')
  third.receive(mount(2, { html: '<button lv-click="inc">+</button>' }))
  t.equal(classes(), 'lv-connected')
  t.same(events.filter(([type]) => type === 'lv:connected').length, 2)
  click('button')
  t.same(third.sent.at(-1), [3, 'e', 1, 'inc', {}])
})

t.test('lv-disable-with: a server update that arrives while the event waits applies to the element as rendered', async t => {
  const { root, ws } = await joined('<button id="b" lv-click="save" lv-disable-with="Saving…">Label 1</button><p>x</p>')
  click('#b')
  const b = root.querySelector('#b')!
  t.equal(b.textContent, 'Saving…')
  // Another update changes the button's label (its text node, route [0, 0]) meanwhile.
  ws.receive([0, 'p', 1, [[3, [0, 0, 0], 'Label 2']]])
  t.equal(b.textContent, 'Saving…', 'still showing the waiting text')
  t.ok(b.hasAttribute('disabled'))
  ws.receive([2, 'ok', 1])
  t.equal(b.textContent, 'Label 2', 'the server\'s label, not the one from before the click')
  t.notOk(b.hasAttribute('disabled'))
})

t.test('lv-target: events carry the cid of the component it names; a hook pushEvent follows its element\'s', async t => {
  ;(window as unknown as { lvHooks: unknown }).lvHooks = { Ping: { mounted (this: { pushEvent: (e: string) => Promise<unknown> }) { void this.pushEvent('ping').catch(() => {}) } } }
  const { ws } = await joined(
    '<div lv-cid="3"><button id="a" lv-click="edit" lv-target="@myself">a</button>' +
    '<form id="f" lv-target="@myself" lv-submit="save"><input id="i" name="q" lv-change="check"></form>' +
    '<span id="h" lv-hook="Ping" lv-target="@myself"></span></div>' +
    '<div lv-cid="7" id="seven"><b>7</b></div>' +
    '<button id="b" lv-click="edit" lv-target="#seven b">b</button><button id="c" lv-click="edit" lv-target="9">c</button>' +
    '<button id="d" lv-click="edit" lv-target="#nothing">d</button><button id="e" lv-click="edit" lv-target="[[bad">e</button>' +
    '<button id="v" lv-click="edit">v</button>')
  await sleep(0)
  t.same(ws.sent.find((f) => f[3] === 'ping'), [2, 'e', 1, 'ping', {}, 3], "the hook's pushEvent: its element's lv-target")
  const last = () => ws.sent.at(-1) as unknown[]
  const answer = () => { ws.receive([last()[0] as number, 'ok', 1]) }
  click('#a'); t.equal(last().at(-1), 3, '@myself: the lv-cid around'); answer()
  click('#b'); t.equal(last().at(-1), 7, 'a selector: the component around its match'); answer()
  click('#c'); t.equal(last().at(-1), 9, 'a number: that lv-cid'); answer()
  click('#d'); t.equal(last().at(-1), 0, 'no match: 0 (the server refuses it, coded)'); answer()
  click('#e'); t.equal(last().at(-1), 0, 'a selector that does not parse: 0'); answer()
  click('#v'); t.equal(last().length, 5, 'no lv-target: the view (no cid)'); answer()
  const input = document.querySelector('#i') as unknown as { value: string, dispatchEvent (e: unknown): boolean }
  input.value = 'x'
  input.dispatchEvent(new window.Event('change', { bubbles: true }))
  t.same(last().slice(3), ['check', { q: 'x', _target: 'q' }, 3, ['q']], "a field without lv-target: its form's (and its form's used fields)")
})

t.test('a submit waiting for its uploads goes out once they are sent, to the view it was meant for, or not at all', async t => {
  const { root, ws } = await joined('<form lv-submit="save"><input name="title" value="x"></form>')
  const up = (root.ownerDocument.defaultView as unknown as { __lvUp: { w?: (el: unknown) => Promise<void> | undefined } }).__lvUp
  let release: () => void = () => {}
  let waiting = false
  // As the upload code does: a promise while the form's files go, nothing once they went.
  up.w = () => (waiting = !waiting) ? new Promise<void>(resolve => { release = resolve }) : undefined
  const submit = (): void => { document.querySelector('form')!.dispatchEvent(new window.Event('submit', { bubbles: true, cancelable: true })) }
  submit()
  t.same(ws.sent.filter(f => f[1] === 'e'), [], 'held while the files go')
  release()
  await sleep(0)
  t.same(ws.sent.filter(f => f[1] === 'e').map(f => f.slice(2, 5)), [[1, 'save', { title: 'x' }]], 'then sent')
  submit()
  // A navigation mounts another view meanwhile: the held submit is not sent to it.
  ws.receive([0, 'mount', { id: 2, version: 1, title: '', html: '<form lv-submit="save"><input name="title" value="y"></form>' }])
  release()
  await sleep(0)
  t.equal(ws.sent.filter(f => f[1] === 'e').length, 1, 'dropped')
})

t.test('a submit held for its uploads survives a rejoin after an earlier navigation (mount ids restart per session)', async t => {
  const { root, ws } = await joined('<form lv-submit="save"><input name="title" value="x"></form>')
  const up = (root.ownerDocument.defaultView as unknown as { __lvUp: { w?: (el: unknown) => Promise<void> | undefined } }).__lvUp
  // A navigation first: mount 2.
  ws.receive([0, 'mount', { id: 2, version: 1, title: '', html: '<form lv-submit="save"><input name="title" value="x"></form>' }])
  let release: () => void = () => {}
  let waiting = false
  up.w = () => (waiting = !waiting) ? new Promise<void>(resolve => { release = resolve }) : undefined
  document.querySelector('form')!.dispatchEvent(new window.Event('submit', { bubbles: true, cancelable: true }))
  // The socket drops and the page rejoins a new session: mount 1 again.
  ws.close()
  await sleep(150)
  const again = FakeSocket.all.at(-1)!
  again.open()
  again.receive([again.sent[0]![0], 'mount', { id: 1, version: 0, title: '' }])
  release()
  await sleep(0)
  t.same(again.sent.filter(f => f[1] === 'e').map(f => f.slice(2, 4)), [[1, 'save']], 'sent to the rejoined view')
})

t.test('a lazy chunk that fails to load is said (lv:error) and asked for again when next needed', async t => {
  const { root, ws, events } = await boot('<button id="m" lv-click="[[&quot;show&quot;,{}]]">m</button>')
  const script = () => document.head.querySelector('script[src="__LV_JS_SRC__"]') as unknown as { onerror: () => void, remove: () => void } | null
  t.ok(script(), 'a command binding asks for the command chunk')
  script()!.onerror()
  t.equal(script(), null, 'the failed script is gone')
  t.same(events.at(-1), ['lv:error', { code: 'FST_LIVEVIEW_CHUNK_FAILED', message: 'could not load __LV_JS_SRC__', ref: 0 }])
  ws.open()
  ws.receive(mount(1, { html: '<button id="m" lv-click="[[&quot;hide&quot;,{}]]">m</button>' }))
  t.equal(script(), null, 'not at once: it waits (2 s after the first failure, doubling)')
  const now = Date.now
  Date.now = () => now() + 2500
  try {
    ws.receive([0, 'st', []])
  } finally {
    Date.now = now
  }
  t.ok(script(), 'the next update after that asks again')
  script()!.remove()
  t.ok(root.isConnected)
})

t.test("a command list's pushes go in the list's order, with the other commands between them", async t => {
  const { ws } = await joined('<button id="p" lv-value-id="1" lv-click="[[&quot;push&quot;,{&quot;event&quot;:&quot;save&quot;,&quot;value&quot;:{&quot;id&quot;:&quot;2&quot;}}],[&quot;patch&quot;,{&quot;href&quot;:&quot;/page?x=2&quot;}],[&quot;push&quot;,{&quot;event&quot;:&quot;after&quot;}]]">p</button>')
  click('#p')
  t.same(ws.sent.slice(1).map((f) => f.slice(1, 5)), [
    ['e', 1, 'save', { id: '2' }], ['patch', 'https://example.test/page?x=2'], ['e', 1, 'after', { id: '1' }]
  ], 'push, patch, push, as listed; a value is laid over lv-value-*')
})

/** Waits until `ok()` holds (3 s at most). */
const until = async (ok: () => unknown): Promise<void> => { for (let i = 0; i < 300 && !ok(); i++) await sleep(10) }

/**
 * The client's timers set from now until the test ends are cleared then (the long-poll
 * stand-in's 15 s limit would keep the process alive); `maxMs`: each waits at most that
 * (the client's backoff, when the waits are not what a test checks).
 */
function clientTimers (t: Test, maxMs = Infinity): void {
  const realSetTimeout = globalThis.setTimeout
  const timers: Array<ReturnType<typeof setTimeout>> = []
  globalThis.setTimeout = ((fn: () => void, ms?: number) => {
    const timer = realSetTimeout(fn, Math.min(ms ?? 0, maxMs))
    timers.push(timer)
    return timer
  }) as typeof setTimeout
  t.teardown(() => {
    globalThis.setTimeout = realSetTimeout
    for (const timer of timers) clearTimeout(timer)
  })
}

/** A fresh page whose first three sockets close before they open (the reconnects between); `first`: sockets before it. */
async function threeFailedSockets (t: Test) {
  clientTimers(t)
  sessionStorage.clear()
  const first = FakeSocket.all.length
  const { ws } = await boot('<p>hi</p>')
  ws.close()
  await until(() => FakeSocket.all.length === first + 2)
  FakeSocket.all.at(-1)!.close()
  await until(() => FakeSocket.all.length === first + 3)
  FakeSocket.all.at(-1)!.close()
  const script = () => document.head.querySelector('script[src="__LV_LP_SRC__"]') as unknown as { onerror: () => void, remove: () => void } | null
  await until(script)
  return { first, script }
}

t.test('three sockets in a row that never opened: long polling (a lazy chunk), remembered once it opens', async t => {
  const { first, script } = await threeFailedSockets(t)
  t.ok(script(), 'the third failure asks for the long-poll chunk')
  t.equal(FakeSocket.all.length, first + 3, 'and opens no fourth socket')
  script()!.remove()

  const calls: Array<[string, string, string | undefined, string | undefined]> = []
  const realFetch = globalThis.fetch
  t.teardown(() => { globalThis.fetch = realFetch })
  globalThis.fetch = (async (url: string, init?: { method?: string, body?: string, headers?: Record<string, string> }) => {
    calls.push([String(url), init?.method ?? 'GET', init?.body, init?.headers?.['x-lv-session']])
    if (init?.method === 'POST' && String(url).endsWith('/lp')) return new Response(JSON.stringify({ s: 'node.sid' }), { status: 200 })
    if (init?.method === 'POST') return new Response(null, { status: 204 })
    return await new Promise<Response>(() => {}) // a poll held by the server
  }) as typeof fetch
  await import(`data:text/javascript;base64,${Buffer.from(`${lpChunk}//${++boots}`).toString('base64')}`)
  await until(() => calls.some(([url]) => url.includes('/lp/send')) && calls.some(([url]) => url.includes('?a=0')))
  t.same(calls[0]?.slice(0, 2), ['https://example.test/_live/lp', 'POST'], 'opens a session over HTTP')
  t.ok(calls.some(([url, method, , session]) => url === 'https://example.test/_live/lp?a=0' && method === 'GET' && session === 'node.sid'), 'polls it (the session in a header)')
  const sent = calls.find(([url]) => url.includes('/lp/send'))!
  t.equal(sent[3], 'node.sid')
  t.same(JSON.parse(JSON.parse(sent[2]!)[0] as string), [1, 'join', { ...JOIN, url: location.href, pristine: true }], 'the join goes through it')
  const probe = FakeSocket.all.at(-1)!
  t.equal(FakeSocket.all.length, first + 4, 'once open, one socket probes whether sockets fail now too')
  t.equal(sessionStorage.getItem('lv-lp'), null, 'nothing remembered before the probe says')
  probe.close()
  t.ok(+(sessionStorage.getItem('lv-lp') ?? 0) > Date.now(), 'the probe failed too while HTTP works: remembered for this tab')
  sessionStorage.clear()
})

t.test('a page whose socket worked keeps to sockets: the failures after it are a restart, not a network that blocks them', async t => {
  sessionStorage.clear()
  clientTimers(t, 5)
  const first = FakeSocket.all.length
  const { ws } = await joined('<p>hi</p>')
  ws.close()
  for (let n = 2; n <= 6; n++) {
    await until(() => FakeSocket.all.length === first + n)
    FakeSocket.all.at(-1)!.close()
  }
  await until(() => FakeSocket.all.length === first + 7)
  t.equal(FakeSocket.all.length, first + 7, 'five sockets in a row closed before they opened: a socket again')
  t.equal(document.head.querySelector('script[src="__LV_LP_SRC__"]'), null, 'and no long-poll chunk asked for')
  FakeSocket.all.at(-1)!.open()
  t.equal(sessionStorage.getItem('lv-lp'), null)
})

t.test('a restart is no reason to remember long polling: a probe that opens, or a chunk that does not load, means sockets again', async t => {
  // The server is down: three sockets fail, and so does the long-poll chunk.
  const { first, script } = await threeFailedSockets(t)
  script()!.onerror()
  await until(() => FakeSocket.all.length === first + 4)
  t.equal(FakeSocket.all.length, first + 4, 'the chunk failed (HTTP is down too): the next try is a socket again, at once')
  // Back up: the socket opens; nothing was remembered.
  FakeSocket.all.at(-1)!.open()
  t.equal(sessionStorage.getItem('lv-lp'), null)
})

import { decodeServer, encodeClient } from '../lib/frames.js'
import {
  ATTR_NAVIGATE, ATTR_SUBMIT, DOM_PAGE_START as PAGE_START, DOM_PAGE_STOP as PAGE_STOP, OP_UPLOAD_ACK, CLASS_CONNECTED, CLASS_DISCONNECTED, CLASS_ERROR, CLASS_LOADING, CLOSE_HEARTBEAT, CLOSE_SLOW_CLIENT, CODE_DISCONNECTED, CODE_RELOAD_LIMIT, CODE_STALE, DOM_CONNECTED, DOM_DISCONNECTED, DOM_ERROR, DOM_EVENT, OP_ERROR, OP_EVENT, OP_HTML, OP_JOIN, OP_MOUNT, OP_OK, OP_PATCH, OP_PATCH_URL, OP_PUSH, OP_REDIRECT, OP_STREAM, OP_SYNC, OP_TITLE, OP_URL, PROTOCOL_VERSION, SOCKET_ATTR, TOKEN_ATTR, type ClientFrame, type ErrorPayload, type MountPayload, type ServerFrame, type StreamOp
} from '../lib/protocol.js'
import { applyPatch } from './apply.js'
import { apply, clear, keep, viewport } from './streams.js'
import { decodePatch } from '../lib/patch-codec.js'
import type { Busy, Push } from './bindings.js'
import type { Reply } from './hooks.js'
import { MAX_LOADS, WINDOW_MS, carryFlash, load, mayLoad } from './leave.js'
import { morph } from './morph.js'
import { targetOf } from './target.js'
import { used } from './fields.js'
import { chunks, js, transport } from './lazy.js'
import { loading } from './loading.js'
import { scrolls, trigger } from './page.js'

const MIN_DELAY = 200
const MAX_DELAY = 10_000

/**
 * Tells the view the page's URL changed (`el` shows `lv-loading` until the reply), after
 * pushing `url` to the history (replacing the entry: `replace`) when given; `navigate`: to
 * another page (scrolled to the top), as `lv-navigate` links say. False when not connected:
 * nothing is sent, and the caller loads the URL in full.
 */
export type Patch = (el: Element, url?: string, replace?: boolean, navigate?: boolean) => boolean

/**
 * What the upload code (a lazy chunk, client/upload.ts) gets from the connection, as
 * `window.__lvUp`; the keys are short, the bundle cannot shorten them. The chunk sets the
 * callbacks: `a` an acknowledgement, `j` a mount (a rejoin, or a navigation), `w` the uploads a form sends before its
 * submit (a promise, or undefined when none), `u` after each DOM update.
 */
export interface UploadPort {
  root: Element
  /** Sends a frame now; false when not joined. */
  s: (data: string | Uint8Array) => boolean
  /** Sends a tracked request (`el` shows `lv-loading` until its reply). */
  r: (el: Element, op: (r: number) => ClientFrame, name: string, reply: Reply) => void
  /** The mount the page shows. */
  m: () => number
  a?: (entry: string, received: number) => void
  j?: (join: boolean) => void
  w?: (el: Element) => Promise<unknown> | undefined
  u?: () => void
}

/** A sent message awaiting its reply: the element that caused it, `after`, `busy`, `reply`, its name, what ends its loading state. */
type Pending = [Element, (() => void) | undefined, Busy | undefined, Reply | undefined, string, () => void]

/**
 * Opens the connection of one live root (join, replies, versions, reconnects) and returns
 * the functions that send an event and a URL change (a patch) over it; follows back and
 * forward itself. Every DOM update from the server runs inside `watch`.
 *
 * The page rule it keeps: the root shows the server's last render. `pristine` says the root
 * shows exactly the render the token was signed for; a join that is not pristine (any
 * rejoin after an update) gets full HTML.
 */
export function connect (root: Element, watch: <T>(update: () => T) => T): [Push, Patch] {
  const cls = root.classList
  let token = root.getAttribute(TOKEN_ATTR) as string
  const url = (location.protocol === 'https:' ? 'wss:' : 'ws:') + '//' + location.host + root.getAttribute(SOCKET_ATTR)
  const pending = new Map<number, Pending>()
  let ws: WebSocket
  let ref = 0
  let joinRef = 0
  let syncRef = 0
  let version = 0
  /** The mount the page shows: events name it. */
  let mount = 0
  /** Navigations so far (mount ids restart at each session: a rejoin is not one). */
  let navs = 0
  let pristine = true
  /** Stream operations that came while a resync was due (applied after its full HTML). */
  const held: StreamOp[] = []
  let joined = false
  let joins = 0
  let connected: boolean | undefined
  /** Leaving (a load under way), or stopped for good (too many loads): no reconnect. */
  let gone = false
  let delay = MIN_DELAY

  const win = root.ownerDocument.defaultView as Window
  const fire = (type: string, detail?: unknown, onWin?: boolean): boolean => (onWin ? win : root).dispatchEvent(new CustomEvent(type, { detail }))
  const send = (frame: ClientFrame): void => ws.send(encodeClient(frame))
  const state = (up: boolean): void => {
    joined = up
    if (up === connected) return
    connected = up
    cls.toggle(CLASS_CONNECTED, up)
    cls.toggle(CLASS_DISCONNECTED, !up)
    fire(up ? DOM_CONNECTED : DOM_DISCONNECTED)
  }
  const down = (event: string): ErrorPayload => ({ code: CODE_DISCONNECTED, message: `not connected: '${event}' dropped` })
  /** Ends a pending message (undoing its `lv-disable-with` and loading classes); returns its entry. */
  const done = (r: number): Pending | undefined => {
    const entry = pending.get(r)
    if (!entry) return
    pending.delete(r)
    entry[2]?.[0]()
    entry[5]()
    if (!pending.size) cls.remove(CLASS_LOADING)
    return entry
  }
  const sync = (): void => {
    if (!syncRef) send([syncRef = ++ref, OP_SYNC])
  }
  const error = (e: ErrorPayload, r: number): void => {
    cls.add(CLASS_ERROR)
    fire(DOM_ERROR, { ...e, ref: r })
  }
  /**
   * Reloads the page when the server says a retry cannot help (a refused join). At most
   * MAX_LOADS in WINDOW_MS: past that the page stops, shows `lv-error`, fires `lv:error`,
   * and reconnects no more.
   */
  const leave = (): void => {
    if (gone) return
    gone = true
    if (mayLoad()) return location.reload()
    ws.close()
    error({ code: CODE_RELOAD_LIMIT, message: `reloaded ${MAX_LOADS} times in ${WINDOW_MS / 1000} s: stopped` }, 0)
  }
  /**
   * Applies a server update to the DOM as the server rendered it: what `lv-disable-with`
   * shows on elements still waiting is taken off first and put back after, on what the
   * update made of them.
   */
  // A patch that does not decode or apply: the page is out of sync (the caller resyncs).
  const patched = (wire: unknown): boolean => {
    let patch
    try { patch = decodePatch(wire) } catch { return false }
    return applyPatch(root, patch)
  }
  /** Runs a DOM update from the server; stream containers keep their items, unless `ops` (stream operations). */
  const update = <T>(fn: () => T, ops?: boolean): T => {
    for (const [, , busy] of pending.values()) busy?.[0]()
    try {
      return watch(ops ? fn : () => keep(root, fn))
    } finally {
      for (const [, , busy] of pending.values()) busy?.[1]()
      observe()
      chunks(root, up.u)
      trigger(root)
    }
  }
  /** The page's URL without its fragment: what the view's params come from. */
  const here = (): string => location.href.split('#')[0] as string
  let at = here()
  /** Pushes `url` to the history (or replaces the entry), unless the page is there already. */
  const go = (to: string, replace?: boolean): void => {
    try {
      if (new URL(to, location.href).href !== location.href) scroll.push(to, replace)
    } catch {
      // A URL history refuses (another origin): the browser loads it.
      gone = true
      return load(to)
    }
    at = here()
  }
  /** Sends an event or a patch (the frame `op(ref)`) and tracks it until its reply. */
  const request = (el: Element, op: (r: number) => ClientFrame, name: string, after?: () => void, busy?: Busy, reply?: Reply, kind?: string, also?: string): void => {
    pending.set(++ref, [el, after, busy, reply, name, loading(el, kind, also)])
    cls.add(CLASS_LOADING)
    send(op(ref))
  }
  /** A URL change (`kind` of it: patch, navigate, history) the page-loading events bracket. */
  const change = (el: Element, kind: string): boolean => {
    if (!joined) return false
    const to = location.href
    fire(PAGE_START, { kind, to }, true)
    request(el, r => [r, OP_PATCH_URL, to], OP_PATCH_URL, undefined, undefined, () => {
      fire(PAGE_STOP, { kind, to }, true)
      scroll.restore(kind)
    })
    return true
  }
  const patch: Patch = (el, to, replace, nav) => {
    if (!joined) return false
    if (to) go(to, replace)
    return change(el, nav || el.hasAttribute(ATTR_NAVIGATE) ? 'navigate' : 'patch')
  }
  js.p = patch
  // Back and forward: the view follows the URL, or the page loads it in full. A change of
  // fragment alone is no patch.
  const scroll = scrolls(win)
  win.addEventListener('popstate', () => {
    if (here() === at) return
    at = here()
    if (!change(root, 'history') && !gone) {
      gone = true
      location.reload()
    }
  })

  /** A view is mounted: the join's reply, or a navigation's. */
  const mounted = (m: MountPayload, join: boolean): void => {
    mount = m.id
    version = m.version
    if (m.token) root.setAttribute(TOKEN_ATTR, token = m.token)
    if (m.url) go(m.url)
    if (m.title !== document.title) document.title = m.title
    // A rejoin is connected before its render: forms recover (send what they show) before
    // the new session's HTML replaces it. A first join is connected after: hooks mount on it.
    if (join && joins++) state(true)
    // The new mount streams its items again (the page shows those of the render before).
    held.length = 0
    clear(root)
    // A rejoin: what commands did is forgotten (its full HTML puts the server's render back;
    // a page commands changed after it asked gets full HTML now).
    if (join && joins > 1) {
      js.r?.()
      if (m.html === undefined && js.d) sync()
      js.d = false
    }
    if (m.html !== undefined) {
      const y = win.scrollY
      update(() => { morph(root, m.html as string) })
      if (join) win.scrollTo(win.scrollX, y)
      pristine = m.token !== undefined
    }
    if (m.streams) update(() => { apply(root, m.streams as StreamOp[]) }, true)
    if (join) state(true)
    else navs++
    up.j?.(join)
  }

  const receive = (frame: ServerFrame): void => {
    const [r, op] = frame
    if (op === OP_PUSH) {
      fire(DOM_EVENT, { event: frame[2], payload: frame[3] })
      return
    }
    if (op === OP_URL) {
      // The page's token there: a reconnect rejoins this page.
      if (frame[3]) root.setAttribute(TOKEN_ATTR, token = frame[3])
      return go(frame[2])
    }
    if (op === OP_TITLE) {
      document.title = frame[2]
      return
    }
    if (op === OP_UPLOAD_ACK) return up.a?.(frame[2], frame[3])
    // Stream operations follow the page they were made for: held while a full HTML reply is due.
    if (op === OP_STREAM) return syncRef ? void held.push(...frame[2]) : update(() => { apply(root, frame[2]) }, true)
    if (op === OP_REDIRECT) {
      if (frame[3]) carryFlash(frame[3])
      gone = true
      return load(frame[2])
    }
    const entry = done(r)
    if (r && r === syncRef) syncRef = 0
    if (op === OP_ERROR) {
      const e = frame[2]
      entry?.[3]?.(undefined, e)
      // An event meant for a view the page no longer shows: answered, not a failure of the page.
      if (e.code !== CODE_STALE) error(e, r)
      if (e.url) {
        // A URL the server could not show live (not a live route, a view that failed to
        // mount): the browser loads it, and HTTP answers.
        gone = true
        load(e.url)
      } else if (e.reload) {
        leave()
      }
      return
    }
    // A successful reply: whatever went wrong before is over.
    cls.remove(CLASS_ERROR)
    if (op === OP_MOUNT) {
      const join = r !== 0 && r === joinRef
      if (join) {
        joinRef = 0
        delay = MIN_DELAY
      }
      mounted(frame[2], join)
    } else if (op === OP_HTML) {
      version = frame[2]
      pristine = false
      update(() => { morph(root, frame[3]) })
      if (!syncRef && held.length) update(() => { apply(root, held.splice(0)) }, true)
    } else if (syncRef) {
      // A full HTML reply is on its way: it supersedes whatever arrives before it.
    } else if (op === OP_PATCH) {
      pristine = false
      if (frame[2] === version + 1 && update(() => patched(frame[3]))) version++
      else sync()
    } else if (op === OP_OK && frame[2] !== version) {
      sync()
    }
    entry?.[1]?.()
    entry?.[3]?.(op === OP_OK || op === OP_PATCH || op === OP_HTML ? frame[op === OP_OK ? 3 : 4] : undefined)
  }

  const open = (): void => {
    ws = transport(root.ownerDocument, url)
    ws.onopen = () => {
      syncRef = 0
      send([joinRef = ++ref, OP_JOIN, { v: PROTOCOL_VERSION, token, url: location.href, pristine: pristine && !(js.d && joins) }])
    }
    ws.onmessage = m => { receive(decodeServer(m.data as string)) }
    ws.onclose = e => {
      for (const [r, [, , , , event]] of [...pending]) done(r)?.[3]?.(undefined, down(event))
      state(false)
      if (gone) return
      // The server closed a healthy connection it could not keep (a client that fell behind,
      // a missed heartbeat): rejoin at once, with full HTML. Otherwise back off and retry
      // (a refused join said in its error frame whether to reload).
      const now = e.code === CLOSE_SLOW_CLIENT || e.code === CLOSE_HEARTBEAT
      setTimeout(open, now ? 0 : delay * (0.5 + Math.random()))
      if (!now) delay = Math.min(delay * 2, MAX_DELAY)
    }
  }
  open()

  const push: Push = (el, event, params, after, busy, reply, o) => {
    // A form's submit waits for the files it uploads.
    const wait = (o?.[0] === 'submit' || el.getAttribute(ATTR_SUBMIT) === event) && up.w?.(el)
    // Sent once they are, to the view it was meant for (a navigation meanwhile drops it; a rejoin does not).
    const n = navs
    if (wait) return void wait.then(() => { if (n === navs && el.isConnected) push(el, event, params, after, busy, reply, o); else busy?.[0]() })
    if (!joined) {
      busy?.[0]()
      reply?.(undefined, down(event))
      fire(DOM_ERROR, { ...down(event), ref: 0 })
      return
    }
    const cid = targetOf(el, o?.[1])
    // A form's events (and those of its fields) say which of its fields the user has used.
    const u = used.get(el) ?? used.get((el as HTMLInputElement).form as Element)
    request(el, r => u ? [r, OP_EVENT, mount, event, params, cid ?? null, [...u]] : cid === undefined ? [r, OP_EVENT, mount, event, params] : [r, OP_EVENT, mount, event, params, cid], event, after, busy, reply, o?.[0], o?.[2])
  }
  const observe = viewport(root, push)
  const up: UploadPort = (win as unknown as { __lvUp: UploadPort }).__lvUp = {
    root,
    s: d => joined && (ws.send(d), true),
    r: (el, op, name, reply) => { request(el, op, name, undefined, undefined, reply) },
    m: () => mount
  }
  chunks(root)
  return [push, patch]
}

import { ATTR_DROP, ATTR_HOOK, ATTR_UPLOAD, CODE_CHUNK_FAILED, DOM_ERROR, PREFIX } from '../lib/protocol.js'
import type { Params, Push } from './bindings.js'

// The optional parts of the client, each a chunk loaded once a page needs it: uploads (a file
// input or drop zone bound), commands and hooks (a binding whose value is a command list, a
// focus wrap, an `lv-hook`).

/** The chunks' URLs (the server writes them in when it serves this script). */
const UPLOAD_SRC = '__LV_UPLOAD_SRC__'
const JS_SRC = '__LV_JS_SRC__'
const LP_SRC = '__LV_LP_SRC__'

/** What a command's `push` sends through: the event, params added, its target, elements to show loading. */
export type Go = (event: string, value?: Params, target?: string | number, loading?: string, last?: boolean) => void

/**
 * What the command chunk (client/js.ts) and the connection share, as `window.__lvJs`: the
 * chunk sets `x` (run commands: a binding's list, or a hook's `js()` call), `s` (a server
 * update wrote attribute `name` of `el`, or all of them: keep or drop what commands did
 * there), `r` (a rejoin: forget it all), and `d` when commands changed the page (since the
 * last rejoin). The connection sets `p` (go to a URL, as a link would; false when not
 * connected).
 */
export interface JsPort {
  /** The live root, and what sends its events (set at boot). */
  root?: Element
  push?: Push
  /** Wraps every DOM update from the server (the hooks' `updated`), once the chunk is in. */
  w?: <T>(update: () => T) => T
  x?: (el: Element, what: string | [string, unknown[]], go: Go) => void
  s?: (el: Element, name?: string) => void
  r?: () => void
  p?: (el: Element, url: string, replace?: boolean, navigate?: boolean) => boolean
  d?: boolean
  /** Runs waiting for the chunk (the last 20). */
  q: Array<[Element, string | [string, unknown[]], Go]>
  /** Sockets in a row that closed before they opened (the long-poll chunk resets it when HTTP fails too). */
  f: number
  /** A socket of this page opened once: sockets work here, failures are the server's (no long polling, as Phoenix). */
  o?: 1
  /** Stand-ins waiting for the long-poll chunk, and what starts one once it is in. */
  l?: WebSocket[]
  L?: (t: WebSocket) => void
}

export const js: JsPort = (globalThis as unknown as { __lvJs: JsPort }).__lvJs = { q: [], f: 0 }

/** Chunks by URL: when one may be asked for again (never while it loads or once it is in; after a failure, 2 s, then 4 s, … up to 5 minutes). */
const loaded = new Map<string, number>()
let failures = 0
/** Loads a chunk once; one that fails is said (`lv:error`, FST_LIVEVIEW_CHUNK_FAILED) and asked for again when next needed, after a while. */
const load = (doc: Document, src: string): void => {
  if ((loaded.get(src) ?? 0) > Date.now()) return
  loaded.set(src, Infinity)
  const s = doc.createElement('script')
  s.src = src
  s.onerror = () => {
    loaded.set(src, Date.now() + Math.min(1000 * 2 ** ++failures, 3e5))
    s.remove()
    // HTTP fails too (the server is away, not sockets blocked): sockets again, at once.
    js.f = 0
    for (const t of js.l?.splice(0) ?? []) t.close()
    js.root?.dispatchEvent(new CustomEvent(DOM_ERROR, { detail: { code: CODE_CHUNK_FAILED, message: `could not load ${src}`, ref: 0 } }))
  }
  doc.head.append(s)
}

/** Bindings whose value may be a command list, and the focus wrap: what needs the command chunk. */
const COMMANDS = ['click', 'click-away', 'submit', 'change', 'input', 'focus', 'blur', 'keydown', 'keyup']
  .map(b => `[${PREFIX}${b}^="["]`).join() + `,[${PREFIX}focus-wrap],[${ATTR_HOOK}]`

/** Runs commands now, or once the chunk is in (a click before it loaded waits for it). */
export function exec (el: Element, what: string | [string, unknown[]], go: Go): void {
  if (js.x) return js.x(el, what, go)
  // At most the last 20 wait (a chunk that does not load must not hold clicks forever).
  if (js.q.push([el, what, go]) > 20) js.q.shift()
  load(el.ownerDocument, JS_SRC)
}

/** After each update: loads the chunks the page needs now (`up`: the upload chunk's hook, once it is in). */
export function chunks (root: Element, up?: () => void): void {
  if (up) up()
  else if (root.querySelector(`[${ATTR_UPLOAD}],[${ATTR_DROP}]`)) load(root.ownerDocument, UPLOAD_SRC)
  if (!js.x && root.querySelector(COMMANDS)) load(root.ownerDocument, JS_SRC)
}

/**
 * The page's connection: a WebSocket; on a page whose sockets never opened, after three in
 * a row closed before they opened, or while a long-poll that opened after such failures is
 * remembered (an hour, this tab), a stand-in the long-poll chunk drives (client/lp.ts) with
 * the same frames. A page whose socket worked keeps to sockets: its failures are a restart's.
 */
export function transport (doc: Document, url: string): WebSocket {
  let lp = !js.o && js.f > 2
  try { lp ||= +sessionStorage['lv-lp'] > Date.now() } catch {}
  if (!lp) {
    try {
      const ws = new WebSocket(url)
      let early = true
      ws.addEventListener('open', () => { early = false; js.f = 0; js.o = 1 })
      ws.addEventListener('close', () => { if (early) js.f++ })
      return ws
    } catch { js.f = 3 }
  }
  const t = {
    url,
    readyState: 0,
    // Closed before the chunk drives it: as a socket that never opened.
    close () { if (t.readyState < 3) { t.readyState = 3; t.onclose?.({ code: 1006 } as CloseEvent) } }
  } as unknown as WebSocket & { readyState: number }
  // A chunk that does not load (or a session that does not open) in 15 s: closed, as a socket would be.
  setTimeout(() => { if (!t.readyState) t.close() }, 15e3)
  if (js.L) js.L(t)
  else {
    (js.l ??= []).push(t)
    load(doc, LP_SRC)
  }
  return t
}

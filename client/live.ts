import {
  OP_ERROR, OP_EVENT, OP_HTML, OP_JOIN, OP_OK, OP_PATCH, OP_PATCH_URL, OP_PUSH, OP_REDIRECT, OP_SYNC,
  OP_TITLE, OP_TOKEN, OP_URL, PROTOCOL_VERSION, SOCKET_ATTR, TOKEN_ATTR,
  type ClientFrame, type ErrorPayload, type ServerFrame
} from '../lib/protocol.js'
import { applyPatch } from './apply.js'
import type { Push } from './bindings.js'
import type { Reply } from './hooks.js'
import { morph } from './morph.js'

const LOADING = 'lv-loading'
const ERROR = 'lv-error'
const MIN_DELAY = 200
const MAX_DELAY = 10_000
/** The error a patch gets when its URL is another route's: that URL needs a full load. */
const REFUSED = 'FST_LIVEVIEW_PATCH_REFUSED'

/**
 * Tells the view the page's URL changed (`el` shows `lv-loading` until the reply), after
 * pushing `url` to the history when given. False when not connected: nothing is sent, and
 * the caller loads the URL in full.
 */
export type Patch = (el: Element, url?: string) => boolean

/** A sent event awaiting its reply: the element that caused it, `after`, `restore`, `reply`, its name. */
type Pending = [Element, (() => void) | undefined, (() => void) | undefined, Reply | undefined, string]

/**
 * Opens the connection of one live root (join, replies, versions, reconnects) and
 * returns the functions that send an event and a URL change (a patch) over it; follows back
 * and forward itself. Every DOM update from the server runs inside `watch`.
 */
export function connect (root: Element, watch: <T>(update: () => T) => T): [Push, Patch] {
  const cls = root.classList
  // The page token: the view's now, which a navigation replaces (see the "token" frame).
  let token = root.getAttribute(TOKEN_ATTR) as string
  const url = (location.protocol === 'https:' ? 'wss:' : 'ws:') + '//' + location.host + root.getAttribute(SOCKET_ATTR)
  const pending = new Map<number, Pending>()
  let ws: WebSocket
  let ref = 0
  let joinRef = 0
  let syncRef = 0
  let version = 0
  let joined = false
  let joins = 0
  let connected: boolean | undefined
  let reloading = false
  let delay = MIN_DELAY

  const fire = (type: string, detail?: unknown): boolean => root.dispatchEvent(new CustomEvent(type, { detail }))
  const send = (frame: ClientFrame): void => ws.send(JSON.stringify(frame))
  const state = (up: boolean): void => {
    joined = up
    if (up === connected) return
    connected = up
    cls.toggle('lv-connected', up)
    cls.toggle('lv-disconnected', !up)
    fire(up ? 'lv:connected' : 'lv:disconnected')
  }
  const gone = (event: string): ErrorPayload => ({ code: 'FST_LIVEVIEW_DISCONNECTED', message: `not connected: '${event}' dropped` })
  /** Ends a pending event (undoing its `lv-disable-with`); returns its entry. */
  const done = (r: number): Pending | undefined => {
    const entry = pending.get(r)
    if (!entry) return
    pending.delete(r)
    const [el, , restore] = entry
    restore?.()
    if (![...pending.values()].some(p => p[0] === el)) el.classList.remove(LOADING)
    if (!pending.size) cls.remove(LOADING)
    return entry
  }
  const sync = (): void => {
    if (!syncRef) send([syncRef = ++ref, OP_SYNC])
  }
  const reload = (): void => {
    if (!reloading) location.reload()
    reloading = true
  }
  /** The page's URL without its fragment: what the view's params come from. */
  const here = (): string => location.href.split('#')[0] as string
  let at = here()
  /** Pushes `url` to the history, unless the page is there already. */
  const go = (url: string): void => {
    if (new URL(url, location.href).href !== location.href) history.pushState({}, '', url)
    at = here()
  }
  /** Sends an event or a patch (the frame `op(ref)`) and tracks it until its reply. */
  const request = (el: Element, op: (r: number) => ClientFrame, name: string, after?: () => void, restore?: () => void, reply?: Reply): void => {
    pending.set(++ref, [el, after, restore, reply, name])
    el.classList.add(LOADING)
    cls.add(LOADING)
    send(op(ref))
  }
  const patch: Patch = (el, url) => {
    if (!joined) return false
    if (url) go(url)
    // A URL of another route needs a full load; the history already has it.
    request(el, r => [r, OP_PATCH_URL, location.href], OP_PATCH_URL, undefined, undefined, (_, e) => { if (e?.code === REFUSED) reload() })
    return true
  }
  // Back and forward: the view follows the URL, or the page loads it in full. A change of
  // fragment alone is no patch.
  ;(root.ownerDocument.defaultView as Window).addEventListener('popstate', () => {
    if (here() === at) return
    at = here()
    if (!patch(root)) reload()
  })

  const receive = (frame: ServerFrame): void => {
    const [r, op] = frame
    if (op === OP_PUSH) {
      // An event the view pushed, for hooks' handleEvent and the page.
      fire('lv:event', { event: frame[2], payload: frame[3] })
      return
    }
    if (op === OP_URL) return go(frame[2])
    if (op === OP_TOKEN) {
      token = frame[2]
      root.setAttribute(TOKEN_ATTR, token)
      return
    }
    if (op === OP_TITLE) {
      document.title = frame[2]
      return
    }
    if (op === OP_REDIRECT) {
      reloading = true
      return location.assign(frame[2])
    }
    const entry = done(r)
    if (r && r === syncRef) syncRef = 0
    if (op === OP_ERROR) {
      entry?.[3]?.(undefined, frame[2])
      cls.add(ERROR)
      fire('lv:error', { ...frame[2], ref: r })
      if (frame[2].reload) reload()
      return
    }
    const join = r && r === joinRef
    if (join) {
      joinRef = 0
      version = frame[2] as number
      cls.remove(ERROR)
      delay = MIN_DELAY
      // A rejoin is connected before its render: forms recover (send what they show) before
      // the new session's HTML replaces it. A first join is connected after: hooks mount on it.
      if (joins++) state(true)
    }
    if (op === OP_HTML) {
      version = frame[2]
      watch(() => { morph(root, frame[3]) })
    } else if (syncRef) {
      // A full HTML reply is on its way: it supersedes whatever arrives before it.
    } else if (op === OP_PATCH) {
      if (frame[2] === version + 1 && watch(() => applyPatch(root, frame[3]))) version++
      else sync()
    } else if (op === OP_OK && frame[2] !== version) {
      sync()
    }
    if (join) state(true)
    entry?.[1]?.()
    entry?.[3]?.(frame[op === OP_OK ? 3 : 4])
  }

  const open = (): void => {
    ws = new WebSocket(url)
    ws.onopen = () => {
      syncRef = 0
      send([joinRef = ++ref, OP_JOIN, { v: PROTOCOL_VERSION, token, url: location.href }])
    }
    ws.onmessage = m => receive(JSON.parse(m.data as string) as ServerFrame)
    ws.onclose = () => {
      for (const [r, [, , , , event]] of [...pending]) done(r)?.[3]?.(undefined, gone(event))
      state(false)
      if (reloading) return
      // A refused join (4001) says in the error frame before it whether to reload.
      setTimeout(open, delay * (0.5 + Math.random()))
      delay = Math.min(delay * 2, MAX_DELAY)
    }
  }
  open()

  return [(el, event, params, after, restore, reply) => {
    if (!joined) {
      restore?.()
      reply?.(undefined, gone(event))
      fire('lv:error', { ...gone(event), ref: 0 })
      return
    }
    request(el, r => [r, OP_EVENT, event, params], event, after, restore, reply)
  }, patch]
}

import {
  OP_ERROR, OP_EVENT, OP_HTML, OP_JOIN, OP_OK, OP_PATCH, OP_PUSH, OP_SYNC,
  PROTOCOL_VERSION, SOCKET_ATTR, TOKEN_ATTR,
  type ClientFrame, type ServerFrame
} from '../lib/protocol.js'
import { applyPatch } from './apply.js'
import type { Push } from './bindings.js'
import { morph } from './morph.js'

const LOADING = 'lv-loading'
const ERROR = 'lv-error'
const MIN_DELAY = 200
const MAX_DELAY = 10_000

/**
 * Opens the connection of one live root (join, replies, versions, reconnects) and
 * returns the function that sends an event over it.
 */
export function connect (root: Element): Push {
  const cls = root.classList
  const token = root.getAttribute(TOKEN_ATTR) as string
  const url = (location.protocol === 'https:' ? 'wss:' : 'ws:') + '//' + location.host + root.getAttribute(SOCKET_ATTR)
  const pending = new Map<number, [Element, (() => void) | undefined, (() => void) | undefined]>()
  let ws: WebSocket
  let ref = 0
  let joinRef = 0
  let syncRef = 0
  let version = 0
  let joined = false
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
  /** Ends a pending event (undoing its `lv-disable-with`); returns what to run once its reply is applied. */
  const done = (r: number): (() => void) | undefined => {
    const entry = pending.get(r)
    if (!entry) return
    pending.delete(r)
    const [el, after, restore] = entry
    restore?.()
    if (![...pending.values()].some(p => p[0] === el)) el.classList.remove(LOADING)
    if (!pending.size) cls.remove(LOADING)
    return after
  }
  const sync = (): void => {
    if (!syncRef) send([syncRef = ++ref, OP_SYNC])
  }

  const receive = (frame: ServerFrame): void => {
    const [r, op] = frame
    if (op === OP_PUSH) {
      // An event the view pushed: hooks come later; the page can listen for it now.
      fire('lv:event', { event: frame[2], payload: frame[3] })
      return
    }
    const after = done(r)
    if (r && r === syncRef) syncRef = 0
    if (op === OP_ERROR) {
      cls.add(ERROR)
      fire('lv:error', { ...frame[2], ref: r })
      if (frame[2].reload) {
        reloading = true
        location.reload()
      }
      return
    }
    if (r && r === joinRef) {
      joinRef = 0
      version = frame[2]
      cls.remove(ERROR)
      delay = MIN_DELAY
      state(true)
    }
    if (op === OP_HTML) {
      version = frame[2]
      morph(root, frame[3])
    } else if (syncRef) {
      // A full HTML reply is on its way: it supersedes whatever arrives before it.
    } else if (op === OP_PATCH) {
      if (frame[2] === version + 1 && applyPatch(root, frame[3])) version++
      else sync()
    } else if (op === OP_OK && frame[2] !== version) {
      sync()
    }
    after?.()
  }

  const open = (): void => {
    ws = new WebSocket(url)
    ws.onopen = () => {
      syncRef = 0
      send([joinRef = ++ref, OP_JOIN, { v: PROTOCOL_VERSION, token, url: location.href }])
    }
    ws.onmessage = m => receive(JSON.parse(m.data as string) as ServerFrame)
    ws.onclose = () => {
      for (const r of [...pending.keys()]) done(r)
      state(false)
      if (reloading) return
      // A refused join (4001) says in the error frame before it whether to reload.
      setTimeout(open, delay * (0.5 + Math.random()))
      delay = Math.min(delay * 2, MAX_DELAY)
    }
  }
  open()

  return (el, event, params, after, restore) => {
    if (!joined) {
      restore?.()
      fire('lv:error', { code: 'FST_LIVEVIEW_DISCONNECTED', message: `not connected: '${event}' dropped`, ref: 0 })
      return
    }
    pending.set(++ref, [el, after, restore])
    el.classList.add(LOADING)
    cls.add(LOADING)
    send([ref, OP_EVENT, event, params])
  }
}

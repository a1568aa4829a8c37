import {
  OP_ERROR, OP_EVENT, OP_HTML, OP_JOIN, OP_OK, OP_PATCH, OP_PUSH, OP_SYNC,
  PROTOCOL_VERSION, SOCKET_ATTR, TOKEN_ATTR,
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

/** A sent event awaiting its reply: the element that caused it, `after`, `restore`, `reply`, its name. */
type Pending = [Element, (() => void) | undefined, (() => void) | undefined, Reply | undefined, string]

/**
 * Opens the connection of one live root (join, replies, versions, reconnects) and
 * returns the function that sends an event over it. Every DOM update from the server runs
 * inside `watch`.
 */
export function connect (root: Element, watch: <T>(update: () => T) => T): Push {
  const cls = root.classList
  const token = root.getAttribute(TOKEN_ATTR) as string
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

  const receive = (frame: ServerFrame): void => {
    const [r, op] = frame
    if (op === OP_PUSH) {
      // An event the view pushed, for hooks' handleEvent and the page.
      fire('lv:event', { event: frame[2], payload: frame[3] })
      return
    }
    const entry = done(r)
    if (r && r === syncRef) syncRef = 0
    if (op === OP_ERROR) {
      entry?.[3]?.(undefined, frame[2])
      cls.add(ERROR)
      fire('lv:error', { ...frame[2], ref: r })
      if (frame[2].reload) {
        reloading = true
        location.reload()
      }
      return
    }
    const join = r && r === joinRef
    if (join) {
      joinRef = 0
      version = frame[2]
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

  return (el, event, params, after, restore, reply) => {
    if (!joined) {
      restore?.()
      reply?.(undefined, gone(event))
      fire('lv:error', { ...gone(event), ref: 0 })
      return
    }
    pending.set(++ref, [el, after, restore, reply, event])
    el.classList.add(LOADING)
    cls.add(LOADING)
    send([ref, OP_EVENT, event, params])
  }
}

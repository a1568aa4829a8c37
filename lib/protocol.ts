/**
 * The wire protocol and every name the browser client shares with the server.
 *
 * This module must stay free of Node and DOM imports: the client bundle imports it as it
 * is. Frames are built and read in one place, `frames.ts`; this module holds their names
 * and types. Every frame is a JSON array whose first element is the message ref (a
 * positive integer chosen by the client for its own messages, 0 for messages the server
 * starts) and whose second is the op.
 *
 * Client → server:
 * - `[ref, "join", { v, token, url, pristine? }]`  first frame of a socket; `pristine` when the
 *                                                 live root shows exactly the render the token
 *                                                 was signed for (nothing applied since)
 * - `[ref, "e", mount, event, params, cid?, used?]` run a declared handler of the view mounted as
 *                                                 `mount` (refused as stale for another one), or
 *                                                 of its component `cid` (the root's `lv-cid`; 0:
 *                                                 the binding's `lv-target` matched none; null:
 *                                                 the view); `used`: a form's fields the user has
 *                                                 used (typed in, changed, submitted), by name
 * - `[ref, "sync"]`                                out of sync: send full HTML
 * - `[ref, "patch", url]`                          the page's URL changed (a link, back, forward)
 * - `[ref, "u", mount, name, files, cid?]`         declares files for the upload `name` (each
 *                                                 `[clientName, type, size, resumeRef?]`); the
 *                                                 reply's value is an `UploadGrant`
 * - `[ref, "up", mount, entryRef, progress]`        an external upload's progress (0–100; 100: the
 *                                                 client says it is complete; -1: it failed)
 * - binary `[1, refLength, ref…, offset (float64 BE), bytes…]`  a chunk of an upload entry's file,
 *                                                 at `offset`: the next bytes the server expects
 *
 * Server → client (replies carry the ref of what they answer):
 * - `[ref, "ok", version, value?]`                 nothing changed
 * - `[ref, "p", version, patch, value?]`           a diff-dom patch (compressed keys)
 * - `[ref, "h", version, html, value?]`            full inner HTML of the root
 * - `[ref, "err", { code, message, reload?, url? }]`  the message failed
 * - `[ref, "mount", { id, version, html?, token?, title, url?, streams? }]`  a view is mounted: the reply
 *                                                 to a join (no html: the page shows it already)
 *                                                 or a navigation (ref 0 when the view started it)
 * - `[0, "ev", event, payload]`                    an event the view pushed (`pushEvent`)
 * - `[0, "url", url, token]`                       the page's URL changed (`pushPatch`, or a patch
 *                                                 the client sent): the token of the page there
 * - `[0, "title", title]`                          the page title changed
 * - `[0, "redirect", url, flash?]`                 load that URL; `flash` is the signed carrier
 *                                                 of the view's flash, for the next page
 * - `[0, "ua", entryRef, received]`               the server holds `received` bytes of the entry
 *                                                 (-1: it was cancelled or failed: send no more)
 * - `[0, "st", ops]`                               stream operations, each addressed by key:
 *                                                 `[name, "i", key, html, at, limit]` insert (or
 *                                                 replace the item with that key), `[name, "d",
 *                                                 key]` delete, `[name, "r"]` empty the stream
 *
 * `value` is what an event's handler returned, when not undefined. `version` counts the
 * updates of a session: the join is 0, each change (and each navigation) is the next one.
 */

/** The longest list of used field names an event may carry, and the longest name. */
export const MAX_USED = 500
export const MAX_USED_NAME = 200

/** Bumped whenever a change makes old pages unable to talk to a new server. */
export const PROTOCOL_VERSION = 8

/** Attribute prefix of every binding. */
export const PREFIX = 'lv-'

/** Attributes the server writes on the root element. */
export const ROOT_ATTR = 'data-lv-root'
export const TOKEN_ATTR = 'data-lv-token'
export const SOCKET_ATTR = 'data-lv-socket'

// Binding attributes (single constants, not an object: the client bundle minifies them).
export const ATTR_CLICK = PREFIX + 'click'
export const ATTR_CLICK_AWAY = PREFIX + 'click-away'
export const ATTR_SUBMIT = PREFIX + 'submit'
export const ATTR_KEY = PREFIX + 'key'
export const ATTR_VALUE = PREFIX + 'value-'
export const ATTR_DEBOUNCE = PREFIX + 'debounce'
export const ATTR_THROTTLE = PREFIX + 'throttle'
export const ATTR_CONFIRM = PREFIX + 'confirm'
export const ATTR_DISABLE_WITH = PREFIX + 'disable-with'
export const ATTR_PATCH = PREFIX + 'patch'
export const ATTR_NAVIGATE = PREFIX + 'navigate'
export const ATTR_UPDATE = PREFIX + 'update'
/** Attributes of an element the client owns (`open`, `data-*`): server updates leave them as they are. */
export const ATTR_IGNORE_ATTRS = PREFIX + 'ignore-attributes'
export const ATTR_HOOK = PREFIX + 'hook'
/** Where an event goes: `@myself` (the component around), a CSS selector, or a component's `lv-cid`. */
export const ATTR_TARGET = PREFIX + 'target'
/** The wire id the server puts on each component's root element. */
export const CID_ATTR = PREFIX + 'cid'
/** A stream's container: `lv-stream="name"`; its children are the client's (the stream's items). */
export const ATTR_STREAM = PREFIX + 'stream'
/** The key the server puts on each stream item's root element. */
export const KEY_ATTR = PREFIX + 'key'
/** On a stream container: the event sent when its first (last) item enters the viewport. */
export const ATTR_VIEWPORT_TOP = PREFIX + 'viewport-top'
export const ATTR_VIEWPORT_BOTTOM = PREFIX + 'viewport-bottom'
/** A file input bound to an upload the view allows: `lv-upload="name"`. */
export const ATTR_UPLOAD = PREFIX + 'upload'
/** A drop zone for an upload: `lv-drop="name"` (files dropped on it go to that upload). */
export const ATTR_DROP = PREFIX + 'drop'
/** An `<img lv-preview="entryRef">`: the client shows the file picked for that entry (an object URL). */
export const ATTR_PREVIEW = PREFIX + 'preview'
/** A drop zone's class while files are dragged over it. */
export const CLASS_DRAG = 'lv-drag'
/** `lv-window-` + a DOM event type. */
export const ATTR_WINDOW = PREFIX + 'window-'

// Classes the client sets.
export const CLASS_CONNECTED = 'lv-connected'
export const CLASS_DISCONNECTED = 'lv-disconnected'
export const CLASS_LOADING = 'lv-loading'
export const CLASS_ERROR = 'lv-error'

// DOM events the live root dispatches.
export const DOM_CONNECTED = 'lv:connected'
export const DOM_DISCONNECTED = 'lv:disconnected'
export const DOM_ERROR = 'lv:error'
export const DOM_EVENT = 'lv:event'
/** On the window, around a URL change (a link, back or forward, a command): its detail `{ kind, to }`. */
export const DOM_PAGE_START = 'lv:page-loading-start'
export const DOM_PAGE_STOP = 'lv:page-loading-stop'

// Error codes the client itself reads or raises (all listed in errors.ts and the README).
export const CODE_DISCONNECTED = 'FST_LIVEVIEW_DISCONNECTED'
export const CODE_STALE = 'FST_LIVEVIEW_EVENT_STALE'
export const CODE_RELOAD_LIMIT = 'FST_LIVEVIEW_RELOAD_LIMIT'
/** Set by the client: a lazy chunk (uploads, commands and hooks) did not load. */
export const CODE_CHUNK_FAILED = 'FST_LIVEVIEW_CHUNK_FAILED'

/** The cookie that carries a redirect's flash to the next page (signed by the server, set by the client). */
export const FLASH_COOKIE = 'lv_flash'
/** Seconds the flash cookie lives: the next page load takes it. */
export const FLASH_COOKIE_MAX_AGE = 60

/** Client → server ops. */
export const OP_JOIN = 'join'
export const OP_EVENT = 'e'
export const OP_SYNC = 'sync'
export const OP_PATCH_URL = 'patch'
export const OP_UPLOAD = 'u'
export const OP_UPLOAD_PROGRESS = 'up'
/** The first byte of a binary chunk frame. */
export const CHUNK_KIND = 1

/** Server → client ops. */
export const OP_OK = 'ok'
export const OP_PATCH = 'p'
export const OP_HTML = 'h'
export const OP_ERROR = 'err'
export const OP_MOUNT = 'mount'
export const OP_PUSH = 'ev'
export const OP_URL = 'url'
export const OP_TITLE = 'title'
export const OP_REDIRECT = 'redirect'
export const OP_STREAM = 'st'
export const OP_UPLOAD_ACK = 'ua'

/** WebSocket close codes the server uses (4000–4999 are the application's). */
export const CLOSE_GOING_AWAY = 1001
export const CLOSE_TOO_LARGE = 1009
/** The socket did not join in time. */
export const CLOSE_JOIN_TIMEOUT = 4000
/** The join was refused (bad token, old protocol, unknown route, failed mount); see the error frame sent before. */
export const CLOSE_JOIN_REFUSED = 4001
/** The client stopped reading and its send buffer passed the limit. */
export const CLOSE_SLOW_CLIENT = 4002
/** The heartbeat got no answer. */
export const CLOSE_HEARTBEAT = 4003
/** The app disconnected the sessions of this user (`liveViewDisconnect`): the rejoin is refused, the page reloads. */
export const CLOSE_DISCONNECTED = 4004
/** The client kept sending over its rate limit (`rateLimitCloseMs`). */
export const CLOSE_RATE_LIMITED = 4005

/** diff-dom's action keys, in the order diff-dom numbers them when `compress: true`. */
export const DIFF_CONST_NAMES = [
  'addAttribute', 'modifyAttribute', 'removeAttribute', 'modifyTextElement',
  'relocateGroup', 'removeElement', 'addElement', 'removeTextElement',
  'addTextElement', 'replaceElement', 'modifyValue', 'modifyChecked',
  'modifySelected', 'modifyComment', 'action', 'route', 'oldValue', 'newValue',
  'element', 'group', 'groupLength', 'from', 'to', 'name', 'value', 'data',
  'attributes', 'nodeName', 'childNodes', 'checked', 'selected'
] as const

/**
 * The same, as numbers by name: a const enum, so the client's bundle holds the numbers only
 * (esbuild inlines them), not the names. test/diff.test.ts checks the two agree.
 */
export const enum Diff {
  addAttribute = 0, modifyAttribute = 1, removeAttribute = 2, modifyTextElement = 3,
  relocateGroup = 4, removeElement = 5, addElement = 6, removeTextElement = 7, addTextElement = 8,
  replaceElement = 9, modifyValue = 10, modifyChecked = 11, modifySelected = 12,
  modifyComment = 13, action = 14, route = 15, oldValue = 16, newValue = 17, element = 18,
  group = 19, groupLength = 20, from = 21, to = 22, name = 23, value = 24, data = 25,
  attributes = 26, nodeName = 27, childNodes = 28, checked = 29, selected = 30
}

/**
 * An action of our own beside diff-dom's: the children of the element at `route` from
 * index `from` on take the order `value` (each entry: the current position, counted from
 * `from`, of the child that goes there). A reversed list costs one number per child.
 */
export const REORDER = 99

export type DiffConstName = typeof DIFF_CONST_NAMES[number]

/** One diff-dom action with compressed (numeric) keys. */
export type PatchAction = Record<string, unknown>
export type Patch = PatchAction[]

export interface JoinPayload {
  /** Protocol version the page was built for. */
  v: number
  /** Signed page token from the root element (or the last mount frame). */
  token: string
  /** `location.href` of the page. */
  url: string
  /** True when the root shows exactly the render the token was signed for. */
  pristine?: boolean
}

export interface ErrorPayload {
  code: string
  message: string
  /** The page cannot recover over this socket: reload it. */
  reload?: boolean
  /** Load this URL in full (a navigation the server could not do live). */
  url?: string
}

export interface MountPayload {
  /** The mount's id: events name it, so those meant for an earlier view are refused. */
  id: number
  version: number
  /** The root's inner HTML; absent when the page shows it already (a pristine join). */
  html?: string
  /** The page token of this mount (after a navigation), for reconnects. */
  token?: string
  title: string
  /** The page's URL now (after a navigation). */
  url?: string
  /** What `mount` streamed: applied with the mount, once the page's stream containers are emptied. */
  streams?: StreamOp[]
}

/** One stream operation (see the `st` frame). */
export type StreamOp =
  | [name: string, op: 'i', key: string, html: string, at: number, limit: number]
  | [name: string, op: 'd', key: string]
  | [name: string, op: 'r']

/** A file the client declares for an upload: name, MIME type, size in bytes, and the ref of an entry to resume. */
export type UploadFile = [clientName: string, type: string, size: number, resume?: string]

/** Where an external upload goes: the client sends the file there (`PUT` unless `method` says). */
export interface UploadTarget {
  url: string
  method?: 'PUT' | 'POST'
  headers?: Record<string, string>
}

/**
 * The reply to an upload declaration: per file in order, `[ref, ok, received, target?]` (ok:
 * send its bytes, from `received` on; `target`: to that URL, not over the socket); the
 * chunk size, the window (bytes sent and not yet acknowledged), and whether to start now.
 */
export interface UploadGrant {
  entries: Array<[ref: string, ok: boolean, received: number, target?: UploadTarget]>
  chunk: number
  window: number
  auto: boolean
}

export type ClientFrame =
  | [ref: number, op: typeof OP_JOIN, payload: JoinPayload]
  | [ref: number, op: typeof OP_EVENT, mount: number, event: string, params: Record<string, unknown>, cid?: number | null, used?: string[]]
  | [ref: number, op: typeof OP_SYNC]
  | [ref: number, op: typeof OP_PATCH_URL, url: string]
  | [ref: number, op: typeof OP_UPLOAD, mount: number, name: string, files: UploadFile[], cid?: number]
  | [ref: number, op: typeof OP_UPLOAD_PROGRESS, mount: number, entry: string, progress: number]

export type ServerFrame =
  | [ref: number, op: typeof OP_OK, version: number, value?: unknown]
  | [ref: number, op: typeof OP_PATCH, version: number, patch: Patch, value?: unknown]
  | [ref: number, op: typeof OP_HTML, version: number, html: string, value?: unknown]
  | [ref: number, op: typeof OP_ERROR, error: ErrorPayload]
  | [ref: number, op: typeof OP_MOUNT, mount: MountPayload]
  | [ref: 0, op: typeof OP_PUSH, event: string, payload: unknown]
  | [ref: 0, op: typeof OP_URL, url: string, token?: string]
  | [ref: 0, op: typeof OP_TITLE, value: string]
  | [ref: 0, op: typeof OP_REDIRECT, url: string, flash?: string]
  | [ref: 0, op: typeof OP_STREAM, ops: StreamOp[]]
  | [ref: 0, op: typeof OP_UPLOAD_ACK, entry: string, received: number]

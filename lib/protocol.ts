/**
 * The wire protocol, shared by the server and the browser client.
 *
 * This module must stay free of Node and DOM imports: the client bundle
 * imports it as it is. Every frame is a JSON array whose first element is
 * the message ref (a positive integer chosen by the client for its own
 * messages, 0 for messages the server starts) and whose second is the op.
 *
 * Client → server:
 * - `[ref, "join", { v, token, url }]`      first frame of a socket
 * - `[ref, "e", event, params]`            run a declared event handler
 * - `[ref, "sync"]`                        client is out of sync: send full HTML
 * - `[ref, "patch", url]`                  the page's URL changed (an lv-patch or lv-navigate
 *                                          link, back or forward): within the route, the view's
 *                                          handleParams runs; on another live route, the server
 *                                          mounts that route's view on this socket and answers
 *                                          with full HTML (version 0) and a "token" frame; a URL
 *                                          that is no live route is refused with
 *                                          FST_LIVEVIEW_PATCH_REFUSED (the client loads it)
 *
 * Server → client (replies carry the ref of what they answer):
 * - `[ref, "ok", version]`                  nothing changed
 * - `[ref, "p", version, patch]`            diff-dom patch (compressed keys)
 * - `[ref, "h", version, html]`             full inner HTML of the root
 * - `[ref, "err", { code, message, reload? }]`  the message failed; the session goes on
 * - `[0, "ev", event, payload]`             an event the view pushed (`pushEvent`), for hooks
 * - `[0, "url", url]`                       the view patched the URL (`pushPatch`): push it to history
 * - `[0, "title", title]`                   the page title changed
 * - `[0, "redirect", url]`                  load that URL (`redirect`)
 * - `[0, "token", token]`                   the page token of the view now mounted (after a navigation)
 *
 * When an event's handler returns a value (other than undefined), its reply carries it last:
 * `[ref, "ok", version, value]`, `[ref, "p", version, patch, value]`, `[ref, "h", version, html, value]`.
 *
 * `version` counts the updates a session has sent since join (join reply = 0).
 * A client that sees a patch whose version is not its own + 1 asks for `sync`.
 */

/** Bumped whenever a change makes old pages unable to talk to a new server. */
export const PROTOCOL_VERSION = 1

/** Attribute prefix of every binding. */
export const PREFIX = 'lv-'

/** Attributes the server writes on the root element. */
export const ROOT_ATTR = 'data-lv-root'
export const TOKEN_ATTR = 'data-lv-token'
export const SOCKET_ATTR = 'data-lv-socket'

/** Client → server ops. */
export const OP_JOIN = 'join'
export const OP_EVENT = 'e'
export const OP_SYNC = 'sync'
export const OP_PATCH_URL = 'patch'

/** Server → client ops. */
export const OP_OK = 'ok'
export const OP_PATCH = 'p'
export const OP_HTML = 'h'
export const OP_ERROR = 'err'
export const OP_PUSH = 'ev'
export const OP_URL = 'url'
export const OP_TITLE = 'title'
export const OP_REDIRECT = 'redirect'
export const OP_TOKEN = 'token'

/** WebSocket close codes the server uses (4000–4999 are the application's). */
export const CLOSE_GOING_AWAY = 1001
export const CLOSE_TOO_LARGE = 1009
/** The socket did not join in time. */
export const CLOSE_JOIN_TIMEOUT = 4000
/** The join was refused (bad token, old protocol, unknown route); see the error frame sent before. */
export const CLOSE_JOIN_REFUSED = 4001
/** The client stopped reading and its send buffer passed the limit. */
export const CLOSE_SLOW_CLIENT = 4002
/** The heartbeat got no answer. */
export const CLOSE_HEARTBEAT = 4003

/** diff-dom's action keys, in the order diff-dom numbers them when `compress: true`. */
export const DIFF_CONST_NAMES = [
  'addAttribute', 'modifyAttribute', 'removeAttribute', 'modifyTextElement',
  'relocateGroup', 'removeElement', 'addElement', 'removeTextElement',
  'addTextElement', 'replaceElement', 'modifyValue', 'modifyChecked',
  'modifySelected', 'modifyComment', 'action', 'route', 'oldValue', 'newValue',
  'element', 'group', 'groupLength', 'from', 'to', 'name', 'value', 'data',
  'attributes', 'nodeName', 'childNodes', 'checked', 'selected'
] as const

export type DiffConstName = typeof DIFF_CONST_NAMES[number]

/** One diff-dom action with compressed (numeric) keys. */
export type PatchAction = Record<string, unknown>
export type Patch = PatchAction[]

export interface JoinPayload {
  /** Protocol version the page was built for. */
  v: number
  /** Signed page token from the root element. */
  token: string
  /** `location.href` of the page. */
  url: string
}

export interface ErrorPayload {
  code: string
  message: string
  /** When true the page cannot recover over this socket: reload it. */
  reload?: boolean
}

export type ClientFrame =
  | [ref: number, op: typeof OP_JOIN, payload: JoinPayload]
  | [ref: number, op: typeof OP_EVENT, event: string, params: Record<string, unknown>]
  | [ref: number, op: typeof OP_SYNC]
  | [ref: number, op: typeof OP_PATCH_URL, url: string]

export type ServerFrame =
  | [ref: number, op: typeof OP_OK, version: number, value?: unknown]
  | [ref: number, op: typeof OP_PATCH, version: number, patch: Patch, value?: unknown]
  | [ref: number, op: typeof OP_HTML, version: number, html: string, value?: unknown]
  | [ref: number, op: typeof OP_ERROR, error: ErrorPayload]
  | [ref: 0, op: typeof OP_PUSH, event: string, payload: unknown]
  | [ref: 0, op: typeof OP_URL | typeof OP_TITLE | typeof OP_REDIRECT | typeof OP_TOKEN, value: string]

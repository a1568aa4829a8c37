import { randomBytes } from 'node:crypto'
import { statSync } from 'node:fs'
import { isAbsolute, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { FastifyRequest } from 'fastify'
import { errors } from './errors.js'
import { systemClock, type Clock } from './clock.js'
import type { PubSub } from './pubsub.js'
import type { LiveStore } from './store.js'
import type { PresenceOptions } from './presence.js'
import type { LiveView, Params } from './view.js'
import { DEFAULT_LIMITS, type LiveViewLimits, type ResolvedLimits } from './limits.js'

export { DEFAULT_LIMITS, type LiveViewLimits, type ResolvedLimits } from './limits.js'

/** What the app's `onMount` check gets: the view about to mount, and where. */
export interface MountContext {
  /** The view instance (fields set here are there in `mount`). Call `view.redirect(url)` to send the browser elsewhere instead. */
  view: LiveView
  /** The route pattern, e.g. `/doc/:id`. */
  route: string
  /** The route's live session (`liveSession` route option; `'default'` when it names none). */
  liveSession: string
  url: URL
  params: Params
  /** The app's session data of this request, from the `session` option. */
  session: unknown
  /** False on the HTTP render, true on a live mount (join, rejoin, navigation). */
  connected: boolean
  /** The page's request (HTTP render) or the socket's upgrade request. */
  request: FastifyRequest
}

/** The `lang` option: a language tag, or a function of the page's request and session data. */
export type LangOption = string | ((request: FastifyRequest, session: unknown) => string)

/** The `layoutData` option: extra data for the layout, per page load. */
export type LayoutDataOption = (request: FastifyRequest, session: unknown) => Record<string, unknown> | Promise<Record<string, unknown>>

/** Options of `fastify.register(liveview, options)`. */
export interface LiveViewOptions {
  /** Folder of the Eta templates: a path (relative to the working directory) or a `file:` URL. Default: `views` */
  root?: string | URL | undefined
  /** Name of a layout template under `root` that wraps every page (it gets `it.body`, `it.head`, `it.title`, `it.lang`), or `false` for the built-in one. Default: the built-in layout */
  layout?: string | false | undefined
  /**
   * The page's language: `<html lang>` of the built-in layout, `it.lang` in yours. A
   * language tag, or a function of the page's request and session data. Default: `'en'`
   */
  lang?: LangOption | undefined
  /**
   * Extra data for your layout, computed once per page load (a signed-in user's name for
   * the header): merged into its `it`, under `title`, `head`, `body`, `lang` and `session`,
   * which win. Async allowed. Default: none
   */
  layoutData?: LayoutDataOption | undefined
  /**
   * Secret that signs page tokens, at least 32 characters. A list rotates keys: the first
   * signs, all verify. Default: none; in development a random one is generated (with a
   * warning), in production `register` fails without it.
   */
  secret?: string | string[] | undefined
  /** Production mode: templates are cached and a secret is required. Default: `process.env.NODE_ENV === 'production'` */
  production?: boolean | undefined
  /** Origins (like `https://app.example.com`) allowed to open the socket besides the page's own host. Default: `[]` */
  allowedOrigins?: string[] | undefined
  /** Path under which the plugin serves the socket (`<prefix>/ws`) and the client script. Default: `/_live` */
  prefix?: string | undefined
  /**
   * Derives the session data from a request (e.g. the user read from a cookie or
   * @fastify/session): for the page GET, and again for every live mount (join, rejoin,
   * navigation) from the socket's request, after the route's hooks ran. `mount` gets it. Its
   * `key` field (a string or number: the user id, say) binds page tokens to the user and
   * names the user's sessions for `app.liveViewDisconnect(key)`. Default: `() => ({})`
   */
  session?: ((request: FastifyRequest) => unknown) | undefined
  /**
   * A check for every mount of every live view (Phoenix's `on_mount`), on the HTTP render
   * and on every live mount, before `mount`: throw to refuse (an error with a `statusCode`
   * answers the GET with it), or call `view.redirect(url)` to send the browser elsewhere.
   * Default: none
   */
  onMount?: ((mount: MountContext) => void | Promise<void>) | undefined
  /**
   * Where revocation records (`liveViewDisconnect`) and persisted view state (`static
   * persist`) are kept: a `RedisStore` from `fastify-liveview/redis` shares them between
   * processes and keeps them across restarts. Default: this process's memory
   */
  store?: LiveStore | undefined
  /** Milliseconds a page token stays valid; an expired token makes the page reload. Default: 86400000 (1 day) */
  tokenMaxAgeMs?: number | undefined
  /**
   * Milliseconds a page's persisted view state (`static persist`) is kept after its last
   * save: a page that rejoins later starts from `mount` alone. Default: 3600000 (1 hour)
   */
  persistTtlMs?: number | undefined
  /**
   * Development: watch the views root and re-render every open page when a template changes
   * (state kept). Never in production. Default: `!production`
   */
  watch?: boolean | undefined
  /**
   * Presence (`this.track`): how often each process sends its heartbeat, and how long
   * without one before its trackings leave (a killed process's users leave within
   * `timeoutMs` plus one heartbeat). Default: `{ heartbeatMs: 5000, timeoutMs: 15000 }`
   */
  presence?: { heartbeatMs?: number | undefined, timeoutMs?: number | undefined } | undefined
  /** Per-connection limits. */
  limits?: LiveViewLimits | undefined
  /** Where broadcasts go between sessions (`subscribe`, `broadcast`). Default: an in-memory adapter (this process only) */
  pubsub?: PubSub | undefined
  /**
   * Milliseconds `app.close()` gives running handlers to finish and reply, and views'
   * `terminate` to run, before sockets are cut. Default: 5000
   */
  shutdownTimeoutMs?: number | undefined
  /** The clock sessions, tokens, rate limits and sockets read (tests pass a fake one). Default: the system clock */
  clock?: Clock | undefined
}

export interface ResolvedOptions {
  root: string
  layout: string | false
  lang: LangOption
  layoutData: LayoutDataOption | undefined
  secrets: string[]
  generatedSecret: boolean
  production: boolean
  allowedOrigins: Set<string>
  prefix: string
  session: (request: FastifyRequest) => unknown
  onMount: ((mount: MountContext) => void | Promise<void>) | undefined
  store: LiveStore | undefined
  tokenMaxAgeMs: number
  persistTtlMs: number
  watch: boolean
  presence: PresenceOptions
  limits: ResolvedLimits
  pubsub: PubSub | undefined
  shutdownTimeoutMs: number
  clock: Clock
}

const KNOWN = new Set(['root', 'layout', 'lang', 'layoutData', 'secret', 'production', 'allowedOrigins', 'prefix', 'session', 'tokenMaxAgeMs', 'limits', 'pubsub', 'shutdownTimeoutMs', 'clock', 'onMount', 'store', 'persistTtlMs', 'presence', 'watch'])

function fail (name: string, problem: string): never {
  throw new errors.OPTIONS_INVALID(name, problem)
}

function positiveInt (name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) fail(name, `expected a positive integer, got ${JSON.stringify(value)}`)
  return value
}

/** Normalises and validates the options once, at register time. */
export function resolveOptions (opts: LiveViewOptions = {}, env: NodeJS.ProcessEnv = process.env): ResolvedOptions {
  if (opts === null || typeof opts !== 'object') fail('options', 'expected an object')
  for (const key of Object.keys(opts)) {
    if (!KNOWN.has(key)) fail(key, `unknown option (known: ${[...KNOWN].join(', ')})`)
  }

  const production = opts.production ?? env.NODE_ENV === 'production'
  if (typeof production !== 'boolean') fail('production', 'expected a boolean')

  let root: string
  const rawRoot = opts.root ?? 'views'
  if (rawRoot instanceof URL) {
    if (rawRoot.protocol !== 'file:') fail('root', `expected a file: URL, got ${rawRoot.href}`)
    root = fileURLToPath(rawRoot)
  } else if (typeof rawRoot === 'string' && rawRoot.length > 0) {
    root = isAbsolute(rawRoot) ? rawRoot : resolve(rawRoot)
  } else {
    fail('root', 'expected a folder path or a file: URL')
  }
  let isDir = false
  try { isDir = statSync(root).isDirectory() } catch {}
  if (!isDir) fail('root', `'${root}' is not a folder`)

  const layout = opts.layout ?? false
  if (layout !== false && (typeof layout !== 'string' || layout.length === 0)) fail('layout', 'expected a template name or false')

  const lang = opts.lang ?? 'en'
  if (typeof lang !== 'function' && !isLanguageTag(lang)) fail('lang', `expected a language tag like 'en' or 'pt-BR', or a function (request, session) => tag; got ${JSON.stringify(lang)}`)
  const layoutData = opts.layoutData
  if (layoutData !== undefined && typeof layoutData !== 'function') fail('layoutData', 'expected a function (request, session) => data')

  let secrets: string[]
  let generatedSecret = false
  if (opts.secret === undefined || opts.secret === '') {
    if (production) throw new errors.SECRET_MISSING()
    secrets = [randomBytes(32).toString('base64url')]
    generatedSecret = true
  } else {
    secrets = Array.isArray(opts.secret) ? opts.secret : [opts.secret]
    if (secrets.length === 0) fail('secret', 'expected a string or a non-empty list of strings')
    for (const s of secrets) {
      if (typeof s !== 'string' || s.length < 32) fail('secret', 'each secret must be a string of at least 32 characters')
    }
  }

  const origins = opts.allowedOrigins ?? []
  if (!Array.isArray(origins)) fail('allowedOrigins', 'expected a list of origins')
  const allowedOrigins = new Set<string>()
  for (const o of origins) {
    let parsed: URL
    try { parsed = new URL(o) } catch { fail('allowedOrigins', `'${String(o)}' is not an origin like https://example.com`) }
    if (parsed.origin === 'null' || parsed.origin !== o.replace(/\/$/, '')) fail('allowedOrigins', `'${o}' is not an origin like https://example.com`)
    allowedOrigins.add(parsed.origin)
  }

  const prefix = opts.prefix ?? '/_live'
  if (typeof prefix !== 'string' || !/^\/[A-Za-z0-9_\-/.]*[^/]$/.test(prefix)) fail('prefix', `expected a path like /_live, got ${JSON.stringify(prefix)}`)

  const session = opts.session ?? (() => ({}))
  if (typeof session !== 'function') fail('session', 'expected a function (request) => data')

  const onMount = opts.onMount
  if (onMount !== undefined && typeof onMount !== 'function') fail('onMount', 'expected a function (mount) => void')
  const store = opts.store
  if (store !== undefined && (store === null || typeof store.get !== 'function' || typeof store.set !== 'function')) {
    fail('store', 'expected a store with get(key) and set(key, value, ttlMs)')
  }

  const tokenMaxAgeMs = positiveInt('tokenMaxAgeMs', opts.tokenMaxAgeMs, 86400000)
  const persistTtlMs = positiveInt('persistTtlMs', opts.persistTtlMs, 3600000)
  if (opts.watch !== undefined && typeof opts.watch !== 'boolean') fail('watch', 'expected a boolean')
  const watch = opts.watch === true && production ? fail('watch', 'templates are never watched in production') : opts.watch ?? !production
  const rawPresence = opts.presence ?? {}
  if (rawPresence === null || typeof rawPresence !== 'object') fail('presence', 'expected { heartbeatMs, timeoutMs }')
  const presence = {
    heartbeatMs: positiveInt('presence.heartbeatMs', rawPresence.heartbeatMs, 5000),
    timeoutMs: positiveInt('presence.timeoutMs', rawPresence.timeoutMs, 15000)
  }
  if (presence.timeoutMs <= presence.heartbeatMs) fail('presence.timeoutMs', 'must be longer than presence.heartbeatMs')

  const rawLimits = opts.limits ?? {}
  if (rawLimits === null || typeof rawLimits !== 'object') fail('limits', 'expected an object')
  const limits = { ...DEFAULT_LIMITS }
  for (const key of Object.keys(rawLimits) as Array<keyof LiveViewLimits>) {
    if (!(key in DEFAULT_LIMITS)) fail(`limits.${key}`, `unknown limit (known: ${Object.keys(DEFAULT_LIMITS).join(', ')})`)
    limits[key] = positiveInt(`limits.${key}`, rawLimits[key], DEFAULT_LIMITS[key])
  }
  if (limits.coalesceBytes > limits.sendBufferBytes) fail('limits.coalesceBytes', 'must not be larger than limits.sendBufferBytes')

  const pubsub = opts.pubsub
  if (pubsub !== undefined && (pubsub === null || typeof pubsub.subscribe !== 'function' || typeof pubsub.broadcast !== 'function')) {
    fail('pubsub', 'expected an adapter with subscribe(topic, handler) and broadcast(topic, msg)')
  }

  const shutdownTimeoutMs = positiveInt('shutdownTimeoutMs', opts.shutdownTimeoutMs, 5000)

  const clock = opts.clock ?? systemClock
  for (const fn of ['now', 'setTimeout', 'clearTimeout', 'setInterval', 'clearInterval'] as const) {
    if (typeof clock?.[fn] !== 'function') fail('clock', `expected an object with now, setTimeout, clearTimeout, setInterval and clearInterval; ${fn} is missing`)
  }

  return { root, layout, lang, layoutData, secrets, generatedSecret, production, allowedOrigins, prefix, session, onMount, store, tokenMaxAgeMs, persistTtlMs, watch, presence, limits, pubsub, shutdownTimeoutMs, clock }
}

/** A BCP 47-shaped language tag (`en`, `pt-BR`, `zh-Hant-TW`): letters, digits and hyphens. */
export function isLanguageTag (value: unknown): value is string {
  return typeof value === 'string' && /^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*$/.test(value)
}

/** The page's language for a request: the `lang` option's tag, or what its function returns. */
export function langOf (lang: LangOption, request: FastifyRequest, session: unknown): string {
  return typeof lang === 'function' ? lang(request, session) : lang
}

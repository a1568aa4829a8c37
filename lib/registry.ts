import AjvCompiler from '@fastify/ajv-compiler'
import { persistSpec, type PersistSpec } from './persist.js'
import FindMyWay from 'find-my-way'
import { errors } from './errors.js'
import type { ErrorMessages, SchemaError } from './forms.js'
import { checkStreams, type StreamEntry } from './streams.js'
import { checkBinding, checkComponents, crossCheck, warnUnbound, type ComponentEntry, type Owner } from './component-check.js'
import type { Templates } from './templates.js'
import { LiveView, type EventSpec, type LiveViewClass, type Params } from './view.js'

/** A declared event: its validator, when it has a params schema. */
export interface EventEntry {
  /** Declared `{ hook: true }` without a schema: any JSON params (a hook's `pushEvent`). Else, without a schema, only what DOM bindings send. */
  hook?: boolean
  validate?: ((params: unknown) => boolean) & { errors?: SchemaError[] | null }
  /** `onInvalid: 'render'`: params that fail the schema become field errors (`it.errors`) and the view renders. */
  render?: { messages: ErrorMessages | undefined }
}

/** A view class, checked once and kept with what the runtime needs of it. */
export interface ViewEntry {
  View: LiveViewClass
  name: string
  template: string
  title: string
  events: Map<string, EventEntry>
  /** The components its template renders, by the name the template uses. */
  components: Map<string, ComponentEntry>
  /** Its streams (`static streams`), by name. */
  streams: Map<string, StreamEntry>
  /** The fields kept across restarts (`static persist`), if any. */
  persist: PersistSpec | undefined
}

/** Event names a client may call: a lower-case letter, then letters, digits and underscores. */
export const EVENT_NAME = /^[a-z][A-Za-z0-9_]{0,63}$/

// Names a view can never expose as events, even if it declares them.
export const RESERVED = new Set<string>([
  ...Object.getOwnPropertyNames(Object.prototype),
  ...Object.getOwnPropertyNames(LiveView.prototype),
  'mount', 'context', 'handleInfo', 'handleAsync', 'streams', 'handleParams', 'terminate', 'template', 'events', 'title', 'components', 'restored', 'persist'
])

const buildCompiler = AjvCompiler()

/**
 * Checks a view class and builds its entry; throws FST_LIVEVIEW_VIEW_INVALID or
 * FST_LIVEVIEW_TEMPLATE_INVALID naming the class and the problem. Every `lv-*` binding
 * with a literal event name in the template and the partials it includes must name a
 * declared event (of the view, or with `lv-target="@myself"` in a component's template, of
 * that component); a declared event that none binds is reported to `warn`, unless it is
 * declared `{ hook: true }` (sent by a hook's `pushEvent`). The components it declares are
 * checked the same way, once each.
 */
export function checkView (View: LiveViewClass, templates: Templates, warn?: (message: string) => void): ViewEntry {
  if (typeof View !== 'function' || !(View.prototype instanceof LiveView)) {
    throw new errors.VIEW_INVALID(String((View as { name?: string } | undefined)?.name ?? View), 'is not a class that extends LiveView')
  }
  const name = View.name || 'anonymous view'
  if (typeof View.template !== 'string' || View.template.length === 0) {
    throw new errors.VIEW_INVALID(name, "has no `static template = 'name'` (a template under the views root)")
  }
  const files = templates.check(name, View.template)
  if (typeof View.prototype.context !== 'function') throw new errors.VIEW_INVALID(name, 'has no context() method')
  const { streams, files: itemFiles } = checkStreams(name, View.streams, templates)
  // Stream items are the view's markup: their bindings are checked as its template's.
  files.push(...itemFiles)
  const events = checkEvents(name, View.events, View.prototype, RESERVED)
  const components = checkComponents(name, View.components, templates, warn)
  const owner: Owner = { name, template: View.template, files, events, components }
  const toView = crossCheck(owner, templates)
  // Bindings in component templates without lv-target send to the view.
  const seen = new Set<ComponentEntry>()
  const visit = (entry: ComponentEntry): void => {
    if (seen.has(entry)) return
    seen.add(entry)
    for (const b of entry.toView) toView.add(checkBinding(owner, b, templates, entry))
    for (const child of entry.components.values()) visit(child)
  }
  for (const entry of components.values()) visit(entry)
  warnUnbound(name, events, toView, warn)
  const persist = persistSpec(name, (View as { persist?: unknown }).persist)
  if (persist?.schema !== undefined) {
    try {
      // Checked as saved: nothing coerced, defaulted or removed.
      persist.validate = buildCompiler({}, { customOptions: { coerceTypes: false, useDefaults: false, removeAdditional: false } })({ schema: persist.schema, httpPart: 'body' }) as PersistSpec['validate']
    } catch (err) {
      throw new errors.VIEW_INVALID(name, `the schema of \`static persist\` does not compile: ${(err as Error).message}`)
    }
  }
  return { View, name, template: View.template, title: View.title ?? name, events, components, streams, persist }
}

/** Checks the `static events` of a view or component class. */
export function checkEvents (name: string, declared: unknown, proto: object, reserved: Set<string>): Map<string, EventEntry> {
  declared ??= {}
  if (declared === null || typeof declared !== 'object' || Array.isArray(declared)) {
    throw new errors.VIEW_INVALID(name, '`static events` must be an object like { inc: true }')
  }
  const events = new Map<string, EventEntry>()
  let compile: ReturnType<typeof buildCompiler> | undefined
  // Field errors list every field's problem: their validator reports all errors.
  let compileAll: ReturnType<typeof buildCompiler> | undefined
  for (const [event, spec] of Object.entries(declared as Record<string, EventSpec>)) {
    if (!EVENT_NAME.test(event)) throw new errors.VIEW_INVALID(name, `event name '${event}' is not valid (a lower-case letter, then letters, digits or _)`)
    if (reserved.has(event)) throw new errors.VIEW_INVALID(name, `event name '${event}' is reserved`)
    const method = (proto as Record<string, unknown>)[event]
    if (typeof method !== 'function') throw new errors.VIEW_INVALID(name, `event '${event}' has no method ${event}() to handle it`)
    if (spec === true) {
      events.set(event, {})
    } else if (spec !== null && typeof spec === 'object' && !Array.isArray(spec)) {
      const entry: EventEntry = {}
      if (spec.hook !== undefined && typeof spec.hook !== 'boolean') throw new errors.VIEW_INVALID(name, `event '${event}': hook must be true or false`)
      if (spec.hook === true) entry.hook = true
      const { onInvalid, messages } = spec
      if (onInvalid !== undefined && onInvalid !== 'render' && onInvalid !== 'refuse') throw new errors.VIEW_INVALID(name, `event '${event}': onInvalid must be 'render' or 'refuse'`)
      if (onInvalid === 'render' && spec.schema === undefined) throw new errors.VIEW_INVALID(name, `event '${event}': onInvalid: 'render' needs a schema`)
      if (messages !== undefined && (messages === null || typeof messages !== 'object' || Array.isArray(messages) || onInvalid !== 'render')) {
        throw new errors.VIEW_INVALID(name, `event '${event}': messages must be an object, with onInvalid: 'render'`)
      }
      if (onInvalid === 'render') entry.render = { messages }
      if (spec.schema !== undefined) {
        const make = onInvalid === 'render' ? (compileAll ??= buildCompiler({}, { customOptions: { allErrors: true } })) : (compile ??= buildCompiler({}, { customOptions: {} }))
        try {
          entry.validate = make({ schema: spec.schema, httpPart: 'body' }) as EventEntry['validate']
        } catch (err) {
          throw new errors.VIEW_INVALID(name, `the params schema of event '${event}' does not compile: ${(err as Error).message}`)
        }
      }
      events.set(event, entry)
    } else {
      throw new errors.VIEW_INVALID(name, `event '${event}' must be declared as true or { schema }`)
    }
  }
  return events
}

/**
 * A live route found for a URL: its pattern, its view, its live session (navigation
 * between two live sessions is a full page load), and the URL's params.
 */
export interface RouteMatch { pattern: string, entry: ViewEntry, liveSession: string, layout: string | false, params: Params }

/** The live session of routes that name none. */
export const DEFAULT_LIVE_SESSION = 'default'

interface Route { pattern: string, entry: ViewEntry, liveSession: string, layout: string | false }

/** Live routes by URL pattern, matched the way Fastify matches them. */
export class Registry {
  readonly #router = FindMyWay<FindMyWay.HTTPVersion.V1>({ ignoreTrailingSlash: false })
  readonly #patterns = new Map<string, Route>()

  add (pattern: string, entry: ViewEntry, liveSession = DEFAULT_LIVE_SESSION, layout: string | false = false): void {
    if (this.#patterns.has(pattern)) return
    const route: Route = { pattern, entry, liveSession, layout }
    this.#patterns.set(pattern, route)
    this.#router.on('GET', pattern, () => {}, route)
  }

  get size (): number { return this.#patterns.size }

  /** Finds the live route of a page path; params are the route's merged with the query string. */
  match (url: URL): RouteMatch | undefined {
    const found = this.#router.find('GET', url.pathname)
    if (found === null) return undefined
    const route = found.store as Route
    return { pattern: route.pattern, entry: route.entry, liveSession: route.liveSession, layout: route.layout, params: paramsOf(url, found.params) }
  }
}

/**
 * A URL's params: the query string (a repeated key gives a list), then the route's path
 * params over it. A null-prototype object: keys like `__proto__` or `constructor` are
 * plain params.
 */
export function paramsOf (url: URL, pathParams: Record<string, string | undefined>): Params {
  const params: Params = Object.create(null) as Params
  for (const [key, value] of url.searchParams) {
    const prev = params[key]
    params[key] = prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [prev, value]
  }
  for (const key of Object.keys(pathParams)) {
    const value = pathParams[key]
    if (value !== undefined) params[key] = value
  }
  return params
}

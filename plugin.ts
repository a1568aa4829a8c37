import { liveViewStats, type LiveViewStats } from './lib/stats.js'
import websocket from '@fastify/websocket'
import type { FastifyInstance, FastifyPluginAsync, FastifyRequest, RouteShorthandOptions } from 'fastify'
import fp from 'fastify-plugin'
import { loadClientAsset } from './lib/client-asset.js'
import { errors } from './lib/errors.js'
import { checkOrigin } from './lib/origin.js'
import { resolveOptions, type LiveViewOptions } from './lib/options.js'
import { Guard } from './lib/guard.js'
import { DEFAULT_LIVE_SESSION, checkView, type ViewEntry } from './lib/registry.js'
import { revoke } from './lib/store.js'
import { watchTemplates } from './lib/dev.js'
import { registerLongPoll } from './lib/longpoll-routes.js'
import { renderPage } from './lib/page.js'
import { Runtime, kRuntime } from './lib/runtime.js'
import { attachSocket, checkCapacity, disconnect, shutdown, startHeartbeat, startHibernation } from './lib/socket.js'
import type { LiveView, LiveViewClass } from './lib/view.js'
import type { PresenceList } from './lib/presence.js'

declare module 'fastify' {
  interface FastifyInstance {
    /**
     * Declares a live route: GET `path` renders `View` to full HTML, and the page's socket
     * then mounts the same view. The view class is checked at once (template, events):
     * a problem throws a coded error naming the class.
     *
     * @example
     * app.liveView('/counter', Counter)
     */
    liveView: <V extends LiveView>(path: string, View: LiveViewClass<V>, options?: LiveRouteOptions) => FastifyInstance
    /** Live sessions open now (one per connected page), for metrics and health checks. */
    readonly liveViewSessions: number
    /** Sessions, mailbox depths, bytes sent, render µs percentiles, PubSub backlog: for health and metrics endpoints. */
    liveViewStats: () => LiveViewStats
    /**
     * Broadcasts `msg` on a PubSub topic from anywhere (a route, a job): every live session
     * subscribed to it gets it in its view's `handleInfo`.
     *
     * @example
     * app.post('/news', async (request) => { await app.liveViewBroadcast('news', request.body) })
     */
    liveViewBroadcast: (topic: string, msg: unknown) => Promise<void>
    /**
     * Logs a user out everywhere: closes the live sessions whose session key (`key` of the
     * `session` data) is `key`, on every process (through the PubSub adapter), and refuses
     * their rejoin until the page is loaded again (which runs the HTTP checks). The record
     * lasts as long as a token (`tokenMaxAgeMs`), in the `store` (shared with Redis).
     *
     * @example
     * app.post('/logout', async (request, reply) => { await app.liveViewDisconnect(request.session.userId); … })
     */
    liveViewDisconnect: (key: string | number) => Promise<void>
    /** Who is on `topic` now, across processes (see `this.track` in a view). */
    liveViewPresence: (topic: string) => PresenceList
  }
  interface FastifyContextConfig {
    [kLiveRoute]?: LiveRoute
  }
}

const kLiveRoute = Symbol('fastify-liveview.route')

/** The route options of `app.liveView`: Fastify's (hooks, config, …), and its live session. */
export interface LiveRouteOptions extends Omit<RouteShorthandOptions, 'websocket'> {
  /**
   * The live session (Phoenix's `live_session`) of the route: live navigation stays within
   * one; a link to a route of another is a full page load. Default: `'default'`
   */
  liveSession?: string | undefined
  /**
   * The route's layout: a template under `root`, or `false` for the built-in one. A live
   * navigation to a route with another layout is a full page load. Default: the plugin's
   * `layout` option
   */
  layout?: string | false | undefined
}

interface LiveRoute { entry: ViewEntry, liveSession: string, layout: string | false }

/** The PubSub topic on which `liveViewDisconnect` reaches every process. */
const DISCONNECT_TOPIC = 'fastify-liveview:disconnect'

const plugin: FastifyPluginAsync<LiveViewOptions> = async function liveview (fastify, opts) {
  const options = resolveOptions(opts)
  if (options.generatedSecret) {
    fastify.log.warn('fastify-liveview: no `secret` given, using a random one: pages stop working on restart. Set `secret` (required in production).')
  }
  const rt = new Runtime(options, loadClientAsset(options.prefix), fastify.log, new Guard(fastify, options.session, options.lang))
  rt.pubsub.attachLogger?.(fastify.log)

  if (!fastify.hasDecorator('websocketServer')) {
    await fastify.register(websocket, {
      options: { maxPayload: options.limits.maxFrameBytes },
      // Our own close: handlers finish and reply, clients get 1001, so close() resolves promptly.
      preClose: async () => {
        await shutdown(rt)
        fastify.websocketServer.close()
      }
    })
  }
  fastify.addHook('preClose', async () => { await shutdown(rt) })
  let heartbeat: unknown
  let hibernation: unknown
  let unsubscribe: (() => void) | undefined
  let stopWatching: (() => void) | undefined
  fastify.addHook('onReady', async () => {
    heartbeat = startHeartbeat(rt)
    hibernation = startHibernation(rt)
    unsubscribe = rt.pubsub.subscribe(DISCONNECT_TOPIC, (key) => {
      disconnect(rt, String(key)).catch((err: unknown) => { rt.log.error({ err }, 'live view disconnect failed') })
    })
    rt.presence.start()
    if (options.watch) stopWatching = watchTemplates(rt)
  })
  fastify.addHook('onClose', async () => {
    rt.clock.clearInterval(heartbeat)
    rt.clock.clearInterval(hibernation)
    unsubscribe?.()
    rt.presence.stop()
    stopWatching?.()
    await rt.pubsub.close?.()
    await rt.store.close?.()
    rt.uploads.close()
  })

  fastify.get(rt.socketPath, {
    websocket: true,
    onRequest: async (request: FastifyRequest) => {
      checkOrigin(request, options.allowedOrigins)
      checkCapacity(rt, request)
    }
  }, (socket, request) => { attachSocket(rt, socket, request, fastify.websocketServer?.clients) })

  registerLongPoll(fastify, rt)

  const { client } = rt
  fastify.get(client.url, async (_request, reply) => {
    reply.header('cache-control', 'public, max-age=31536000, immutable').type('text/javascript; charset=utf-8')
    return client.script
  })
  fastify.get(client.mapUrl, async (_request, reply) => {
    reply.header('cache-control', 'public, max-age=31536000, immutable').type('application/json; charset=utf-8')
    return client.map
  })
  // Lazy chunks: uploads (a page binds a file input or drop zone), commands (a page runs
  // client-side commands), long-poll (WebSockets fail); in development, the error overlay.
  for (const chunk of options.production ? [client.upload, client.js, client.lp] : [client.upload, client.js, client.lp, client.dev]) {
    fastify.get(chunk.url, async (_request, reply) => {
      reply.header('cache-control', 'public, max-age=31536000, immutable').type('text/javascript; charset=utf-8')
      return chunk.script
    })
  }

  fastify.addHook('onRoute', (route) => {
    const live = route.config?.[kLiveRoute]
    if (live !== undefined && route.method === 'GET') rt.registry.add(route.url ?? route.path, live.entry, live.liveSession, live.layout)
  })

  fastify.decorate('liveViewSessions', { getter: () => rt.sessions.size })
  fastify.decorate('liveViewStats', () => liveViewStats(rt))
  fastify.decorate('liveViewPresence', (topic: string) => rt.presence.list(topic))
  fastify.decorate('liveViewBroadcast', async (topic: string, msg: unknown) => { await rt.pubsub.broadcast(topic, msg) })
  fastify.decorate('liveViewDisconnect', async (key: string | number) => {
    if ((typeof key !== 'string' && typeof key !== 'number') || String(key) === '') throw new errors.OPTIONS_INVALID('liveViewDisconnect(key)', 'expected a session key (a non-empty string or a number)')
    const k = String(key)
    await revoke(rt.store, k, rt.clock.now(), options.tokenMaxAgeMs)
    // This process at once (its persisted state deleted once its sessions' saves are in),
    // the others through the PubSub adapter (each deletes again after its own).
    await disconnect(rt, k)
    await rt.pubsub.broadcast(DISCONNECT_TOPIC, k)
  })
  fastify.decorate(kRuntime, rt)

  fastify.decorate('liveView', function liveView (this: FastifyInstance, path: string, View: LiveViewClass, options: LiveRouteOptions = {}) {
    if (typeof path !== 'string' || !path.startsWith('/')) throw new errors.ROUTE_INVALID(String(path), 'the path must start with /')
    const { liveSession = DEFAULT_LIVE_SESSION, layout = rt.options.layout, ...routeOptions } = options
    if (typeof liveSession !== 'string' || liveSession === '') throw new errors.ROUTE_INVALID(path, 'liveSession must be a non-empty string')
    if (layout !== false && (typeof layout !== 'string' || layout === '')) throw new errors.ROUTE_INVALID(path, 'layout must be a template name or false')
    if (layout !== false && layout !== rt.options.layout) rt.templates.checkLayout(layout)
    const entry = checkView(View, rt.templates, (message) => { this.log.warn(message) })
    if (entry.persist !== undefined && rt.persistence === undefined) throw new errors.VIEW_INVALID(entry.name, 'declares `static persist`, but the `store` option has no del() (persisted state needs it)')
    this.route({
      ...routeOptions,
      method: 'GET',
      url: path,
      config: { ...routeOptions.config, [kLiveRoute]: { entry, liveSession, layout } },
      handler: async (request, reply) => {
        // A live mount's check (see Guard): the hooks passed; no render.
        if (await rt.guard.answer(request, reply)) return reply
        return await renderPage(rt, entry, request.routeOptions.url ?? path, liveSession, layout, request, reply)
      }
    })
    return this
  })
}

/**
 * The fastify-liveview plugin.
 *
 * @example
 * await app.register(liveview, { root: new URL('./views', import.meta.url), secret: process.env.LV_SECRET })
 * app.liveView('/counter', Counter)
 */
const liveview = fp(plugin, { fastify: '5.x', name: 'fastify-liveview' })

export default liveview
export { liveview }
export { LiveView, defineEvents } from './lib/view.js'
export { LiveComponent } from './lib/component.js'
export { Html, html } from './lib/html.js'
export { AsyncResult } from './lib/async-result.js'
export { JS } from './lib/js.js'
export type { AnnounceOptions, ClassOptions, Command, DispatchOptions, HideOptions, PushOptions, ShowOptions, Target, TimeOptions, ToggleOptions, Transition, UrlOptions } from './lib/js.js'
export type { ErrorMessages, FieldErrors, UsedFields } from './lib/forms.js'
export type { AsyncOptions } from './lib/async-result.js'
export type { HtmlValue } from './lib/html.js'
export type { ConsumedEntry, PresignResult, UploadEntry, UploadError, UploadErrorCode, UploadOptions, UploadState, UploadTarget } from './lib/uploads.js'
export type { ComponentId, ComponentUpdate, LiveComponentClass, PropsOf } from './lib/component.js'
export type { ContextOf, EventDeclarations, EventParams, EventSchema, EventSpec, HandlerName, LiveViewClass, Params, RedirectOptions, TerminateReason } from './lib/view.js'
export type { LangOption, LayoutDataOption, LiveViewLimits, LiveViewOptions, MountContext } from './lib/options.js'
export type { DomParams, EventSpecFor, HandlerParams, ParamsOf, SchemaFor } from './lib/event-types.js'
export { MemoryStore } from './lib/store.js'
export type { LiveStore } from './lib/store.js'
export type { PersistOption } from './lib/persist.js'
export type { PresenceDiff, PresenceList } from './lib/presence.js'
export type { Clock } from './lib/clock.js'
export { DEFAULT_LIMITS } from './lib/options.js'
export type { LiveViewStats } from './lib/stats.js'
export { TRACE_KINDS, type TraceContext, type TraceKind } from './lib/telemetry.js'
export { errors } from './lib/errors.js'
export type { CodedError, LiveViewErrorCode } from './lib/errors.js'
export { PROTOCOL_VERSION } from './lib/protocol.js'
export type { Transport } from './lib/session/actor.js'
export { MemoryPubSub } from './lib/pubsub.js'
export type { PubSub } from './lib/pubsub.js'

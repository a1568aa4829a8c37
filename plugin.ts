import websocket from '@fastify/websocket'
import type { FastifyInstance, FastifyPluginAsync, FastifyRequest, RouteShorthandOptions } from 'fastify'
import fp from 'fastify-plugin'
import { loadClientAsset } from './lib/client-asset.js'
import { errors } from './lib/errors.js'
import { checkOrigin } from './lib/origin.js'
import { resolveOptions, type LiveViewOptions } from './lib/options.js'
import { checkView, type ViewEntry } from './lib/registry.js'
import { renderPage } from './lib/page.js'
import { Runtime, kRuntime } from './lib/runtime.js'
import { attachSocket, shutdown, startHeartbeat, startHibernation } from './lib/socket.js'
import type { LiveView, LiveViewClass } from './lib/view.js'

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
    liveView: <V extends LiveView>(path: string, View: LiveViewClass<V>, options?: Omit<RouteShorthandOptions, 'websocket'>) => FastifyInstance
    /** Live sessions open now (one per connected page), for metrics and health checks. */
    readonly liveViewSessions: number
    /**
     * Broadcasts `msg` on a PubSub topic from anywhere (a route, a job): every live session
     * subscribed to it gets it in its view's `handleInfo`.
     *
     * @example
     * app.post('/news', async (request) => { await app.liveViewBroadcast('news', request.body) })
     */
    liveViewBroadcast: (topic: string, msg: unknown) => Promise<void>
  }
  interface FastifyContextConfig {
    [kLiveRoute]?: ViewEntry
  }
}

const kLiveRoute = Symbol('fastify-liveview.route')

const plugin: FastifyPluginAsync<LiveViewOptions> = async function liveview (fastify, opts) {
  const options = resolveOptions(opts)
  if (options.generatedSecret) {
    fastify.log.warn('fastify-liveview: no `secret` given, using a random one: pages stop working on restart. Set `secret` (required in production).')
  }
  const rt = new Runtime(options, loadClientAsset(options.prefix), fastify.log)

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
  fastify.addHook('onReady', async () => {
    heartbeat = startHeartbeat(rt)
    hibernation = startHibernation(rt)
  })
  fastify.addHook('onClose', async () => {
    rt.clock.clearInterval(heartbeat)
    rt.clock.clearInterval(hibernation)
    await rt.pubsub.close?.()
  })

  fastify.get(rt.socketPath, {
    websocket: true,
    onRequest: async (request: FastifyRequest) => { checkOrigin(request, options.allowedOrigins) }
  }, (socket, request) => { attachSocket(rt, socket, request, fastify.websocketServer?.clients) })

  const { client } = rt
  fastify.get(client.url, async (_request, reply) => {
    reply.header('cache-control', 'public, max-age=31536000, immutable').type('text/javascript; charset=utf-8')
    return client.script
  })
  fastify.get(client.mapUrl, async (_request, reply) => {
    reply.header('cache-control', 'public, max-age=31536000, immutable').type('application/json; charset=utf-8')
    return client.map
  })

  fastify.addHook('onRoute', (route) => {
    const entry = route.config?.[kLiveRoute]
    if (entry !== undefined && route.method === 'GET') rt.registry.add(route.url ?? route.path, entry)
  })

  fastify.decorate('liveViewSessions', { getter: () => rt.sessions.size })
  fastify.decorate('liveViewBroadcast', async (topic: string, msg: unknown) => { await rt.pubsub.broadcast(topic, msg) })
  fastify.decorate(kRuntime, rt)

  fastify.decorate('liveView', function liveView (this: FastifyInstance, path: string, View: LiveViewClass, routeOptions = {}) {
    if (typeof path !== 'string' || !path.startsWith('/')) throw new errors.ROUTE_INVALID(String(path), 'the path must start with /')
    const entry = checkView(View, rt.templates)
    this.route({
      ...routeOptions,
      method: 'GET',
      url: path,
      config: { ...routeOptions.config, [kLiveRoute]: entry },
      handler: async (request, reply) => await renderPage(rt, entry, request.routeOptions.url ?? path, request, reply)
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
export type { ContextOf, EventDeclarations, EventParams, EventSchema, EventSpec, HandlerName, LiveViewClass, Params, TerminateReason } from './lib/view.js'
export type { LiveViewLimits, LiveViewOptions } from './lib/options.js'
export type { Clock } from './lib/clock.js'
export { DEFAULT_LIMITS } from './lib/options.js'
export { errors } from './lib/errors.js'
export type { CodedError, LiveViewErrorCode } from './lib/errors.js'
export { PROTOCOL_VERSION } from './lib/protocol.js'
export type { Transport } from './lib/session/actor.js'
export { MemoryPubSub } from './lib/pubsub.js'
export type { PubSub } from './lib/pubsub.js'

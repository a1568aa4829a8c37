import type { FastifyBaseLogger, FastifyReply, FastifyRequest } from 'fastify'
import type { WebSocket } from 'ws'
import type { ClientAsset } from './client-asset.js'
import type { ResolvedOptions } from './options.js'
import { MemoryPubSub, type PubSub } from './pubsub.js'
import { ROOT_ATTR, SOCKET_ATTR, TOKEN_ATTR } from './protocol.js'
import { Registry, type ViewEntry } from './registry.js'
import { escapeAttr, renderHash, renderView } from './render.js'
import type { Session } from './session.js'
import { Templates } from './templates.js'
import { Tokens } from './tokens.js'
import { NO_FLASH, kLive, type LiveView, type Params } from './view.js'

/** Where the plugin keeps its runtime on the Fastify instance (the testing API reads it). */
export const kRuntime = Symbol.for('fastify-liveview.runtime')

/** Everything the plugin shares between its routes, the socket and the sessions. */
export class Runtime {
  readonly options: ResolvedOptions
  readonly templates: Templates
  readonly tokens: Tokens
  readonly registry = new Registry()
  readonly sessions = new Set<Session>()
  /** Open live view sockets (not the app's other WebSockets). */
  readonly sockets = new Set<WebSocket>()
  /** Set once the server starts closing: sessions then end with reason 'shutdown'. */
  closing = false
  readonly client: ClientAsset
  readonly socketPath: string
  readonly log: FastifyBaseLogger
  readonly pubsub: PubSub

  constructor (options: ResolvedOptions, client: ClientAsset, log: FastifyBaseLogger) {
    this.options = options
    this.templates = new Templates(options.root, options.production, options.layout)
    this.tokens = new Tokens(options.secrets, options.tokenMaxAgeMs)
    this.client = client
    this.socketPath = `${options.prefix}/ws`
    this.log = log
    this.pubsub = options.pubsub ?? new MemoryPubSub((err, topic) => { log.error({ err, topic }, 'live view broadcast subscriber failed') })
  }

  /** Creates a view instance wired to a session (or to an HTTP request when not connected). */
  instantiate (entry: ViewEntry, request: FastifyRequest, sessionId: string, session: Session | undefined): LiveView {
    const view = new entry.View()
    Object.defineProperty(view, kLive, {
      value: { connected: session !== undefined, sessionId, request, session, pubsub: this.pubsub, title: undefined, flash: NO_FLASH },
      enumerable: false
    })
    return view
  }

  /** The HTTP GET of a live route: mount (not connected), render, wrap in the layout. */
  async renderPage (entry: ViewEntry, pattern: string, request: FastifyRequest, reply: FastifyReply): Promise<string> {
    const params: Params = { ...(request.query as Params), ...(request.params as Params) }
    const session = await this.options.session(request)
    const view = this.instantiate(entry, request, request.id, undefined)
    if (view.mount !== undefined) await view.mount(params, session)
    if (view.handleParams !== undefined) await view.handleParams(params, new URL(request.url, `${request.protocol}://${request.host}`))
    const inner = await renderView(this.templates, entry, view)
    const token = this.tokens.sign(pattern, session, renderHash(inner))
    const body = `<div ${ROOT_ATTR} ${SOCKET_ATTR}="${escapeAttr(this.socketPath)}" ${TOKEN_ATTR}="${escapeAttr(token)}">${inner}</div>`
    const head = `<script src="${escapeAttr(this.client.url)}" defer></script>`
    reply.header('cache-control', 'no-store').type('text/html; charset=utf-8')
    return this.templates.layout({ title: view.pageTitle ?? entry.title, head, body, lang: 'en' })
  }
}

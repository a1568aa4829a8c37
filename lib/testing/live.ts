import { randomBytes } from 'node:crypto'
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify'
import liveview from '../../plugin.js'
import { encodeClient } from '../frames.js'
import type { LiveViewOptions } from '../options.js'
import { OP_JOIN, PROTOCOL_VERSION, TOKEN_ATTR } from '../protocol.js'
import { kRuntime, type Runtime } from '../runtime.js'
import { Session } from '../session/actor.js'
import type { LiveViewClass } from '../view.js'
import { LivePage } from './page.js'
import { LiveTestError, Reply } from './reply.js'
import { TestTransport } from './transport.js'

export { LivePage } from './page.js'
export { LiveTestError, Reply, type PushedEvent } from './reply.js'

/** What a test may pass when it opens a page. */
export interface LiveOptions {
  /** Request headers of the page and of its socket (cookies, auth). */
  headers?: Record<string, string>
}

/**
 * Opens a live page of a real app in-process: GETs `url` through the app (its hooks, its
 * route), then joins the page's session with the token that render signed.
 *
 * @example
 * const page = await live(app, '/counter?start=3')
 * await page.click('button[lv-click=inc]')
 * page.assertText('#count', '4')
 */
export async function live (app: FastifyInstance, url: string, options: LiveOptions = {}): Promise<LivePage> {
  return await open(app, url, options, undefined)
}

async function open (app: FastifyInstance, url: string, options: LiveOptions, onClose: (() => Promise<void>) | undefined): Promise<LivePage> {
  const rt = (app as unknown as Record<symbol, Runtime | undefined>)[kRuntime]
  if (rt === undefined) throw new LiveTestError('fastify-liveview is not registered on this app (await app.register(liveview, …) first)')
  const headers = options.headers ?? {}
  const res = await app.inject({ method: 'GET', url, headers })
  if (res.statusCode !== 200) {
    const location = res.headers.location as string | undefined
    throw new LiveTestError(`GET ${url} answered ${res.statusCode}${location !== undefined ? ` (redirect to ${location})` : ''}, not a live page`, { statusCode: res.statusCode, location })
  }
  const token = new RegExp(`${TOKEN_ATTR}="([^"]+)"`).exec(res.body)?.[1]
  if (token === undefined) throw new LiveTestError(`GET ${url} is not a live page (no live root in its HTML)`, { statusCode: res.statusCode })
  const transport = new TestTransport()
  transport.url = new URL(url, 'http://localhost').href
  transport.title = /<title>([^<]*)<\/title>/.exec(res.body)?.[1]
  const session = new Session(rt, transport, standInRequest(app, url, headers))
  const joined = new Promise<string>((resolve) => { transport.waiting.set(1, resolve) })
  session.receive(encodeClient([1, OP_JOIN, { v: PROTOCOL_VERSION, token, url: transport.url, pristine: true }]))
  const reply = new Reply(await joined)
  if (reply.error !== undefined) {
    await session.close()
    const to = transport.redirectedTo
    const why = to !== undefined ? `redirected to ${to} by the connected mount` : `refused: ${reply.error.code}: ${reply.error.message}`
    throw new LiveTestError(`join of ${url} ${why}`, { code: to === undefined ? reply.error.code : undefined, location: to })
  }
  return new LivePage(app, headers, session, transport, reply, onClose)
}

/** Options of `mountView`: the plugin's options plus the route to declare the view on. */
export interface MountOptions extends LiveViewOptions, LiveOptions {
  /** Route pattern of the view. Default: `/` */
  path?: string
  /** URL to open (params and query). Default: `path` */
  url?: string
}

/**
 * Mounts a view class in isolation: a throwaway app with the plugin and this one route,
 * closed with the page.
 *
 * @example
 * const page = await mountView(Counter, { root: new URL('../views', import.meta.url), url: '/?start=2' })
 */
export async function mountView (View: LiveViewClass, options: MountOptions = {}): Promise<LivePage> {
  const { path = '/', url, headers, ...pluginOptions } = options
  const app = Fastify({ logger: false })
  try {
    await app.register(liveview, { secret: randomBytes(32).toString('base64url'), ...pluginOptions })
    app.liveView(path, View)
    return await open(app, url ?? path, { headers }, async () => { await app.close() })
  } catch (err) {
    await app.close()
    throw err
  }
}

// A connected session's `request` in tests: what a view reads of an upgrade request.
function standInRequest (app: FastifyInstance, url: string, headers: Record<string, string>): FastifyRequest {
  const parsed = new URL(url, 'http://localhost')
  return {
    id: 'live-test',
    log: app.log,
    method: 'GET',
    url: parsed.pathname + parsed.search,
    headers: { host: 'localhost', ...headers },
    query: Object.fromEntries(parsed.searchParams),
    params: {},
    host: 'localhost',
    hostname: 'localhost',
    protocol: 'http',
    ip: '127.0.0.1'
  } as unknown as FastifyRequest
}

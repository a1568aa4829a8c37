import Fastify, { type FastifyInstance } from 'fastify'
import type { Test } from 'tap'
import type { WebSocket } from 'ws'
import liveview, { PROTOCOL_VERSION, type LiveViewOptions } from '../plugin.js'
import { kRuntime, type Runtime } from '../lib/runtime.js'
import type { Session } from '../lib/session/actor.js'

export const viewsRoot = new URL('./fixtures/views/', import.meta.url)
export const SECRET = 'test-secret-that-is-long-enough-0123456789'
/** Params `{ to: string }` (a URL a test asks a view to go to). */
export const TO_SCHEMA = { type: 'object', properties: { to: { type: 'string' } }, required: ['to'] } as const

/** Builds an app with the plugin registered, closed when the test ends. */
export async function buildApp (t: Test, options: LiveViewOptions = {}, setup?: (app: FastifyInstance) => void | Promise<void>): Promise<FastifyInstance> {
  const app = Fastify({ logger: false })
  t.teardown(() => app.close())
  await app.register(liveview, { root: viewsRoot, secret: SECRET, ...options })
  await setup?.(app)
  await app.ready()
  return app
}

/** The token on a rendered page's live root. */
export function tokenOf (html: string): string {
  const m = /data-lv-token="([^"]+)"/.exec(html)
  if (m === null) throw new Error('no token in page')
  return m[1] as string
}

/** The page instance a page token carries (what its persisted fields are kept under). */
export function instanceOf (token: string): string {
  return (JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString()) as { n: string }).n
}

/** Inner HTML of the live root of a rendered page. */
export function rootHtml (html: string): string {
  const m = /<div data-lv-root[^>]*>([\s\S]*)<\/div>\s*<\/body>/.exec(html)
  if (m === null) throw new Error('no live root in page')
  return m[1] as string
}

export type Frame = [number, string, ...unknown[]]

/** A raw protocol client over injectWS: sends frames, collects replies. */
export class WireClient {
  readonly ws: WebSocket
  readonly frames: Frame[] = []
  #waiters: Array<() => void> = []
  #ref = 0
  /** The mount the last join or navigation answered with: events name it. */
  mount = 0
  closed: Promise<{ code: number, reason: string }>

  constructor (ws: WebSocket) {
    this.ws = ws
    ws.on('message', (data) => {
      const frame = JSON.parse(data.toString()) as Frame
      if (frame[1] === 'mount') this.mount = (frame[2] as { id: number }).id
      this.frames.push(frame)
      for (const w of this.#waiters.splice(0)) w()
    })
    this.closed = new Promise((resolve) => {
      ws.on('close', (code, reason) => { resolve({ code, reason: reason.toString() }) })
    })
  }

  nextRef (): number { return ++this.#ref }

  send (frame: unknown): void { this.ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame)) }

  /** Waits for the first frame (received or to come) matching `pred`. */
  async waitFor (pred: (f: Frame) => boolean, timeoutMs = 2000): Promise<Frame> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const found = this.frames.find(pred)
      if (found !== undefined) return found
      if (Date.now() > deadline) throw new Error(`no matching frame within ${timeoutMs} ms; got ${JSON.stringify(this.frames)}`)
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 50)
        this.#waiters.push(() => { clearTimeout(timer); resolve() })
      })
    }
  }

  reply (ref: number): Promise<Frame> { return this.waitFor((f) => f[0] === ref) }

  /** Joins as a page that shows the render its token was signed for (unless `pristine` is false). */
  async join (token: string, url: string, { v = PROTOCOL_VERSION, pristine = true } = {}): Promise<Frame> {
    const ref = this.nextRef()
    this.send([ref, 'join', { v, token, url, pristine }])
    return await this.reply(ref)
  }

  /** Sends an event to the mount the page shows. */
  async event (name: string, params: Record<string, unknown> = {}): Promise<Frame> {
    const ref = this.nextRef()
    this.send([ref, 'e', this.mount, name, params])
    return await this.reply(ref)
  }

  close (): void { this.ws.terminate() }
}

/** GETs a live page, opens its socket and joins it. */
export async function connect (t: Test, app: FastifyInstance, path: string, headers: Record<string, string> = {}): Promise<{ client: WireClient, html: string, join: Frame }> {
  const res = await app.inject({ url: path })
  if (res.statusCode !== 200) throw new Error(`GET ${path}: ${res.statusCode} ${res.body}`)
  const ws = await app.injectWS('/_live/ws', { headers })
  const client = new WireClient(ws)
  t.teardown(() => { client.close() })
  const join = await client.join(tokenOf(res.body), `http://localhost${path}`)
  return { client, html: res.body, join }
}

/**
 * Polls `check` every 10 ms until it holds or `ms` have passed: for what happens on its own
 * time (another process, a timer, a file removal nobody awaits). The assertion after it says
 * what did not happen.
 */
export async function eventually (check: () => boolean | Promise<boolean>, ms = 2000): Promise<void> {
  const deadline = Date.now() + ms
  while (!(await check()) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10))
}

/** The sessions of `app` that have joined. */
export function joinedSessions (app: FastifyInstance): Session[] {
  const rt = (app as unknown as Record<symbol, Runtime>)[kRuntime]!
  return [...rt.sessions as Set<Session>].filter((s) => s.joined)
}

/** The live root's HTML the server last rendered for the one joined session of `app`. */
export function serverHtml (app: FastifyInstance): string {
  const joined = joinedSessions(app)
  if (joined.length !== 1) throw new Error(`expected one joined session, found ${joined.length}`)
  return joined[0]!.html!
}

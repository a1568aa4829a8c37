import { randomBytes } from 'node:crypto'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { clip, errors } from './errors.js'
import { langOf, type LangOption } from './options.js'

/** Header that marks a mount check (its value is a one-time nonce only this process knows). */
export const CHECK_HEADER = 'x-liveview-mount-check'

// Headers of the upgrade request that belong to the WebSocket handshake, not to the page.
const HANDSHAKE = new Set(['upgrade', 'connection', 'sec-websocket-key', 'sec-websocket-version',
  'sec-websocket-extensions', 'sec-websocket-protocol', 'content-length', 'transfer-encoding', CHECK_HEADER])

/** What a live mount may proceed with: the app's session data now, and its key. */
export interface Admission {
  session: unknown
  key: string | undefined
  /** The page's language at the target URL (the `lang` option). */
  lang: string
}

interface Check { session: unknown, passed: boolean, lang: string }


/**
 * Authorizes live mounts with the app's own HTTP checks: for every join, rejoin and
 * navigation, a GET of the target URL goes through the app in-process (`inject`) with the
 * upgrade request's headers (its cookies now), so the whole `onRequest → preHandler` chain
 * that guards the page runs again, with fresh request state. The live route's handler
 * recognises the check by its nonce, runs `session(request)` and answers 204. Anything
 * else (a hook that replied, redirected, set a status ≥ 400 or threw) is a refusal.
 */
export class Guard {
  readonly #app: FastifyInstance
  readonly #session: (request: FastifyRequest) => unknown
  readonly #lang: LangOption
  readonly #checks = new Map<string, Check>()

  constructor (app: FastifyInstance, session: (request: FastifyRequest) => unknown, lang: LangOption = 'en') {
    this.#app = app
    this.#session = session
    this.#lang = lang
  }

  /**
   * Runs the route's checks for a live mount of `target` on behalf of `request` (the
   * upgrade request). Resolves with the session; throws FST_LIVEVIEW_MOUNT_REFUSED.
   */
  async admit (request: FastifyRequest, target: URL): Promise<Admission> {
    const nonce = randomBytes(18).toString('base64url')
    const check: Check = { session: undefined, passed: false, lang: '' }
    this.#checks.set(nonce, check)
    const headers: Record<string, string | string[]> = {}
    for (const [name, value] of Object.entries(request.headers)) {
      if (value !== undefined && !HANDSHAKE.has(name)) headers[name] = value
    }
    headers[CHECK_HEADER] = nonce
    const path = target.pathname + target.search
    let status: number
    let location: string | undefined
    try {
      const res = await this.#app.inject({ method: 'GET', url: path, headers, remoteAddress: request.raw?.socket?.remoteAddress ?? request.ip })
      status = res.statusCode
      location = res.headers.location as string | undefined
    } finally {
      this.#checks.delete(nonce)
    }
    if (!check.passed || status !== 204) {
      throw new errors.MOUNT_REFUSED(clip(path), location === undefined ? status : `${status} → ${clip(location)}`)
    }
    return { session: check.session, key: keyOf(check.session), lang: check.lang }
  }

  /**
   * Called by a live route's handler: when the request is a mount check of this process,
   * its hooks have passed; it runs `session(request)`, answers 204 and returns true.
   */
  async answer (request: FastifyRequest, reply: FastifyReply): Promise<boolean> {
    const nonce = request.headers[CHECK_HEADER]
    const check = typeof nonce === 'string' ? this.#checks.get(nonce) : undefined
    if (check === undefined) return false
    check.session = await this.#session(request)
    check.lang = langOf(this.#lang, request, check.session)
    check.passed = true
    await reply.code(204).header('cache-control', 'no-store').send()
    return true
  }
}

/** The session key of the app's session data: its `key` field (a string or a number), if any. */
export function keyOf (session: unknown): string | undefined {
  if (session === null || typeof session !== 'object') return undefined
  const key = (session as { key?: unknown }).key
  return typeof key === 'string' ? key : typeof key === 'number' ? String(key) : undefined
}

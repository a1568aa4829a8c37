import { createHmac, timingSafeEqual } from 'node:crypto'
import { errors } from './errors.js'

/** What a page token carries: signed, not encrypted (the page can read it). */
export interface TokenClaims {
  /** Route pattern the page was rendered for, e.g. `/users/:id`. */
  route: string
  /** The app's session data, from the `session(request)` option. */
  session: unknown
  /** Hash of the HTTP render, so a connected render that matches costs only an ack. */
  renderHash: string
  /** Expiry, in milliseconds since the epoch. */
  expires: number
}

interface WireClaims { r: string, s: unknown, h: string, e: number }

/** Signs page tokens with the first secret; verifies with any of them (key rotation). */
export class Tokens {
  readonly #keys: Buffer[]
  readonly #maxAgeMs: number

  constructor (secrets: string[], maxAgeMs: number) {
    this.#keys = secrets.map((s) => Buffer.from(s, 'utf8'))
    this.#maxAgeMs = maxAgeMs
  }

  sign (route: string, session: unknown, renderHash: string, now = Date.now()): string {
    const claims: WireClaims = { r: route, s: session, h: renderHash, e: now + this.#maxAgeMs }
    const body = Buffer.from(JSON.stringify(claims), 'utf8').toString('base64url')
    return `${body}.${mac(this.#keys[0], body).toString('base64url')}`
  }

  /** Returns the claims, or throws FST_LIVEVIEW_TOKEN_INVALID / _EXPIRED. */
  verify (token: unknown, now = Date.now()): TokenClaims {
    if (typeof token !== 'string' || token.length > 16384) throw new errors.TOKEN_INVALID()
    const dot = token.indexOf('.')
    if (dot <= 0) throw new errors.TOKEN_INVALID()
    const body = token.slice(0, dot)
    const given = Buffer.from(token.slice(dot + 1), 'base64url')
    let ok = false
    for (const key of this.#keys) {
      const expected = mac(key, body)
      if (given.length === expected.length && timingSafeEqual(given, expected)) ok = true
    }
    if (!ok) throw new errors.TOKEN_INVALID()
    let claims: WireClaims
    try {
      claims = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as WireClaims
    } catch {
      throw new errors.TOKEN_INVALID()
    }
    if (typeof claims?.r !== 'string' || typeof claims.e !== 'number' || typeof claims.h !== 'string') throw new errors.TOKEN_INVALID()
    if (claims.e <= now) throw new errors.TOKEN_EXPIRED()
    return { route: claims.r, session: claims.s, renderHash: claims.h, expires: claims.e }
  }
}

function mac (key: Buffer, body: string): Buffer {
  return createHmac('sha256', key).update(body).digest()
}

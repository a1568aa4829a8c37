import { createHmac, timingSafeEqual } from 'node:crypto'
import type { Clock } from './clock.js'
import { errors } from './errors.js'
import { FLASH_COOKIE_MAX_AGE } from './protocol.js'

/** What a page token carries: signed, not encrypted (the page can read it). */
export interface TokenClaims {
  /** Route pattern the page was rendered for, e.g. `/users/:id`. */
  route: string
  /** The app's session data, from the `session(request)` option. */
  session: unknown
  /** Hash of the render the token was signed with, so a join that renders the same costs only an ack. */
  renderHash: string
  /** Expiry, in milliseconds since the epoch. */
  expires: number
  /** Flash messages that render showed: a join of a page that still shows it shows them too. */
  flash?: Record<string, string> | undefined
}

interface WireClaims { r: string, s: unknown, h: string, e: number, f?: Record<string, string> }

// Each kind of signed value has its own MAC domain: a page token is never a flash carrier.
const PAGE = 'p.'
const FLASH = 'f.'

/**
 * Signs page tokens (and the flash carried by a redirect) with the first secret; verifies
 * with any of them (key rotation).
 */
export class Tokens {
  readonly #keys: Buffer[]
  readonly #maxAgeMs: number
  readonly #clock: Clock

  constructor (secrets: string[], maxAgeMs: number, clock: Clock) {
    this.#keys = secrets.map((s) => Buffer.from(s, 'utf8'))
    this.#maxAgeMs = maxAgeMs
    this.#clock = clock
  }

  sign (route: string, session: unknown, renderHash: string, flash?: Record<string, string>): string {
    const claims: WireClaims = { r: route, s: session, h: renderHash, e: this.#clock.now() + this.#maxAgeMs }
    if (flash !== undefined && Object.keys(flash).length > 0) claims.f = flash
    return this.#seal(PAGE, claims)
  }

  /** Returns the claims, or throws FST_LIVEVIEW_TOKEN_INVALID / _EXPIRED. */
  verify (token: unknown): TokenClaims {
    const claims = this.#open(PAGE, token) as WireClaims | undefined
    if (typeof claims?.r !== 'string' || typeof claims.e !== 'number' || typeof claims.h !== 'string') throw new errors.TOKEN_INVALID()
    if (claims.e <= this.#clock.now()) throw new errors.TOKEN_EXPIRED()
    return { route: claims.r, session: claims.s, renderHash: claims.h, expires: claims.e, flash: flashOf(claims.f) }
  }

  /** The flash a redirect carries to the next page: signed, valid for the flash cookie's lifetime. */
  signFlash (flash: Record<string, string>): string {
    return this.#seal(FLASH, { f: flash, e: this.#clock.now() + FLASH_COOKIE_MAX_AGE * 1000 })
  }

  /** The flash of a carrier, or undefined when it is forged, malformed or expired. */
  verifyFlash (value: unknown): Record<string, string> | undefined {
    let claims: { f?: unknown, e?: unknown } | undefined
    try {
      claims = this.#open(FLASH, value) as typeof claims
    } catch {
      return undefined
    }
    if (typeof claims?.e !== 'number' || claims.e <= this.#clock.now()) return undefined
    return flashOf(claims.f)
  }

  #seal (domain: string, claims: object): string {
    const body = Buffer.from(JSON.stringify(claims), 'utf8').toString('base64url')
    return `${body}.${mac(this.#keys[0] as Buffer, domain + body).toString('base64url')}`
  }

  #open (domain: string, token: unknown): unknown {
    if (typeof token !== 'string' || token.length > 16384) throw new errors.TOKEN_INVALID()
    const dot = token.indexOf('.')
    if (dot <= 0) throw new errors.TOKEN_INVALID()
    const body = token.slice(0, dot)
    const given = Buffer.from(token.slice(dot + 1), 'base64url')
    let ok = false
    for (const key of this.#keys) {
      const expected = mac(key, domain + body)
      if (given.length === expected.length && timingSafeEqual(given, expected)) ok = true
    }
    if (!ok) throw new errors.TOKEN_INVALID()
    try {
      return JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as unknown
    } catch {
      throw new errors.TOKEN_INVALID()
    }
  }
}

/** Flash messages as they were signed: strings by kind, nothing else. */
function flashOf (value: unknown): Record<string, string> | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined
  const flash: Record<string, string> = {}
  for (const [kind, message] of Object.entries(value)) if (typeof message === 'string') flash[kind] = message
  return Object.keys(flash).length > 0 ? flash : undefined
}

function mac (key: Buffer, body: string): Buffer {
  return createHmac('sha256', key).update(body).digest()
}

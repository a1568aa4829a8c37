import { createHmac, timingSafeEqual } from 'node:crypto'
import type { Clock } from './clock.js'
import { errors } from './errors.js'
import { FLASH_COOKIE_MAX_AGE } from './protocol.js'

/**
 * What a page token carries: signed, not encrypted (the page can read it). It proves that
 * this server rendered (or mounted) the page at `url` for the session key `key`, until
 * `expires`; it grants nothing by itself: every join runs the route's checks again.
 */
export interface TokenClaims {
  /** Path and query the page was rendered for (`/doc/1?tab=2`): the join must be at exactly that URL. */
  url: string
  /** The session key (`key` of the `session(request)` data) the page was rendered for, if any. */
  key: string | undefined
  /** Hash of the render the token was signed with, so a join that renders the same costs only an ack. */
  renderHash: string
  /** When the token was signed, in milliseconds since the epoch (a revocation refuses older ones). */
  issued: number
  /** Expiry, in milliseconds since the epoch. */
  expires: number
  /** Flash messages that render showed: a join of a page that still shows it shows them too. */
  flash?: Record<string, string> | undefined
  /** The page instance (what its persisted view state is kept under): the same across its patches. */
  instance?: string | undefined
}

interface WireClaims { u: string, k?: string, h: string, i: number, e: number, f?: Record<string, string>, n?: string }

// Each kind of signed value has its own MAC domain: a page token is never a flash carrier.
const PAGE = 'p.'
const FLASH = 'f.'
const ID = 'i.'

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

  /** Signs a page token for the page at `url` (its path and query are what is bound). */
  sign (url: URL, key: string | undefined, renderHash: string, flash?: Record<string, string>, instance?: string): string {
    const now = this.#clock.now()
    const claims: WireClaims = { u: pageOf(url), h: renderHash, i: now, e: now + this.#maxAgeMs }
    if (instance !== undefined) claims.n = instance
    if (key !== undefined) claims.k = key
    if (flash !== undefined && Object.keys(flash).length > 0) claims.f = flash
    return this.#seal(PAGE, claims)
  }

  /** Returns the claims, or throws FST_LIVEVIEW_TOKEN_INVALID / _EXPIRED. */
  verify (token: unknown): TokenClaims {
    const claims = this.#open(PAGE, token) as WireClaims | undefined
    if (typeof claims?.u !== 'string' || typeof claims.e !== 'number' || typeof claims.i !== 'number' || typeof claims.h !== 'string' ||
      (claims.k !== undefined && typeof claims.k !== 'string') || (claims.n !== undefined && typeof claims.n !== 'string')) throw new errors.TOKEN_INVALID()
    if (claims.e <= this.#clock.now()) throw new errors.TOKEN_EXPIRED()
    return { url: claims.u, key: claims.k, renderHash: claims.h, issued: claims.i, expires: claims.e, flash: flashOf(claims.f), instance: claims.n }
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

  /** `id` with a MAC: a process that shares the secret can tell an id the app issued (a long-poll session's) from a forged one. */
  signId (id: string): string {
    return `${id}.${mac(this.#keys[0] as Buffer, ID + id).subarray(0, 16).toString('base64url')}`
  }

  /** Whether `signed` is an id `signId` made (with any of the secrets). */
  verifyId (signed: string): boolean {
    const dot = signed.lastIndexOf('.')
    const given = Buffer.from(signed.slice(dot + 1), 'latin1')
    let ok = false
    for (const key of this.#keys) {
      const expected = Buffer.from(mac(key, ID + signed.slice(0, dot)).subarray(0, 16).toString('base64url'), 'latin1')
      if (dot > 0 && given.length === expected.length && timingSafeEqual(given, expected)) ok = true
    }
    return ok
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
    // Compared as text: only the canonical encoding of the MAC verifies (no padding, no spare bits).
    const given = Buffer.from(token.slice(dot + 1), 'latin1')
    let ok = false
    for (const key of this.#keys) {
      const expected = Buffer.from(mac(key, domain + body).toString('base64url'), 'latin1')
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

/** The part of a page URL a token binds: its path and query (not the fragment). */
export function pageOf (url: URL): string {
  return url.pathname + url.search
}

function mac (key: Buffer, body: string): Buffer {
  return createHmac('sha256', key).update(body).digest()
}

import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from 'node:crypto'
import { errors } from './errors.js'
import type { LiveStore } from './store.js'

// Persisted view state: the fields a view lists (`static persist`) are saved after each
// message, sealed (AES-256-GCM, a key derived with HKDF from each secret), bound to the page
// instance, the view and the app's session key, and laid over a fresh mount when the page
// rejoins on any process (after a restart or a deploy).

/** What `static persist` may be: the field names, or those with a version and a migration. */
export type PersistOption = readonly string[] | {
  /** Names of the view's fields to keep (JSON values: no Maps, Sets, Dates or class instances). */
  fields: readonly string[]
  /** The shape's version (default 1): a record saved by another version is migrated, or not restored. */
  version?: number
  /**
   * Turns a record of another version (`from`) into this version's fields; return undefined
   * to restore nothing. Without it, records of other versions are not restored.
   */
  migrate?: (data: Record<string, unknown>, from: number) => Record<string, unknown> | undefined
  /** A JSON Schema the restored fields (an object) must pass, else nothing is restored. */
  schema?: object
}

/** A view's persisted shape, checked. */
export interface PersistSpec {
  fields: readonly string[]
  version: number
  migrate: ((data: Record<string, unknown>, from: number) => Record<string, unknown> | undefined) | undefined
  schema: object | undefined
  /** The schema, compiled (registry.ts). */
  validate?: (data: unknown) => boolean
}

const FIELD = /^[A-Za-z_$][\w$]*$/
const FORBIDDEN = new Set(['__proto__', 'constructor', 'prototype'])

/** Checks a view's `static persist`; undefined when it has none. Throws FST_LIVEVIEW_VIEW_INVALID. */
export function persistSpec (name: string, option: unknown): PersistSpec | undefined {
  if (option === undefined) return undefined
  const o = (Array.isArray(option) ? { fields: option } : option) as { fields?: unknown, version?: unknown, migrate?: unknown, schema?: unknown } | null
  const bad = (why: string): never => { throw new errors.VIEW_INVALID(name, `\`static persist\` ${why}`) }
  if (o === null || typeof o !== 'object') bad("must be a list of field names, or { fields, version?, migrate? }")
  const { fields, version = 1, migrate, schema } = o!
  if (!Array.isArray(fields) || fields.length === 0) bad('must name at least one field')
  for (const f of fields as unknown[]) {
    if (typeof f !== 'string' || !FIELD.test(f) || FORBIDDEN.has(f)) bad(`names '${String(f)}', which is not a field name`)
  }
  if (!Number.isSafeInteger(version) || (version as number) < 1) bad('version must be a positive integer')
  if (migrate !== undefined && typeof migrate !== 'function') bad('migrate must be a function')
  if (schema !== undefined && (schema === null || typeof schema !== 'object')) bad('schema must be a JSON Schema object')
  return { fields: [...new Set(fields as string[])], version: version as number, migrate: migrate as PersistSpec['migrate'], schema: schema as object | undefined }
}

/** The fields of `view` its spec lists, as JSON text (undefined values left out). */
export function snapshot (view: object, spec: PersistSpec): string {
  const data: Record<string, unknown> = {}
  for (const f of spec.fields) {
    const v = (view as Record<string, unknown>)[f]
    if (v !== undefined) data[f] = v
  }
  return JSON.stringify(data)
}

/** Lays restored fields over a view (only those its spec lists). */
export function layOver (view: object, spec: PersistSpec, data: Record<string, unknown>): void {
  for (const f of spec.fields) if (Object.hasOwn(data, f)) (view as Record<string, unknown>)[f] = data[f]
}

/** A new page instance id: what a page's persisted state is keyed by (carried in its token). */
export const newInstance = (): string => randomBytes(12).toString('base64url')

const AES = 'aes-256-gcm'
const FORMAT = 'v1'

/** A session key as the store's keys carry it (hashed: the store never holds the key itself). */
const hashOf = (key: string): string => createHash('sha256').update('fastify-liveview persist\0' + key).digest('base64url')

/** Where a page instance's record lives: under its user (session key) when there is one, else its instance alone. */
export function recordKey (key: string | undefined, instance: string): string {
  return key === undefined ? `persist:i:${instance}` : `persist:k:${hashOf(key)}:${instance}`
}

/** Where a user's page instances are listed (so `liveViewDisconnect` can delete their records). */
const indexKey = (key: string): string => `persist:u:${hashOf(key)}`
/** Instances an index keeps (the latest). */
const INDEX_MAX = 200

type PurgeableStore = LiveStore & { del: (key: string) => Promise<void> | void }

/** The persistence of one app: seals, saves, loads and purges records in its store. */
export class Persistence {
  readonly #keys: Buffer[]
  readonly #store: PurgeableStore
  readonly #ttlMs: number
  readonly #maxBytes: number
  readonly #now: () => number

  constructor (secrets: string[], store: LiveStore, ttlMs: number, maxBytes: number, now: () => number) {
    // One key per secret: records are sealed with the first, opened with any (rotation).
    this.#keys = secrets.map((s) => Buffer.from(hkdfSync('sha256', s, 'fastify-liveview', 'persisted view state v1', 32)))
    this.#store = store as PurgeableStore
    this.#ttlMs = ttlMs
    this.#maxBytes = maxBytes
    this.#now = now
  }

  /** Whether the store can keep records (it has `del`, to purge them). */
  static supports (store: LiveStore): boolean {
    return typeof store.del === 'function'
  }

  /**
   * Saves `json` (a snapshot) for the page `instance` of view `view`, for `ttlMs` from now;
   * `index`: also lists the instance under its user (the first save of a session, and now
   * and then after). Throws FST_LIVEVIEW_PERSIST_TOO_LARGE when it is over the limit
   * (nothing is saved).
   */
  async save (view: string, key: string | undefined, instance: string, version: number, json: string, index = false): Promise<void> {
    const plain = `{"v":${version},"t":${this.#now()},"d":${json}}`
    if (Buffer.byteLength(plain) > this.#maxBytes) throw new errors.PERSIST_TOO_LARGE(view, Buffer.byteLength(plain), this.#maxBytes)
    const iv = randomBytes(12)
    const c = createCipheriv(AES, this.#keys[0]!, iv)
    c.setAAD(aad(view, key, instance))
    const body = Buffer.concat([c.update(plain, 'utf8'), c.final()])
    await this.#store.set(recordKey(key, instance), `${FORMAT}.${Buffer.concat([iv, c.getAuthTag(), body]).toString('base64url')}`, this.#ttlMs)
    if (index && key !== undefined) {
      // Read, add, write: two processes adding at once may lose one entry; that record is
      // then not deleted by a purge, but cannot be restored either (the purge revokes the
      // user's tokens first), and it expires with its TTL.
      const listed = parseList(await this.#store.get(indexKey(key))).filter((i) => i !== instance)
      listed.push(instance)
      await this.#store.set(indexKey(key), JSON.stringify(listed.slice(-INDEX_MAX)), this.#ttlMs)
    }
  }

  /**
   * The fields saved for the page `instance` of view `view` under session key `key`, in the
   * shape of `spec` (migrated when saved by an older version); undefined when there is none,
   * it does not open (another user, another view, a secret no longer listed, tampered), it
   * was saved by a newer version or an older one without a migration, or it fails the
   * spec's schema.
   */
  async load (view: string, key: string | undefined, instance: string, spec: PersistSpec): Promise<Record<string, unknown> | undefined> {
    const sealed = await this.#store.get(recordKey(key, instance))
    if (typeof sealed !== 'string' || !sealed.startsWith(FORMAT + '.')) return undefined
    const raw = Buffer.from(sealed.slice(FORMAT.length + 1), 'base64url')
    if (raw.length < 29) return undefined
    let record: { v?: unknown, d?: unknown } | undefined
    for (const k of this.#keys) {
      try {
        const d = createDecipheriv(AES, k, raw.subarray(0, 12))
        d.setAAD(aad(view, key, instance))
        d.setAuthTag(raw.subarray(12, 28))
        record = JSON.parse(Buffer.concat([d.update(raw.subarray(28)), d.final()]).toString('utf8')) as typeof record
        break
      } catch {}
    }
    const data = record?.d
    const v = record?.v
    if (data === null || typeof data !== 'object' || Array.isArray(data) || typeof v !== 'number' || v > spec.version) return undefined
    const fields = v === spec.version ? data as Record<string, unknown> : spec.migrate?.(data as Record<string, unknown>, v)
    return fields === undefined || (spec.validate !== undefined && !spec.validate(fields)) ? undefined : fields
  }

  /** Deletes the records of session key `key` (`liveViewDisconnect`). */
  async purge (key: string): Promise<void> {
    const listed = parseList(await this.#store.get(indexKey(key)))
    await Promise.all(listed.map(async (instance) => { await this.#store.del(recordKey(key, instance)) }))
    await this.#store.del(indexKey(key))
  }
}

/** An index's instances (none when it is missing or not a list of strings). */
function parseList (text: string | undefined): string[] {
  try {
    const list = JSON.parse(text ?? '[]') as unknown
    return Array.isArray(list) ? list.filter((i): i is string => typeof i === 'string') : []
  } catch {
    return []
  }
}

/** What a record is bound to: opened only for the same view, session key and page instance. */
function aad (view: string, key: string | undefined, instance: string): Buffer {
  return Buffer.from(JSON.stringify([view, key ?? null, instance]), 'utf8')
}

/**
 * Saves one page's snapshots in order, only what changed and only the latest: a save while
 * one is under way waits for it, and a newer snapshot replaces a waiting one.
 */
export class PageSaver {
  #last: string | undefined
  #next: string | undefined
  #running: Promise<void> | undefined
  #writes = 0
  #warned = false
  readonly #write: (json: string, n: number) => Promise<void>
  readonly #failed: (err: unknown) => void

  /** `write(json, n)`: the n-th write of this page (0 first). */
  constructor (write: (json: string, n: number) => Promise<void>, failed: (err: unknown) => void) {
    this.#write = write
    this.#failed = failed
  }

  /**
   * Saves what `snapshot` makes unless it is what was saved (or is being saved) last. A
   * snapshot that throws (a field JSON cannot hold: a BigInt, a cycle) is said once, and
   * nothing is saved.
   */
  offer (snapshot: () => string): void {
    let json: string
    try {
      json = snapshot()
    } catch (err) {
      if (!this.#warned) this.#failed(err)
      this.#warned = true
      return
    }
    if (json === (this.#next ?? this.#last)) return
    this.#next = json
    this.#running ??= this.#drain()
  }

  /** Resolves once every offered snapshot is written (or failed). */
  async idle (): Promise<void> { await this.#running }

  async #drain (): Promise<void> {
    while (this.#next !== undefined) {
      const json = this.#next
      this.#next = undefined
      this.#last = json
      try {
        await this.#write(json, this.#writes++)
      } catch (err) {
        // Written again with the next change.
        this.#last = undefined
        this.#failed(err)
      }
    }
    this.#running = undefined
  }
}

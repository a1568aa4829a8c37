import { Stats } from './stats.js'
import type { FastifyBaseLogger } from 'fastify'
import type { ClientAsset } from './client-asset.js'
import type { Clock } from './clock.js'
import type { Guard } from './guard.js'
import type { ResolvedOptions } from './options.js'
import { MemoryPubSub, type PubSub } from './pubsub.js'
import { Registry } from './registry.js'
import { MemoryStore, type LiveStore } from './store.js'
import { Persistence } from './persist.js'
import { Presence } from './presence.js'
import { Templates } from './templates.js'
import { Tokens } from './tokens.js'
import { UploadStore } from './upload-store.js'

/** Where the plugin keeps its runtime on the Fastify instance (the testing API reads it). */
export const kRuntime = Symbol.for('fastify-liveview.runtime')

/** The services a mounted view and a session use. */
export interface Services {
  readonly options: ResolvedOptions
  readonly templates: Templates
  readonly tokens: Tokens
  readonly registry: Registry
  readonly pubsub: PubSub
  readonly clock: Clock
  readonly log: FastifyBaseLogger
  /** Runs a route's HTTP checks for a live mount. */
  readonly guard: Guard
  /** Revocation records (and, later, other shared state). */
  readonly store: LiveStore
  /** The uploads' temporary files and byte budget. */
  readonly uploads: UploadStore
  /** What `app.liveViewStats()` reports. */
  readonly stats: Stats
  /** Who is on which topic (`track`), across processes. */
  readonly presence: Presence
}

/** What the runtime keeps of a socket it closed (structural, so no `ws` types reach the published declarations). */
export interface ClosableSocket {
  readonly readyState: number
  readonly OPEN: number
  readonly CLOSED: number
  close: (code?: number, reason?: string) => void
  terminate: () => void
}

/** What the runtime knows of a session: enough to count, find by key and end it. */
export interface SessionHandle {
  shutdown: (deadline: number) => Promise<void>
  hibernate: () => void
  /** The session key of the app's session data, once joined. */
  readonly key: string | undefined
  /** Ends the session with a close code (the app disconnected its user). */
  disconnect: (code: number, reason: string) => void
  /** Messages waiting in its mailbox. */
  readonly waiting: number
}

/** Everything the plugin shares between its routes, the socket and the sessions: services, no session logic. */
export class Runtime implements Services {
  readonly options: ResolvedOptions
  readonly templates: Templates
  readonly tokens: Tokens
  readonly registry = new Registry()
  readonly pubsub: PubSub
  readonly presence: Presence
  readonly clock: Clock
  readonly log: FastifyBaseLogger
  readonly client: ClientAsset
  readonly guard: Guard
  readonly store: LiveStore
  /** Persisted view state (`static persist`), when the store can keep it. */
  readonly persistence: Persistence | undefined
  readonly uploads: UploadStore
  readonly socketPath: string
  readonly sessions = new Set<SessionHandle>()
  /** What `app.liveViewStats()` reports. */
  readonly stats = new Stats()
  /** Live sockets open now, in total and by client IP (the caps of `limits`). */
  sockets = 0
  readonly socketsByIp = new Map<string, number>()
  /** Sockets the server closed whose close frame waits to be read (see `closeGraceMs`). */
  readonly lingering = new Set<ClosableSocket>()
  /** Set once the server starts closing: sessions then end with reason 'shutdown'. */
  closing = false
  /** The shutdown under way (see socket.ts). */
  stopping: Promise<void> | undefined
  /** @internal Rollback of failed messages (the benchmark turns it off to measure its cost). */
  rollback = true
  /** Counts hibernation sweeps: a session notes it when it runs a message. */
  generation = 2

  constructor (options: ResolvedOptions, client: ClientAsset, log: FastifyBaseLogger, guard: Guard) {
    this.options = options
    this.guard = guard
    this.store = options.store ?? new MemoryStore(options.clock)
    this.persistence = Persistence.supports(this.store)
      ? new Persistence(options.secrets, this.store, options.persistTtlMs, options.limits.persistBytes, () => options.clock.now())
      : undefined
    this.clock = options.clock
    this.uploads = new UploadStore(options.clock, options.limits.uploadRetainMs, options.limits.uploadBytesPerServer)
    this.templates = new Templates(options.root, options.production, options.layout)
    this.tokens = new Tokens(options.secrets, options.tokenMaxAgeMs, options.clock)
    this.client = client
    this.socketPath = `${options.prefix}/ws`
    this.log = log
    this.pubsub = options.pubsub ?? new MemoryPubSub((err, topic) => { log.error({ err, topic }, 'live view broadcast subscriber failed') })
    this.presence = new Presence(this.pubsub, options.clock, options.presence, (err) => { log.error({ err }, 'live view presence failed') })
  }
}

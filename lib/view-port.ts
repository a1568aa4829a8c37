// What a view instance reaches of its runtime (the mounted view implements it).
import type { FastifyRequest } from 'fastify'
import type { ComponentId, LiveComponentClass } from './component.js'
import type { AsyncOptions } from './async-result.js'
import type { StreamInsertOptions, StreamOptions } from './streams.js'
import type { UploadOptions } from './uploads.js'
import type { Uploads } from './session/uploads.js'
import type { Form } from './forms.js'
import type { Effects } from './session/effects.js'
import type { Presence } from './presence.js'

/** Why a session ended, as `terminate(reason)` gets it. */
export type TerminateReason = 'closed' | 'shutdown' | 'error'

/** @internal Where a view instance reaches its runtime (kept off its own fields, so rollback never touches it). */
export const kLive = Symbol('fastify-liveview.live')

/**
 * @internal What a view asks of the runtime: the mounted view that owns it. Once that view
 * has ended (a navigation away, the end of the session) every call is a no-op.
 */
export interface ViewPort {
  readonly connected: boolean
  readonly sessionId: string
  readonly request: FastifyRequest
  title: string | undefined
  readonly flash: Record<string, string>
  putFlash: (kind: string, message: string) => void
  sendInfo: (msg: unknown) => boolean
  push: (event: string, payload: unknown) => boolean
  subscribe: (topic: string) => boolean
  unsubscribe: (topic: string) => boolean
  broadcast: (topic: string, msg: unknown) => void | Promise<void>
  timer: (ms: number, msg: unknown, repeat: boolean) => () => void
  /** What the view started that outlives a message; undefined when not connected. */
  effects: () => Effects | undefined
  readonly presence: Presence
  patchUrl: (url: string) => void
  navigate: (url: string) => void
  redirect: (url: string, options?: RedirectOptions) => void
  sendUpdate: (Component: LiveComponentClass, id: ComponentId, props: object) => boolean
  async: (kind: 'assign' | 'start', key: string, fn: (signal: AbortSignal) => unknown, options?: AsyncOptions) => void
  cancelAsync: (kind: 'assign' | 'start', key: string) => boolean
  stream: (name: string, items: Iterable<unknown> | AsyncIterable<unknown>, options?: StreamOptions) => void
  streamInsert: (name: string, item: unknown, options?: StreamInsertOptions) => void
  streamDelete: (name: string, itemOrKey: unknown) => void
  allowUpload: (name: string, options?: UploadOptions) => void
  uploadsOf: () => Uploads
  formOf: () => Form
}

/** Options of `redirect`. */
export interface RedirectOptions {
  /** Allow an http(s) URL of another origin (by default only the page's origin is). Default: false */
  external?: boolean | undefined
}

/** @internal No flash: shared, so an idle view holds no object of its own. */
export const NO_FLASH: Record<string, string> = Object.freeze({}) as Record<string, string>


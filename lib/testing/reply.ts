import { AssertionError } from 'node:assert'
import { decodeServer } from '../frames.js'
import { OP_ERROR, OP_HTML, OP_MOUNT, OP_OK, OP_PATCH, type ErrorPayload, type MountPayload } from '../protocol.js'

/** A mistake in a test: a selector that matches nothing, an element with no binding, a refused join. */
export class LiveTestError extends Error {
  /** The coded error of a refused join, or the status of a page that was not a live page. */
  readonly code?: string
  readonly statusCode?: number
  /** Where a redirecting page pointed. */
  readonly location?: string

  constructor (message: string, extra: { code?: string | undefined, statusCode?: number | undefined, location?: string | undefined } = {}) {
    super(message)
    this.name = 'LiveTestError'
    Object.assign(this, extra)
  }
}

/** The server's answer to one message, as the client would receive it. */
export class Reply {
  /**
   * `patch` (a diff), `html` (full HTML: a resync, or a navigation's new view), `ok`
   * (nothing changed, or a join whose render equals the served page) or `error`.
   */
  readonly kind: 'patch' | 'html' | 'ok' | 'error'
  /** Version of the page after this reply (absent on errors). */
  readonly version: number | undefined
  /** The coded error, when `kind` is `error`. */
  readonly error: ErrorPayload | undefined
  /** The frame as sent on the wire. */
  readonly frame: string
  /** What the handler returned (undefined when nothing): what a hook's pushEvent resolves with. */
  readonly value: unknown
  /** @internal The mount a join or navigation answered with. */
  readonly mount: MountPayload | undefined

  constructor (frame: string) {
    this.frame = frame
    const parsed = decodeServer(frame) as unknown[]
    const op = parsed[1]
    this.mount = op === OP_MOUNT ? parsed[2] as MountPayload : undefined
    this.kind = op === OP_PATCH ? 'patch' : op === OP_HTML ? 'html' : op === OP_OK ? 'ok' : op === OP_MOUNT ? (this.mount!.html === undefined ? 'ok' : 'html') : 'error'
    this.version = op === OP_ERROR ? undefined : op === OP_MOUNT ? this.mount!.version : parsed[2] as number
    this.error = op === OP_ERROR ? parsed[2] as ErrorPayload : undefined
    this.value = op === OP_OK ? parsed[3] : op === OP_PATCH || op === OP_HTML ? parsed[4] : undefined
  }

  /** Size of the frame in bytes (UTF-8). */
  get bytes (): number { return Buffer.byteLength(this.frame) }

  /** True when the page changed (a patch or full HTML). */
  get changed (): boolean { return this.kind === 'patch' || this.kind === 'html' }

  /** Throws unless the message was refused with `code`. */
  assertError (code: string): this {
    if (this.error?.code !== code) {
      throw new AssertionError({ message: `expected an error ${code}, got ${this.error?.code ?? `a '${this.kind}' reply`}`, actual: this.error?.code ?? this.kind, expected: code, operator: 'assertError' })
    }
    return this
  }

  /** Throws unless the page changed. */
  assertChanged (): this {
    if (!this.changed) {
      throw new AssertionError({ message: `expected the page to change, got ${this.error !== undefined ? `error ${this.error.code}: ${this.error.message}` : `'${this.kind}'`}`, actual: this.kind, expected: 'patch or html', operator: 'assertChanged' })
    }
    return this
  }
}

/** An event the view pushed to the page's hooks. */
export interface PushedEvent { event: string, payload: unknown }

import { errors } from './errors.js'
import { escapeAttr } from './render.js'
import { Html } from './html.js'
import type { UploadTarget } from './protocol.js'
import type { Readable } from 'node:stream'

export type { UploadTarget }

/** Why an upload entry (or an upload as a whole) is refused; each has an English `message` the template may show. */
export type UploadErrorCode = 'too_large' | 'not_accepted' | 'too_many_files' | 'over_budget' | 'failed' | 'not_verified'

export interface UploadError {
  readonly code: UploadErrorCode
  readonly message: string
}

/** What the server knows of a file being uploaded: its template shows it, and `consumeUploads` hands it over. */
export interface UploadEntry {
  /** Names the entry (`cancelUpload(name, ref)`, `<img lv-preview="<%= entry.ref %>">`): unguessable. */
  readonly ref: string
  /** The file's name as the client gave it: show it (escaped), never use it as a path. */
  readonly clientName: string
  /** The MIME type the client gave (it may lie: check the bytes when it matters). */
  readonly clientType: string
  /** The size the client declared; the server accepts no byte past it. */
  readonly clientSize: number
  /** Percent of the bytes received (0–100). */
  readonly progress: number
  /** All bytes received (or, for an external upload, the completion verified). */
  readonly done: boolean
  /** No errors. */
  readonly valid: boolean
  readonly errors: readonly UploadError[]
  /** Sent to the URL `presign` returned, not over the socket. */
  readonly external: boolean
}

/** `it.uploads.name` in a template: the upload's settings, entries and errors. */
export interface UploadState {
  readonly name: string
  /** The `accept` attribute's value (`.png,.jpg,image/*`); empty when anything goes. */
  readonly accept: string
  readonly maxEntries: number
  readonly maxFileSize: number
  readonly entries: readonly UploadEntry[]
  /** Errors of the upload as a whole (`too_many_files`). */
  readonly errors: readonly UploadError[]
  /** The file input's attributes: `<input type="file" <%~ it.uploads.avatar.attrs %>>`. */
  readonly attrs: Html
}

/** An entry handed to `consumeUploads`' callback: a finished upload, its data, and what `presign` returned. */
export interface ConsumedEntry extends UploadEntry {
  /**
   * The file's bytes, streamed from temporary storage (made when first read). Undefined for
   * an external upload: its bytes never reached this server.
   */
  readonly stream: Readable | undefined
  /** The temporary file (undefined for an external upload); it is deleted after the callback, unless you moved it. */
  readonly path: string | undefined
  /** What `presign` returned as `meta` (external uploads). */
  readonly meta: unknown
}

/** What `presign` returns: where the client sends the file, and anything to keep for `verify` and `consumeUploads` (`meta`). */
export interface PresignResult extends UploadTarget {
  meta?: unknown
}

/** `allowUpload(name, options)`. */
export interface UploadOptions {
  /** File extensions (`.png`) and MIME types (`image/png`, `image/*`) taken; default: any file. */
  accept?: readonly string[] | undefined
  /** Files at most in the upload at once (up to 100). Default 1 (a new pick replaces the entry) */
  maxEntries?: number | undefined
  /** Bytes at most per file. Default 8,000,000 */
  maxFileSize?: number | undefined
  /** Bytes per chunk frame (at most `limits.maxFrameBytes` less 74). Default 64,000 */
  chunkSize?: number | undefined
  /** Start sending as soon as files are picked; otherwise on the form's submit (the event waits for them). Default false */
  autoUpload?: boolean | undefined
  /**
   * Direct-to-storage uploads: called for each valid entry when it is declared, returns the
   * signed URL the client sends the file to. Needs `verify`.
   */
  presign?: ((entry: UploadEntry) => PresignResult | Promise<PresignResult>) | undefined
  /**
   * Confirms an external upload the client says it finished (a HEAD on the object, its
   * size): false or a throw marks the entry `not_verified`.
   */
  verify?: ((entry: UploadEntry, meta: unknown) => boolean | Promise<boolean>) | undefined
}

/** An upload's settings, checked. */
export interface UploadConfig {
  readonly name: string
  readonly accept: readonly string[] | undefined
  readonly maxEntries: number
  readonly maxFileSize: number
  readonly chunkSize: number
  readonly autoUpload: boolean
  readonly presign: UploadOptions['presign']
  readonly verify: UploadOptions['verify']
  readonly attrs: Html
}

/** Bytes a chunk frame carries besides its data (see frames.ts `CHUNK_OVERHEAD`). */
const OVERHEAD = 74

const count = (view: string, name: string, key: string, value: unknown, fallback: number, max = Number.MAX_SAFE_INTEGER): number => {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1 || value > max) {
    throw new errors.VIEW_INVALID(view, `allowUpload('${name}'): ${key} must be an integer from 1 to ${max}, got ${String(value)}`)
  }
  return value
}

/** Checks `allowUpload`'s arguments (FST_LIVEVIEW_VIEW_INVALID when wrong). */
export function uploadConfig (view: string, name: unknown, options: UploadOptions | undefined, maxFrameBytes: number): UploadConfig {
  if (typeof name !== 'string' || !/^[A-Za-z_][\w-]{0,63}$/.test(name)) throw new errors.VIEW_INVALID(view, `allowUpload: the name must be a word (letters, digits, _ and -), got ${JSON.stringify(name)}`)
  const o = options ?? {}
  if (typeof o !== 'object') throw new errors.VIEW_INVALID(view, `allowUpload('${name}'): options must be an object`)
  let accept: string[] | undefined
  if (o.accept !== undefined) {
    if (!Array.isArray(o.accept) || o.accept.some((a) => typeof a !== 'string' || !/^(\.[\w.+-]+|[\w.+-]+\/(\*|[\w.+-]+))$/.test(a))) {
      throw new errors.VIEW_INVALID(view, `allowUpload('${name}'): accept must list extensions ('.png') and MIME types ('image/png', 'image/*')`)
    }
    accept = o.accept.map((a) => a.toLowerCase())
  }
  for (const fn of ['presign', 'verify'] as const) {
    if (o[fn] !== undefined && typeof o[fn] !== 'function') throw new errors.VIEW_INVALID(view, `allowUpload('${name}'): ${fn} must be a function`)
  }
  if ((o.presign === undefined) !== (o.verify === undefined)) {
    throw new errors.VIEW_INVALID(view, `allowUpload('${name}'): presign and verify go together (the server confirms what the client says it stored)`)
  }
  // A declaration carries at most 100 files (frames.ts).
  const maxEntries = count(view, name, 'maxEntries', o.maxEntries, 1, 100)
  const maxFileSize = count(view, name, 'maxFileSize', o.maxFileSize, 8_000_000)
  const chunkSize = count(view, name, 'chunkSize', o.chunkSize, Math.min(64_000, maxFrameBytes - OVERHEAD), maxFrameBytes - OVERHEAD)
  const list = accept?.join(',') ?? ''
  const attrs = new Html(`lv-upload="${name}"${list === '' ? '' : ` accept="${escapeAttr(list)}"`} data-lv-max-size="${maxFileSize}"${maxEntries > 1 ? ` data-lv-max-entries="${maxEntries}" multiple` : ''}`)
  return { name, accept, maxEntries, maxFileSize, chunkSize, autoUpload: o.autoUpload === true, presign: o.presign, verify: o.verify, attrs }
}

const MESSAGES: Record<UploadErrorCode, string> = {
  too_large: 'The file is too large',
  not_accepted: 'This type of file is not accepted',
  too_many_files: 'Too many files',
  over_budget: 'The server cannot take more uploads now: try again later',
  failed: 'The upload failed',
  not_verified: 'The upload could not be confirmed'
}

export const uploadError = (code: UploadErrorCode, message = MESSAGES[code]): UploadError => ({ code, message })

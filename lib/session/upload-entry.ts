import { createReadStream } from 'node:fs'
import type { Readable } from 'node:stream'
import type { UploadFile } from '../protocol.js'
import type { StoredFile } from '../upload-store.js'
import type { ConsumedEntry, UploadConfig, UploadEntry, UploadError } from '../uploads.js'

/** An entry as the server keeps it: what the template shows, its data, and the bytes under way. */
export class Entry implements UploadEntry {
  readonly ref: string
  readonly clientName: string
  readonly clientType: string
  readonly clientSize: number
  progress = 0
  done = false
  errors: UploadError[] = []
  external = false
  readonly config: UploadConfig
  file: StoredFile | undefined
  meta: unknown
  /** Bytes taken so far (written, or being written). */
  received = 0
  /** Writes in order. */
  chain: Promise<void> = Promise.resolve()
  /** Cancelled, consumed or failed: its data is gone. */
  gone = false

  constructor (config: UploadConfig, ref: string, [clientName, clientType, clientSize]: UploadFile) {
    this.config = config
    this.ref = ref
    this.clientName = clientName
    this.clientType = clientType
    this.clientSize = clientSize
  }

  get valid (): boolean { return this.errors.length === 0 }
}

/**
 * What `consumeUploads` hands over for an entry: its fields, its bytes as a stream made when
 * first read (`end` closes it), its temporary file and its `meta`.
 */
export function consumedOf (entry: Entry, file: StoredFile | undefined): [ConsumedEntry, () => void] {
  let stream: Readable | undefined
  const consumed: ConsumedEntry = Object.freeze({
    ref: entry.ref,
    clientName: entry.clientName,
    clientType: entry.clientType,
    clientSize: entry.clientSize,
    progress: entry.progress,
    done: true,
    valid: true,
    errors: [],
    external: entry.external,
    get stream () { return file === undefined ? undefined : (stream ??= createReadStream(file.path)) },
    path: file?.path,
    meta: entry.meta
  })
  return [consumed, () => { stream?.destroy() }]
}

/** A size as the error messages say it. */
export const bytes = (n: number): string => n >= 1e6 ? `${+(n / 1e6).toFixed(1)} MB` : n >= 1e3 ? `${+(n / 1e3).toFixed(1)} kB` : `${n} bytes`

import { createReadStream } from 'node:fs'
import type { Readable } from 'node:stream'
import type { UploadFile } from '../protocol.js'
import type { StoredFile } from '../upload-store.js'
import type { FastifyBaseLogger } from 'fastify'
import { accepts } from '../accept.js'
import { uploadError, type ConsumedEntry, type UploadConfig, type UploadEntry, type UploadError, type UploadState } from '../uploads.js'

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
  /** Handed to a `consumeUploads` callback: that consume releases it. */
  consuming = false

  /** The view (0) or the component (its cid) that declared the upload. */
  readonly owner: number

  constructor (config: UploadConfig, ref: string, [clientName, clientType, clientSize]: UploadFile, owner: number) {
    this.owner = owner
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

/** `it.uploads.name`: an upload's settings, entries and errors as its template shows them. */
export function stateOf (config: UploadConfig, entries: Entry[]): UploadState {
  return {
    name: config.name,
    accept: config.accept?.join(',') ?? '',
    maxEntries: config.maxEntries,
    maxFileSize: config.maxFileSize,
    entries: entries.slice(),
    errors: entries.some((e) => e.errors.some((x) => x.code === 'too_many_files')) ? [uploadError('too_many_files')] : [],
    attrs: config.attrs
  }
}

/** An external entry's progress as the client reports it: -1 failed, 100 done if `verify` confirms it. */
export async function reported (entry: Entry, percent: number, log: FastifyBaseLogger, view: string): Promise<void> {
  if (percent < 0) return void entry.errors.push(uploadError('failed'))
  if (percent < 100) {
    entry.progress = Math.max(entry.progress, Math.floor(percent))
    return
  }
  let ok = false
  try {
    ok = await entry.config.verify!(entry, entry.meta)
  } catch (err) {
    log.error({ err, view, upload: entry.config.name }, 'live view upload verify failed')
  }
  if (ok === true) {
    entry.progress = 100
    entry.done = true
  } else {
    entry.errors.push(uploadError('not_verified'))
  }
}

/** What is wrong with a declared file for its upload (its type, its size, one file too many), if anything. */
export function fileProblems (config: UploadConfig, clientName: string, clientType: string, size: number, valid: number): UploadError[] {
  const problems: UploadError[] = []
  if (!accepts(config.accept, clientName, clientType)) problems.push(uploadError('not_accepted'))
  if (size > config.maxFileSize) problems.push(uploadError('too_large', `The file is larger than ${bytes(config.maxFileSize)}`))
  if (problems.length === 0 && valid + 1 > config.maxEntries) problems.push(uploadError('too_many_files', `At most ${config.maxEntries} files`))
  return problems
}

/** Why a chunk of `n` bytes at `offset` is refused for `entry` (`inFlight` bytes of the socket unwritten), if it is. */
export function chunkProblem (entry: Entry, offset: number, n: number, inFlight: number, windowBytes: number): string | undefined {
  const window = Math.max(windowBytes, entry.config.chunkSize)
  if (entry.file === undefined || entry.gone || entry.done) return 'the entry takes no bytes'
  if (n === 0) return 'an empty chunk'
  if (offset !== entry.received) return `expected offset ${entry.received}, got ${offset}`
  if (offset + n > entry.clientSize) return `bytes past the declared size of ${entry.clientSize}`
  if (n > entry.config.chunkSize) return `a chunk of ${n} bytes, over the chunk size of ${entry.config.chunkSize}`
  if (inFlight + n > window) return `more than the window of ${window} bytes unacknowledged`
  return undefined
}

import type { FastifyBaseLogger } from 'fastify'
import type { Clock } from '../clock.js'
import { unref } from '../clock.js'
import { errors, type CodedError } from '../errors.js'
import { ackFrame } from '../frames.js'
import type { UploadFile, UploadGrant } from '../protocol.js'
import { newRef, type StoredFile, type UploadStore } from '../upload-store.js'
import { uploadError, type ConsumedEntry, type UploadConfig, type UploadEntry, type UploadState } from '../uploads.js'
import { Entry, chunkProblem, consumedOf, fileProblems, reported, stateOf } from './upload-entry.js'

/** What a view's uploads ask of their mounted view. */
export interface UploadHost {
  readonly viewName: string
  readonly log: FastifyBaseLogger
  readonly clock: Clock
  /** The server's uploads (undefined on the HTTP render: nothing is uploaded there). */
  readonly uploadStore: UploadStore | undefined
  readonly uploadLimits: { uploadWindowBytes: number, uploadBytesPerSession: number, uploadProgressMs: number }
  /** The session key of the app's session data (a resume must come from the same user). */
  readonly sessionKey: string | undefined
  /** Sends a frame to the client (an acknowledgement); false when the page no longer shows this view. */
  sendFrame: (frame: string) => boolean
  /** Notes an entry that ended (its late chunks are answered quietly, even after a navigation); with no ref: true when `ref` ended. */
  uploadEnded: (ref: string, ask?: boolean) => boolean
  /** Queues a render of the view (progress changed), the components `owners` (their cids) included. */
  rerender: (owners: Set<number>) => boolean
}

/** A chunk refused without a fault of the client's (its entry ended or failed meanwhile): no error frame, still a rate-limit token. */
export const QUIET = 'quiet'

/** One upload: its settings and entries, and who declared it (the view: 0, else a component's cid). */
interface Slot { config: UploadConfig, entries: Entry[], owner: number }

/** Slots are keyed by owner and name (names are words: no colon). */
const keyOf = (owner: number, name: string): string => owner === 0 ? name : `${owner}:${name}`

/**
 * The uploads a view allows: each one's settings and entries, the chunks arriving for them
 * (written to the server's temporary files, acknowledged, never more than a window under
 * way), progress renders (coalesced), and handing finished files to the view.
 */
export class Uploads {
  readonly #host: UploadHost
  readonly #slots = new Map<string, Slot>()
  readonly #byRef = new Map<string, Entry>()
  /** Declared bytes of this page's entries, against `uploadBytesPerSession` (the session's own limit). */
  #held = 0
  /** Bytes received and not yet written. */
  #inFlight = 0
  #timer: unknown
  #disposed = false
  /** Owners whose uploads changed since the last progress render. */
  readonly #changedOwners = new Set<number>()

  constructor (host: UploadHost) { this.#host = host }

  /** `allowUpload` of the view (owner 0) or of the component with that cid: (re)declares an upload; its entries stay. */
  allow (config: UploadConfig, owner = 0): void {
    const slot = this.#slots.get(keyOf(owner, config.name))
    if (slot === undefined) this.#slots.set(keyOf(owner, config.name), { config, entries: [], owner })
    else slot.config = config
  }

  /** `disallowUpload`: the upload and its entries go. */
  disallow (name: string, owner = 0): void {
    const slot = this.#slots.get(keyOf(owner, name))
    if (slot === undefined) return
    for (const e of [...slot.entries]) this.#drop(slot, e)
    this.#slots.delete(keyOf(owner, name))
  }

  /** A component left the page: its uploads go. */
  drop (owner: number): void {
    for (const slot of [...this.#slots.values()]) if (slot.owner === owner) this.disallow(slot.config.name, owner)
  }

  /** True when the view (or the component `owner`) allows the upload `name`. */
  has (name: string, owner = 0): boolean { return this.#slots.has(keyOf(owner, name)) }

  /** True when `ref` names an entry of this page (its chunks go to `chunk`). */
  knows (ref: string): boolean { return this.#byRef.has(ref) }

  /** True for an external entry still waiting to be confirmed. */
  external (ref: string): boolean {
    const e = this.#byRef.get(ref)
    return e !== undefined && e.external && e.valid
  }

  /** `it.uploads` of the view (or of the component `owner`): each upload's state; undefined when it has none. */
  context (owner = 0): Record<string, UploadState> | undefined {
    let out: Record<string, UploadState> | undefined
    for (const slot of this.#slots.values()) if (slot.owner === owner) (out ??= {})[slot.config.name] = stateOf(slot.config, slot.entries)
    return out
  }

  /** `uploads(name)` in a handler: the entries as the template shows them. */
  entries (name: string, owner = 0): readonly UploadEntry[] { return this.#slot(name, owner).entries.slice() }

  /**
   * The client declares files for an upload: each is checked (type, size, count, budgets),
   * becomes an entry (or resumes a retained one of the same user) and, for external
   * uploads, gets its signed URL. The grant tells the client what to send.
   */
  async declare (name: string, files: UploadFile[], owner = 0): Promise<UploadGrant> {
    const slot = this.#slot(name, owner)
    const { config } = slot
    const host = this.#host
    const store = host.uploadStore!
    const limits = host.uploadLimits
    // Resumes wait (briefly) for the user's last session to let their files go: see `released`.
    if (await store.released(files.map((f) => f[3]), host.sessionKey) && this.#disposed) return { entries: [], chunk: config.chunkSize, window: 0, auto: config.autoUpload }
    // One file at a time: a new pick replaces it. A new pick also clears the refused files of the last.
    for (const e of [...slot.entries]) if (config.maxEntries === 1 || !e.valid) this.#drop(slot, e)
    let valid = slot.entries.filter((e) => e.valid).length
    const grant: UploadGrant = { entries: [], chunk: config.chunkSize, window: Math.max(limits.uploadWindowBytes, config.chunkSize), auto: config.autoUpload }
    for (const file of files) {
      const [clientName, clientType, size, resume] = file
      const problems = fileProblems(config, clientName, clientType, size, valid)
      let stored: StoredFile | undefined
      if (problems.length === 0 && config.presign === undefined) {
        // A resume takes back the file the user's last session left (its bytes still counted).
        const adopted = resume === undefined ? undefined : store.adopt(resume, host.sessionKey, name, clientName, clientType, size)
        // The server's budget counts bytes as they come (declaring holds nothing of it); a file that cannot fit now is refused at once.
        if (this.#held + size > limits.uploadBytesPerSession || !store.fits(size - (adopted?.written ?? 0))) {
          problems.push(uploadError('over_budget'))
          if (adopted !== undefined) void store.discard(adopted)
        } else {
          this.#held += size
          stored = adopted ?? store.create(host.sessionKey, name, clientName, clientType, size)
        }
      }
      // A local entry's ref names its file: a resume finds it by the ref the client knows.
      const entry = new Entry(config, stored?.ref ?? newRef(), file, owner)
      entry.errors = problems
      entry.file = stored
      slot.entries.push(entry)
      this.#byRef.set(entry.ref, entry)
      if (!entry.valid) {
        grant.entries.push([entry.ref, false, 0])
        continue
      }
      valid++
      if (config.presign !== undefined) {
        entry.external = true
        try {
          const { meta, ...target } = await config.presign(entry)
          entry.meta = meta
          grant.entries.push([entry.ref, true, 0, target])
        } catch (err) {
          host.log.error({ err, view: host.viewName, upload: name }, 'live view presign failed')
          entry.errors.push(uploadError('failed'))
          grant.entries.push([entry.ref, false, 0])
        }
        continue
      }
      entry.received = stored!.written
      this.#progressed(entry, stored!.written)
      grant.entries.push([entry.ref, true, entry.received])
    }
    return grant
  }

  /**
   * A chunk of an entry's file (one it `knows`), outside the mailbox (events go on
   * meanwhile). Returns the error for a chunk the client should not have sent (the entry
   * then fails); written chunks are acknowledged in order.
   */
  chunk (ref: string, offset: number, data: Uint8Array): CodedError | typeof QUIET | undefined {
    const entry = this.#byRef.get(ref)!
    // It failed already (the client told to stop): what was on its way is answered quietly.
    if (entry.gone) return (this.#host.sendFrame(ackFrame(ref, -1)), QUIET)
    const problem = chunkProblem(entry, offset, data.byteLength, this.#inFlight, this.#host.uploadLimits.uploadWindowBytes)
    if (problem !== undefined) {
      this.#fail(entry)
      return new errors.UPLOAD_CHUNK_INVALID(entry.ref, problem)
    }
    const file = entry.file!
    const n = data.byteLength
    // The server's budget counts bytes as they come: over it (other uploads took the room), the entry fails (no client fault).
    if (this.#host.uploadStore?.take(file, n) !== true) {
      this.#fail(entry, 'over_budget')
      return QUIET
    }
    entry.received += n
    this.#inFlight += n
    entry.chain = entry.chain.then(async () => {
      if (entry.gone) return
      await file.write(data, offset)
      file.written = offset + n
    }).then(() => {
      this.#inFlight -= n
      if (entry.gone) return
      // Nothing more queued: the file's descriptor is not held while the client is idle.
      if (entry.received === file.written) void file.close()
      this.#host.sendFrame(ackFrame(entry.ref, file.written))
      this.#progressed(entry, file.written)
    }, (err: unknown) => {
      this.#inFlight -= n
      this.#host.log.error({ err, view: this.#host.viewName, upload: entry.config.name }, 'live view upload write failed')
      this.#fail(entry)
    })
    return undefined
  }

  /** An external upload's progress, as the client reports it; 100: its `verify` decides. */
  async progress (ref: string, percent: number): Promise<void> {
    const entry = this.#byRef.get(ref)
    if (entry !== undefined && entry.external && entry.valid && !entry.done) await reported(entry, percent, this.#host.log, this.#host.viewName)
  }

  /** Cancels an entry: its data goes, the client sends no more. False when there is none. */
  cancel (name: string, ref: string, owner = 0): boolean {
    const slot = this.#slot(name, owner)
    const entry = slot.entries.find((e) => e.ref === ref)
    if (entry === undefined) return false
    this.#drop(slot, entry)
    return true
  }

  /**
   * Hands each finished entry to `fn` (its bytes as a stream from temporary storage), one
   * at a time; each entry and its data go once `fn` settles, whatever it does. Entries
   * still under way, or with errors, stay.
   */
  async consume<R> (name: string, fn: (entry: ConsumedEntry) => R | Promise<R>, owner = 0): Promise<R[]> {
    const slot = this.#slot(name, owner)
    const results: R[] = []
    for (const entry of slot.entries.filter((e) => e.done && e.valid)) {
      // Released already, or the session ended while an earlier one was consumed: the rest stay as its end left them.
      if (entry.gone) continue
      const file = entry.file
      // From now on the session's end leaves it to this consume (neither retained nor deleted under its feet).
      entry.consuming = true
      if (file !== undefined) {
        await entry.chain
        // An empty file was never written to: made now, so it can be read.
        if (file.written === 0) await file.write(new Uint8Array(0), 0)
        await file.close()
      }
      const [consumed, end] = consumedOf(entry, file)
      try {
        results.push(await fn(consumed))
      } finally {
        end()
        this.#drop(slot, entry)
      }
    }
    return results
  }

  /** Renders now what progress is waiting for (testing API). */
  flush (): void {
    if (this.#timer === undefined) return
    this.#host.clock.clearTimeout(this.#timer)
    this.#timer = undefined
    this.#rerender()
  }

  /** Bytes received and not yet written. */
  get inFlight (): number { return this.#inFlight }

  /**
   * The view is gone. `retain`: its session's socket dropped, so the files under way stay
   * for a while for the user's rejoin (resumed where they stopped); otherwise they go.
   */
  dispose (retain: boolean): void {
    this.#disposed = true
    this.#host.clock.clearTimeout(this.#timer)
    this.#timer = undefined
    const store = this.#host.uploadStore
    for (const slot of this.#slots.values()) {
      for (const entry of slot.entries) {
        const file = entry.file
        this.#host.uploadEnded(entry.ref)
        // Being consumed: the consume releases it when done.
        if (entry.consuming) continue
        if (!retain || !entry.valid || entry.gone || file === undefined || store === undefined) {
          this.#release(entry)
          continue
        }
        entry.gone = true
        void entry.chain.then(() => { store.retain(file) })
      }
      slot.entries.length = 0
    }
    this.#byRef.clear()
  }

  #slot (name: string, owner: number): Slot {
    const slot = this.#slots.get(keyOf(owner, name))
    if (slot === undefined) {
      const mine = [...this.#slots.values()].filter((s) => s.owner === owner).map((s) => s.config.name)
      throw new errors.UPLOAD_UNKNOWN(`'${String(name).slice(0, 64)}' (${owner === 0 ? `view ${this.#host.viewName}` : `component ${owner}`} allows ${mine.join(', ') || 'no uploads'})`)
    }
    return slot
  }

  #rerender (): void {
    const owners = new Set(this.#changedOwners)
    this.#changedOwners.clear()
    this.#host.rerender(owners)
  }

  /** A chunk went wrong: the entry fails, its data goes, the client is told to stop. */
  #fail (entry: Entry, code: 'failed' | 'over_budget' = 'failed'): void {
    if (entry.gone) return
    entry.errors.push(uploadError(code))
    this.#release(entry)
    this.#host.sendFrame(ackFrame(entry.ref, -1))
    this.#changed(entry)
  }

  /** Takes an entry out (cancelled, consumed, replaced), and tells the client. */
  #drop (slot: Slot, entry: Entry): void {
    const i = slot.entries.indexOf(entry)
    if (i >= 0) slot.entries.splice(i, 1)
    this.#byRef.delete(entry.ref)
    this.#host.uploadEnded(entry.ref)
    this.#release(entry)
    // The client forgets it (stops sending it, drops its preview).
    this.#host.sendFrame(ackFrame(entry.ref, -1))
  }

  /** The entry's data and reserved bytes go. */
  #release (entry: Entry): void {
    if (entry.gone) return
    entry.gone = true
    const file = entry.file
    if (file === undefined) return
    this.#held -= entry.clientSize
    const store = this.#host.uploadStore
    if (store !== undefined) void entry.chain.then(async () => { await store.discard(file) })
  }

  /** Bytes written: the entry's progress, and a render when it shows a new percentage. */
  #progressed (entry: Entry, written: number): void {
    const progress = entry.clientSize === 0 ? 100 : Math.floor(written * 100 / entry.clientSize)
    const done = written === entry.clientSize
    if (progress === entry.progress && done === entry.done) return
    entry.progress = progress
    entry.done = done
    this.#changed(entry)
  }

  /** Progress renders are coalesced: one per `uploadProgressMs` at most. */
  #changed (entry: Entry): void {
    this.#changedOwners.add(entry.owner)
    if (this.#timer !== undefined) return
    this.#timer = this.#host.clock.setTimeout(() => {
      this.#timer = undefined
      this.#rerender()
    }, this.#host.uploadLimits.uploadProgressMs)
    unref(this.#timer)
  }
}


import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { open, rm, type FileHandle } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Clock } from './clock.js'
import { unref } from './clock.js'

/** How long a resume waits for the user's last session to let its file go (see `UploadStore.released`). */
export const RESUME_WAIT_MS = 2000

/** An unguessable ref (128 bits, base64url: 22 characters). */
export const newRef = (): string => randomBytes(16).toString('base64url')

/**
 * An entry's data on this server: a temporary file named by a random ref (never by the
 * client's name), the bytes written to it, and who may write more (the session that
 * declared it, or, while retained after a disconnect, a rejoin of the same user).
 */
export class StoredFile {
  readonly ref = newRef()
  readonly path: string
  /** Bytes written (each acknowledged to the client). */
  written = 0
  /** Bytes it counts against the server's budget (received: written, or being written). */
  taken = 0
  /** The session key of the user who declared it (a resume must come from the same). */
  readonly key: string | undefined
  readonly size: number
  readonly upload: string
  readonly clientName: string
  readonly clientType: string
  #handle: Promise<FileHandle> | undefined
  /** The retention timer while no session holds it. */
  expiry: unknown

  constructor (dir: string, key: string | undefined, upload: string, clientName: string, clientType: string, size: number) {
    this.path = join(dir, `${this.ref}.part`)
    this.key = key
    this.upload = upload
    this.clientName = clientName
    this.clientType = clientType
    this.size = size
  }

  /** Writes `data` at `offset` (positional: a resumed upload continues where it stopped). */
  async write (data: Uint8Array, offset: number): Promise<void> {
    let handle: FileHandle
    try {
      handle = await (this.#handle ??= open(this.path, this.written === 0 ? 'w' : 'r+'))
    } catch (err) {
      // The next write tries again (the caller fails the entry).
      this.#handle = undefined
      throw err
    }
    let done = 0
    while (done < data.byteLength) {
      const { bytesWritten } = await handle.write(data, done, data.byteLength - done, offset + done)
      done += bytesWritten
    }
  }

  /** Closes the file (it stays on disk). */
  async close (): Promise<void> {
    const handle = this.#handle
    this.#handle = undefined
    if (handle === undefined) return
    try {
      await (await handle).close()
    } catch {
      // It never opened, or is closed already.
    }
  }
}

/**
 * The uploads of one server: where their temporary files live, the bytes they hold (the
 * server's budget), and the files kept for a while after their session ended, so the
 * user's rejoin resumes them (`limits.uploadRetainMs`).
 */
export class UploadStore {
  #dir: string | undefined
  /** Bytes the uploads hold (received), against `uploadBytesPerServer`. */
  held = 0
  /** Files kept after their session ended, by ref. */
  readonly #retained = new Map<string, StoredFile>()
  /** Files a session holds, by ref (a resume of one waits a moment for its session to end). */
  readonly #owned = new Map<string, StoredFile>()
  /** Resumes waiting for a file's session to let it go, by ref. */
  readonly #waiting = new Map<string, Array<() => void>>()
  readonly #clock: Clock
  readonly #retainMs: number
  readonly #budget: number

  constructor (clock: Clock, retainMs: number, budget: number) {
    this.#clock = clock
    this.#retainMs = retainMs
    this.#budget = budget
  }

  /** The directory of this server's temporary files (made on first use, removed on close). */
  get dir (): string { return (this.#dir ??= mkdtempSync(join(tmpdir(), 'fastify-liveview-'))) }

  /** True when `bytes` more fit in the server's budget now. */
  fits (bytes: number): boolean { return this.held + bytes <= this.#budget }

  /** Counts `bytes` more for `file`; false when the server's budget would go over. */
  take (file: StoredFile, bytes: number): boolean {
    if (!this.fits(bytes)) return false
    this.held += bytes
    file.taken += bytes
    return true
  }

  /** A new file for an entry. */
  create (key: string | undefined, upload: string, clientName: string, clientType: string, size: number): StoredFile {
    const file = new StoredFile(this.dir, key, upload, clientName, clientType, size)
    this.#owned.set(file.ref, file)
    return file
  }

  /**
   * Waits until no session of user `key` holds the files named by `refs` (resumes: undefined
   * for a new file), each retained or deleted, or `RESUME_WAIT_MS`; true when it waited. A
   * rejoin can come before the server has seen the old socket close, or while its last writes
   * land: its resumes wait for them instead of starting over.
   */
  async released (refs: Array<string | undefined>, key: string | undefined): Promise<boolean> {
    const held = refs.filter((ref): ref is string => typeof ref === 'string' && this.#owned.has(ref) && this.#owned.get(ref)!.key === key)
    if (held.length === 0) return false
    await Promise.all(held.map(async (ref) => { await this.#letGoOf(ref) }))
    return true
  }

  /** Resolves when file `ref` is let go, or after `RESUME_WAIT_MS` (its waker then stays listed until the file goes: a second resolve does nothing). */
  #letGoOf (ref: string): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = this.#clock.setTimeout(resolve, RESUME_WAIT_MS)
      unref(timer)
      const list = this.#waiting.get(ref) ?? []
      this.#waiting.set(ref, list)
      list.push(() => {
        this.#clock.clearTimeout(timer)
        resolve()
      })
    })
  }

  /** No session holds `file` now: resumes waiting for it go on. */
  #letGo (file: StoredFile): void {
    if (this.#owned.get(file.ref) === file) this.#owned.delete(file.ref)
    const list = this.#waiting.get(file.ref)
    this.#waiting.delete(file.ref)
    for (const wake of list ?? []) wake()
  }

  /** Keeps `file` (its bytes still counted) for a rejoin of the same user, then deletes it. */
  retain (file: StoredFile): void {
    void file.close()
    // Bytes taken and never written (their writes were skipped): the resume sends them again.
    this.held = Math.max(0, this.held - (file.taken - file.written))
    file.taken = file.written
    this.#retained.set(file.ref, file)
    file.expiry = this.#clock.setTimeout(() => { this.#expire(file) }, this.#retainMs)
    unref(file.expiry)
    this.#letGo(file)
  }

  /**
   * Takes back a retained file for a resume: same user (session key), same upload, name,
   * type and size. Undefined otherwise (the upload starts over).
   */
  adopt (ref: string, key: string | undefined, upload: string, clientName: string, clientType: string, size: number): StoredFile | undefined {
    const file = this.#retained.get(ref)
    if (file === undefined || file.key !== key || file.upload !== upload || file.clientName !== clientName || file.clientType !== clientType || file.size !== size) return undefined
    this.#retained.delete(ref)
    this.#clock.clearTimeout(file.expiry)
    this.#owned.set(ref, file)
    return file
  }

  /** Deletes a file and gives back the bytes it counted. */
  async discard (file: StoredFile): Promise<void> {
    this.held = Math.max(0, this.held - file.taken)
    file.taken = 0
    this.#letGo(file)
    await file.close()
    await rm(file.path, { force: true }).catch(() => {})
  }

  /** Files retained now (tests, stats). */
  get retained (): number { return this.#retained.size }

  #expire (file: StoredFile): void {
    if (this.#retained.get(file.ref) !== file) return
    this.#retained.delete(file.ref)
    void this.discard(file)
  }

  /** Deletes every temporary file (the app is closing). */
  close (): void {
    for (const file of this.#retained.values()) this.#clock.clearTimeout(file.expiry)
    this.#retained.clear()
    this.#owned.clear()
    for (const list of this.#waiting.values()) for (const wake of list) wake()
    this.#waiting.clear()
    if (this.#dir !== undefined) rmSync(this.#dir, { recursive: true, force: true })
    this.#dir = undefined
  }
}

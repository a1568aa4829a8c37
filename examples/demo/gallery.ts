import { randomUUID } from 'node:crypto'
import { createWriteStream } from 'node:fs'
import { mkdir } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pipeline } from 'node:stream/promises'
import { LiveView, defineEvents } from '../../plugin.js'

/** A saved photo: what the user called it, its size, and where it went (a name of ours, never the client's). */
export interface SavedPhoto { name: string, size: number, file: string }

/** File extensions by MIME type: the only way a saved file gets one (the client's name never reaches the disk). */
const EXTENSIONS: Record<string, string> = { 'image/png': '.png', 'image/jpeg': '.jpg', 'image/gif': '.gif', 'image/webp': '.webp' }

export interface GalleryOptions {
  /** Where saved photos go. Default: a folder in the system's temporary directory */
  dir?: string | undefined
  /** Bytes at most per photo. Default: 25,000,000 */
  maxFileSize?: number | undefined
}

/**
 * Photo uploads: pick or drop up to five images; each uploads as soon as it is picked
 * (progress bars, a preview made by the browser, a cancel button); Save streams them to disk.
 */
export function gallery (options: GalleryOptions = {}): typeof Gallery {
  return class extends Gallery {
    static override dir = options.dir ?? Gallery.dir
    static override maxFileSize = options.maxFileSize ?? Gallery.maxFileSize
  }
}

export class Gallery extends LiveView {
  static template = 'gallery'
  static title = 'Photo uploads'
  static events = defineEvents<Gallery>({ validate: true, save: true, cancel: true })
  static dir = join(tmpdir(), 'fastify-liveview-demo-photos')
  static maxFileSize = 25_000_000
  caption = ''
  saved: SavedPhoto[] = []

  mount (): void {
    const { maxFileSize } = this.constructor as typeof Gallery
    this.allowUpload('photos', { accept: ['.png', '.jpg', '.jpeg', '.gif', '.webp', 'image/*'], maxEntries: 5, maxFileSize, autoUpload: true })
  }

  validate (p: { caption?: string }): void { this.caption = p.caption ?? '' }

  cancel (p: { ref?: string }): void { this.cancelUpload('photos', p.ref ?? '') }

  async save (p: { caption?: string }): Promise<void> {
    const { dir } = this.constructor as typeof Gallery
    await mkdir(dir, { recursive: true })
    const saved = await this.consumeUploads('photos', async (entry): Promise<SavedPhoto> => {
      const file = join(dir, randomUUID() + (EXTENSIONS[entry.clientType] ?? '.bin'))
      await pipeline(entry.stream!, createWriteStream(file))
      return { name: entry.clientName, size: entry.clientSize, file }
    })
    this.saved.unshift(...saved)
    this.caption = ''
    this.putFlash('info', saved.length === 0 ? 'Nothing to save yet.' : `Saved ${saved.length} photo${saved.length === 1 ? '' : 's'}${p.caption ? ` as “${p.caption}”` : ''}.`)
  }

  context (): object { return { caption: this.caption, saved: this.saved, kb: (n: number) => `${Math.ceil(n / 1024).toLocaleString('en')} KB` } }
}

// Uploads (lib/session/uploads.ts, lib/upload-store.ts): declared files, chunks over the
// socket within a window, progress renders, consuming as a stream, cancel, limits, resume.
import t from 'tap'
import Fastify from 'fastify'
import { createHash } from 'node:crypto'
import { existsSync, readdirSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import liveview, { LiveView, defineEvents, type UploadOptions } from '../plugin.js'
import { mountView } from '../testing.js'

const root = new URL('./fixtures/uploads/', import.meta.url)

const sha = (b: Uint8Array | string): string => createHash('sha256').update(b).digest('hex')

/** A view that allows photos and saves what it consumes (the hashes of the bytes it streamed). */
export class Photos extends LiveView {
  static template = 'avatar'
  static events = defineEvents<Photos>({ save: true, validate: true, cancel: true })
  static options: UploadOptions = { accept: ['.png', '.jpg', 'image/*'], maxEntries: 3, maxFileSize: 300_000, chunkSize: 10_000 }
  title = ''
  saved: string[] = []
  mount (): void { this.allowUpload('photos', (this.constructor as typeof Photos).options) }
  validate (p: { title?: string }): void { this.title = p.title ?? '' }
  cancel (p: { ref?: string }): void { this.cancelUpload('photos', p.ref ?? '') }
  async save (): Promise<string[]> {
    const done = await this.consumeUploads('photos', async (entry) => {
      const hash = createHash('sha256')
      for await (const chunk of entry.stream!) hash.update(chunk as Buffer)
      return `${entry.clientName} ${entry.clientSize} ${hash.digest('hex')}`
    })
    this.saved.push(...done)
    return done
  }

  context (): object { return { title: this.title, saved: this.saved } }
}

const bytes = (n: number, seed = 1): Uint8Array => {
  const b = new Uint8Array(n)
  let x = seed
  for (let i = 0; i < n; i++) b[i] = (x = (x * 1103515245 + 12345) & 0x7fffffff) >> 16
  return b
}

t.test('a file picked, sent in chunks, consumed as a stream in the submit handler', async (t) => {
  const page = await mountView(Photos, { root, path: '/photos' })
  t.teardown(() => page.close())
  t.match(page.html, /<input id="pick" type="file" lv-upload="photos" accept="\.png,\.jpg,image\/\*" data-lv-max-size="300000" data-lv-max-entries="3" multiple>/)
  const data = bytes(123_456)
  const up = await page.upload('#pick', [{ name: 'cat.png', type: 'image/png', content: data }])
  t.equal(up.reply.error, undefined)
  t.equal(up.entries.length, 1)
  t.equal(up.entries[0]!.received, 123_456)
  t.equal(page.text('.name'), 'cat.png')
  t.equal(page.all('progress')[0]!.attribs.value, '100', 'the progress render shows 100%')
  const saved = await page.submit('#f')
  t.same(saved.value, [`cat.png 123456 ${sha(data)}`])
  t.equal(page.all('#entries li').length, 0, 'consumed entries leave the page')
  t.equal(page.text('#saved li'), `cat.png 123456 ${sha(data)}`)
})

t.test('progress part-way re-renders; cancel drops the entry and its data', async (t) => {
  const page = await mountView(Photos, { root, path: '/photos' })
  t.teardown(() => page.close())
  const up = await page.upload('#pick', [{ name: 'big.jpg', type: 'image/jpeg', content: bytes(200_000) }], { bytes: 50_000 })
  t.equal(up.entries[0]!.received, 50_000)
  t.equal(page.all('progress')[0]!.attribs.value, '25')
  const ref = up.entries[0]!.ref
  t.match(ref, /^[\w-]{22}$/, 'an unguessable ref')
  await page.click(`#e-${ref} button`)
  t.equal(page.all('#entries li').length, 0)
  const saved = await page.submit('#f')
  t.same(saved.value, [], 'nothing to consume')
})

t.test('the server checks type, size and count, and shows each entry\'s errors', async (t) => {
  const page = await mountView(Photos, { root, path: '/photos' })
  t.teardown(() => page.close())
  const up = await page.upload('#pick', [
    { name: 'a.png', type: 'image/png', content: 'a' },
    { name: 'notes.txt', type: 'text/plain', content: 'b' },
    { name: 'huge.png', type: 'image/png', content: bytes(300_001) },
    { name: 'b.png', type: 'image/png', content: 'c' },
    { name: 'c.png', type: 'image/png', content: 'd' },
    { name: 'd.png', type: 'image/png', content: 'e' }
  ])
  t.same(up.entries.map((e) => e.ok), [true, false, false, true, true, false])
  t.same(page.texts('.entry.invalid em'), [
    'not_accepted: This type of file is not accepted',
    'too_large: The file is larger than 300 kB',
    'too_many_files: At most 3 files'
  ])
  t.equal(page.text('.upload-error'), 'Too many files')
  const saved = await page.submit('#f')
  t.equal((saved.value as string[]).length, 3, 'the three valid files are consumed')
})

// Uploads in Chromium. On the demo's photo page: a 20 MB file in chunks over the live socket
// (progress seen, the bytes on disk equal), and a reconnect mid-upload that resumes where it
// stopped (the server counts the chunk bytes it receives, and cuts the socket part-way). On
// an app written from the README: files over the limit or of another type (refused before
// any byte is sent), uploads started by the submit, drop, cancel; a component's upload; a
// finished upload the server lost, sent again.
import t, { type Test } from 'tap'
import { createHash, randomBytes } from 'node:crypto'
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Browser, Page } from 'playwright-core'
import { buildDemo } from '../examples/demo/server.js'
import { launchChromium, openLivePage, ruleCheck, settled } from './chromium.js'
import Fastify from 'fastify'
import { fileURLToPath } from 'node:url'
import liveview, { LiveView, defineEvents } from '../plugin.js'
import { serverHtml } from './helpers.js'
import { Cards } from './fixtures/upload-classes.js'
import { Session } from '../lib/session/actor.js'
import { kRuntime, type Runtime } from '../lib/runtime.js'

t.setTimeout(120000)

let browser: Browser
t.before(async () => { browser = await launchChromium() })
t.teardown(() => browser?.close())

interface Wire {
  /** Bytes of binary (chunk) frames the server received, and their count. */
  bytes: number
  frames: number
  /** Cut the socket once this many chunk frames came (once), as a dropped connection would. */
  cutAfter?: number
}

/**
 * The demo with its photos going to a fresh folder (and at most `maxFileSize` each),
 * listening on 127.0.0.1; the chunks its sessions receive are counted in `wire`.
 */
async function demo (t: Test, wire: Wire, maxFileSize?: number): Promise<{ base: string, dir: string, app: Awaited<ReturnType<typeof buildDemo>> }> {
  const dir = mkdtempSync(join(tmpdir(), 'lv-photos-'))
  t.teardown(() => { rmSync(dir, { recursive: true, force: true }) })
  // Progress renders every 25 ms: a fast upload still shows some part-way.
  const app = await buildDemo({ logger: false, secret: 'browser-uploads-secret-long-enough-0000000', gallery: { dir, maxFileSize }, limits: { uploadProgressMs: 25 } })
  t.teardown(() => app.close())
  const receive = Session.prototype.receiveBinary
  t.teardown(() => { Session.prototype.receiveBinary = receive })
  Session.prototype.receiveBinary = function (this: Session, data: Uint8Array) {
    wire.bytes += data.byteLength
    receive.call(this, data)
    if (wire.cutAfter !== undefined && ++wire.frames >= wire.cutAfter) {
      wire.cutAfter = undefined
      // The server drops the socket (as for a client that fell behind): what was under way is lost.
      this.transport.close(4002, 'FST_LIVEVIEW_SLOW_CLIENT')
    }
  }
  return { base: await app.listen({ host: '127.0.0.1', port: 0 }), dir, app }
}

/** Opens the photo page, recording every progress value it shows. */
async function open (t: Test, base: string): Promise<{ page: Page, errors: string[] }> {
  const context = await browser.newContext()
  t.teardown(() => context.close())
  await context.addInitScript(() => {
    const seen: string[] = (window as unknown as { seen: string[] }).seen = []
    new MutationObserver(() => {
      for (const p of document.querySelectorAll('progress')) seen.push(p.getAttribute('value') ?? '')
    }).observe(document, { subtree: true, childList: true, attributes: true, attributeFilter: ['value'] })
  })
  const page = await context.newPage()
  const errors: string[] = []
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()) })
  page.on('pageerror', (e) => { errors.push(String(e)) })
  await page.goto(`${base}/uploads`)
  await page.waitForSelector('[data-lv-root].lv-connected')
  return { page, errors }
}

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex')

/** Writes `data` to a file named `name` in a fresh folder (removed after the test); returns its path. */
function fileOf (t: Test, name: string, data: Uint8Array): string {
  const dir = mkdtempSync(join(tmpdir(), 'lv-pick-'))
  t.teardown(() => { rmSync(dir, { recursive: true, force: true }) })
  writeFileSync(join(dir, name), data)
  return join(dir, name)
}

t.test('a 20 MB photo: chunks over the socket, progress shown, the bytes saved equal', async (t) => {
  const wire: Wire = { bytes: 0, frames: 0 }
  const { base, dir, app } = await demo(t, wire)
  const { page, errors } = await open(t, base)
  const rule = ruleCheck(t, page, () => serverHtml(app))
  t.ok(await page.$('script[src*="/_live/upload."]') !== null, 'the upload code loaded as a chunk of its own')
  const data = randomBytes(20 * 1024 * 1024)
  // From a file on disk: a buffer would cross the DevTools protocol in base64 (seconds).
  await page.setInputFiles('#photos', fileOf(t, 'big photo.png', data))
  await page.waitForSelector('progress[value="100"]', { timeout: 60000 })
  await rule('uploaded')
  const seen = (await page.evaluate(() => (window as unknown as { seen: string[] }).seen)).map(Number)
  t.ok(seen.some((v) => v > 0 && v < 100), `progress was seen part-way (${[...new Set(seen)].join(', ')})`)
  t.ok(await page.$eval('img[lv-preview]', (img) => img.getAttribute('src')?.startsWith('blob:')), 'the preview is an object URL made by the browser')
  t.ok(wire.bytes >= data.length && wire.bytes < data.length + 400 * 100, `the file went once, in chunks (${wire.bytes} bytes)`)
  await page.fill('#caption', 'Holidays')
  await page.click('button[type="submit"]')
  await page.waitForSelector('.success:has-text("Saved 1 photo")')
  await rule('saved')
  const files = readdirSync(dir)
  t.equal(files.length, 1)
  t.match(files[0], /^[\w-]+\.png$/, 'saved under a name of the server, not the client')
  t.equal(sha(readFileSync(join(dir, files[0]!))), sha(data), 'the bytes on disk are the bytes picked')
  t.equal(await page.textContent('.saved li'), 'big photo.png 20,480 KB')
  t.same(errors, [], 'no console errors')
})

t.test('a reconnect mid-upload resumes from what the server holds', async (t) => {
  // Cut after 20 chunks of 64,000 bytes (1.28 MB of 4 MB).
  const wire: Wire = { bytes: 0, frames: 0, cutAfter: 20 }
  const { base, dir, app } = await demo(t, wire)
  const { page, errors } = await open(t, base)
  let joins = 0
  await page.exposeFunction('joined', () => { joins++ })
  await page.evaluate(() => { document.querySelector('[data-lv-root]')!.addEventListener('lv:connected', () => { void (window as unknown as { joined: () => void }).joined() }) })
  const rule = ruleCheck(t, page, () => serverHtml(app))
  const data = randomBytes(4 * 1024 * 1024)
  await page.setInputFiles('#photos', fileOf(t, 'resume.webp', data))
  await page.waitForSelector('progress[value="100"]', { timeout: 60000 })
  await settled(page)
  t.equal(joins, 1, 'the page rejoined once')
  const socketWindow = 512 * 1024
  t.ok(wire.bytes < data.length + socketWindow, `bytes sent in all (${wire.bytes}) < the file (${data.length}) + one window (${socketWindow})`)
  await rule('resumed')
  await page.click('button[type="submit"]')
  await page.waitForSelector('.success:has-text("Saved 1 photo")')
  const files = readdirSync(dir)
  t.equal(files.length, 1)
  t.equal(sha(readFileSync(join(dir, files[0]!))), sha(data), 'the bytes on disk are the bytes picked')
  t.same(errors.filter((e) => !/WebSocket/.test(e)), [], 'no console errors but the cut socket')
})

/** A small app written from the README: uploads start on submit (no autoUpload), a drop zone, a cancel button. */
class Photos extends LiveView {
  static template = 'avatar'
  static events = defineEvents<Photos>({ save: true, validate: true, cancel: true })
  title = ''
  saved: string[] = []
  mount (): void { this.allowUpload('photos', { accept: ['.png', 'image/*'], maxEntries: 3, maxFileSize: 2_000_000 }) }
  validate (p: { title?: string }): void { this.title = p.title ?? '' }
  cancel (p: { ref?: string }): void { this.cancelUpload('photos', p.ref ?? '') }
  async save (p: { title?: string }): Promise<void> {
    const names = await this.consumeUploads('photos', async (entry) => {
      let n = 0
      for await (const chunk of entry.stream!) n += (chunk as Buffer).length
      return `${entry.clientName}:${n}`
    })
    this.saved.push(...names.map((x) => `${p.title ?? ''} ${x}`))
  }

  context (): object { return { title: this.title, saved: this.saved } }
}

t.test('refused files send nothing; uploads that start on submit, a dropped file, a cancel: the submit waits for the files, the page follows the server', async (t) => {
  const app = Fastify({ logger: false })
  t.teardown(() => app.close())
  await app.register(liveview, { root: fileURLToPath(new URL('./fixtures/uploads/', import.meta.url)), layout: false })
  app.liveView('/photos', Photos)
  const wire: Wire = { bytes: 0, frames: 0 }
  const receive = Session.prototype.receiveBinary
  t.teardown(() => { Session.prototype.receiveBinary = receive })
  Session.prototype.receiveBinary = function (this: Session, data: Uint8Array) { wire.bytes += data.byteLength; receive.call(this, data) }
  const base = await app.listen({ host: '127.0.0.1', port: 0 })
  const { page, errors } = await openLivePage(t, browser, `${base}/photos`)
  const rule = ruleCheck(t, page, () => serverHtml(app))
  // A file over the limit and one of another type: refused with their errors, no byte sent.
  await page.setInputFiles('#pick', [fileOf(t, 'large.png', randomBytes(2_500_000)), fileOf(t, 'notes.txt', Buffer.from('hello'))])
  await page.waitForFunction(() => document.querySelectorAll('#entries li.invalid').length === 2)
  await rule('refused')
  t.same(await page.$$eval('li.invalid em', (els) => els.map((e) => e.textContent)), ['too_large: The file is larger than 2 MB', 'not_accepted: This type of file is not accepted'])
  await page.click('#f > button')
  await settled(page)
  t.equal(wire.bytes, 0, 'no byte of either was sent, even on submit')
  // A new pick clears the refused ones.
  await page.setInputFiles('#pick', [fileOf(t, 'one.png', randomBytes(300_000)), fileOf(t, 'two.png', randomBytes(200_000))])
  await page.waitForFunction(() => document.querySelectorAll('#entries li').length === 2 && document.querySelectorAll('#entries li.invalid').length === 0)
  await rule('picked')
  t.equal(wire.bytes, 0, 'nothing is sent before the submit')
  t.equal(await page.$$eval('img[lv-preview]', (imgs) => imgs.filter((i) => i.getAttribute('src')?.startsWith('blob:')).length), 2, 'previews of both')
  // A third file, dropped on the zone.
  await page.evaluate(() => {
    const dt = new DataTransfer()
    dt.items.add(new File([new Uint8Array(1000)], 'three.png', { type: 'image/png' }))
    const zone = document.querySelector('#drop')!
    zone.dispatchEvent(new DragEvent('dragover', { dataTransfer: dt, bubbles: true, cancelable: true }))
    zone.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }))
  })
  await page.waitForFunction(() => document.querySelectorAll('#entries li').length === 3)
  t.equal(await page.$eval('#drop', (z) => z.classList.contains('lv-drag')), false, 'the drag class is gone after the drop')
  await rule('dropped')
  await page.click('#entries li:nth-child(2) button')
  await page.waitForFunction(() => document.querySelectorAll('#entries li').length === 2)
  await rule('cancelled')
  await page.fill('input[name="title"]', 'trip')
  await page.click('#f > button')
  await page.waitForFunction(() => document.querySelectorAll('#saved li').length === 2)
  await rule('saved')
  t.same(await page.$$eval('#saved li', (els) => els.map((e) => e.textContent)), ['trip one.png:300000', 'trip three.png:1000'], 'the submit ran once the files were sent')
  t.ok(wire.bytes >= 301_000 && wire.bytes < 301_000 + 1000, `only the files kept were sent (${wire.bytes} bytes)`)
  t.equal(await page.$$eval('#entries li', (els) => els.length), 0)
  t.same(errors, [], 'no console errors')
})

t.test("a component's upload: the input in its root declares to it, its form's submit waits for it", async (t) => {
  const app = Fastify({ logger: false })
  t.teardown(() => app.close())
  await app.register(liveview, { root: fileURLToPath(new URL('./fixtures/uploads/', import.meta.url)), layout: false })
  app.liveView('/cards', Cards)
  const base = await app.listen({ host: '127.0.0.1', port: 0 })
  const { page, errors } = await openLivePage(t, browser, `${base}/cards`)
  const rule = ruleCheck(t, page, () => serverHtml(app))
  await page.setInputFiles('#card-2 input', fileOf(t, 'two.pdf', randomBytes(40_000)))
  await page.waitForSelector('#card-2 .entry')
  await rule('picked')
  t.equal(await page.$$eval('#card-1 .entry', (els) => els.length), 0, 'not in the other card')
  await page.click('#card-2 button')
  await page.waitForSelector('#card-2 .saved')
  await rule('saved')
  t.equal(await page.textContent('#card-2 .saved'), 'two.pdf 40000')
  t.same(errors, [], 'no console errors')
})

t.test('a finished upload the server no longer holds at the rejoin (kept too short) is sent again, and the submit waits for it', async (t) => {
  class Auto extends Photos {
    static events = defineEvents<Auto>({ save: true, validate: true, cancel: true })
    override mount (): void { this.allowUpload('photos', { accept: ['.png'], maxEntries: 3, autoUpload: true }) }
  }
  const app = Fastify({ logger: false })
  t.teardown(() => app.close())
  await app.register(liveview, { root: fileURLToPath(new URL('./fixtures/uploads/', import.meta.url)), layout: false, limits: { uploadRetainMs: 1 } })
  app.liveView('/photos', Auto)
  const rt = (app as unknown as Record<symbol, Runtime>)[kRuntime]!
  const base = await app.listen({ host: '127.0.0.1', port: 0 })
  const { page, errors } = await openLivePage(t, browser, `${base}/photos`)
  const rule = ruleCheck(t, page, () => serverHtml(app))
  await page.setInputFiles('#pick', fileOf(t, 'one.png', randomBytes(100_000)))
  await page.waitForSelector('progress[value="100"]')
  // The socket drops; the file is kept 1 ms only: the rejoin finds nothing to resume.
  const first = [...rt.sessions as Set<Session>]
  for (const s of first) s.transport.close(4002, 'FST_LIVEVIEW_SLOW_CLIENT')
  // The client rejoins at once (a new session) and declares the file again: sent from byte 0.
  while (![...rt.sessions as Set<Session>].some((s) => s.joined && !first.includes(s))) await new Promise((resolve) => setTimeout(resolve, 20))
  await page.waitForSelector('[data-lv-root].lv-connected progress[value="100"]')
  await rule('sent again')
  await page.fill('input[name="title"]', 'again')
  await page.click('#f > button')
  await page.waitForSelector('#saved li')
  t.same(await page.$$eval('#saved li', (els) => els.map((e) => e.textContent)), ['again one.png:100000'])
  await rule('saved')
  t.same(errors, [], 'no console errors')
})

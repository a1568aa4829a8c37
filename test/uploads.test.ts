// Uploads (lib/session/uploads.ts, lib/upload-store.ts): declared files, chunks over the
// socket within a window, progress renders, consuming as a stream, cancel, limits, resume.
import t, { type Test } from 'tap'
import Fastify, { type FastifyInstance } from 'fastify'
import { createHash } from 'node:crypto'
import { existsSync, readdirSync, rmSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import liveview, { LiveView, defineEvents, type LiveViewLimits, type UploadOptions } from '../plugin.js'
import { live, mountView, Reply, type LivePage } from '../testing.js'
import { encodeChunk } from '../lib/frames.js'
import type { UploadGrant } from '../lib/protocol.js'
import { uploadConfig } from '../lib/uploads.js'
import { kRuntime, type Runtime } from '../lib/runtime.js'
import type { Session } from '../lib/session/actor.js'
import type { TestTransport } from '../lib/testing/transport.js'
import { Cards } from './fixtures/upload-classes.js'
import { eventually } from './helpers.js'

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

// --- Raw frames: what a client that lies or misbehaves gets ------------------------------

/** An app with the Photos view (limits and session as given), a page on it, and its session for raw frames. */
async function setup (t: Test, opts: { limits?: LiveViewLimits, user?: string, app?: FastifyInstance } = {}): Promise<{ app: FastifyInstance, page: LivePage, session: Session, rt: Runtime }> {
  let app = opts.app
  if (app === undefined) {
    const made = Fastify({ logger: false })
    app = made
    t.teardown(() => made.close())
    await app.register(liveview, { root, layout: false, limits: opts.limits, session: (req) => ({ key: req.headers['x-user'] }) })
    app.liveView('/photos', Photos)
  }
  const page = await live(app, '/photos', { headers: { 'x-user': opts.user ?? 'ada' } })
  t.teardown(() => page.close())
  const rt = (app as unknown as Record<symbol, Runtime>)[kRuntime]!
  const session = [...rt.sessions as Set<Session>].find((s) => s.id === page.sessionId)!
  return { app, page, session, rt }
}

/** Sends a raw client frame and waits for its reply. */
async function raw (page: LivePage, session: Session, frame: unknown[]): Promise<Reply> {
  const transport = session.transport as TestTransport
  const reply = new Promise<Reply>((resolve) => { transport.waiting.set(frame[0] as number, (f) => { resolve(new Reply(f)) }) })
  session.receive(JSON.stringify(frame))
  const answered = await reply
  await session.idle()
  return answered
}

/** The codes of the error frames the server sent outside any reply (ref 0), since `from`. */
const errorsSince = (page: LivePage, from = 0): string[] => page.updates.slice(from).filter((u) => u.error !== undefined).map((u) => u.error!.code)

/** Waits until the session has written what it took (acknowledgements are sent after each write). */
const written = async (session: Session): Promise<void> => {
  for (let i = 0; i < 200 && (session.mounted?.uploads?.inFlight ?? 0) > 0; i++) await new Promise((resolve) => setTimeout(resolve, 5))
  await new Promise((resolve) => setTimeout(resolve, 20))
}

/**
 * The folder's files once it holds `n` (within 2 s): a file's removal is not awaited by
 * what triggers it (a cancel, a consume, an expiry), and a busy machine's file system lags.
 */
const listing = async (dir: string, n: number): Promise<string[]> => {
  await eventually(() => readdirSync(dir).length === n)
  return readdirSync(dir)
}

t.test('a client that lies: chunks past the declared size, at a wrong offset, over the window, for no entry, or not chunks at all', async (t) => {
  const { page, session, rt } = await setup(t, { limits: { uploadWindowBytes: 20_000 } })
  const declare = async (size: number): Promise<string> => {
    const r = await raw(page, session, [90 + size % 7, 'u', 1, 'photos', [['x.png', 'image/png', size]]])
    return (r.value as UploadGrant).entries[0]![0]
  }
  let ref = await declare(1000)
  session.receiveBinary(encodeChunk(ref, 0, bytes(2000)))
  t.same(errorsSince(page), ['FST_LIVEVIEW_UPLOAD_CHUNK_INVALID'], 'bytes past the declared size')
  await written(session)
  await page.settle()
  t.match(page.text(`#e-${ref} em`), /^failed: /, 'the entry shows it failed')
  let n = page.updates.length
  ref = await declare(30_000)
  session.receiveBinary(encodeChunk(ref, 5, bytes(10)))
  t.same(errorsSince(page, n), ['FST_LIVEVIEW_UPLOAD_CHUNK_INVALID'], 'a wrong offset')
  n = page.updates.length
  ref = await declare(50_000)
  // Three chunks of 10,000 at once: the third is over the window of 20,000 unacknowledged bytes.
  for (let i = 0; i < 3; i++) session.receiveBinary(encodeChunk(ref, i * 10_000, bytes(10_000)))
  t.same(errorsSince(page, n), ['FST_LIVEVIEW_UPLOAD_CHUNK_INVALID'], 'over the window')
  n = page.updates.length
  ref = await declare(40_000)
  session.receiveBinary(encodeChunk(ref, 0, bytes(0)))
  t.same(errorsSince(page, n), ['FST_LIVEVIEW_UPLOAD_CHUNK_INVALID'], 'an empty chunk (it would cost no token and no window)')
  n = page.updates.length
  session.receiveBinary(encodeChunk('AAAAAAAAAAAAAAAAAAAAAA', 0, bytes(10)))
  session.receiveBinary(new Uint8Array([2, 1, 2, 3]))
  session.receiveBinary(new Uint8Array(0))
  t.same(errorsSince(page, n), ['FST_LIVEVIEW_UPLOAD_UNKNOWN', 'FST_LIVEVIEW_FRAME_MALFORMED', 'FST_LIVEVIEW_FRAME_MALFORMED'])
  await written(session)
  t.equal((await listing(rt.uploads.dir, 0)).length, 0, 'the failed entries left no data')
  // The session survives: a good upload goes through.
  const up = await page.upload('#pick', [{ name: 'ok.png', type: 'image/png', content: bytes(25_000) }])
  t.equal(up.entries[0]!.received, 25_000)
  t.equal(((await page.submit('#f')).value as string[]).length, 1)
})

t.test('declarations are checked: an unknown upload, a component target, bad frames', async (t) => {
  const { page, session } = await setup(t)
  t.equal((await raw(page, session, [5, 'u', 1, 'nope', [['x.png', 'image/png', 1]]])).error?.code, 'FST_LIVEVIEW_UPLOAD_UNKNOWN')
  t.equal((await raw(page, session, [6, 'u', 1, 'photos', [['x.png', 'image/png', 1]], 3])).error?.code, 'FST_LIVEVIEW_TARGET_UNKNOWN', 'no component 3')
  t.equal((await raw(page, session, [7, 'u', 1, 'photos', [['x.png', 'image/png', -1]]])).error?.code, 'FST_LIVEVIEW_FRAME_MALFORMED')
  t.equal((await raw(page, session, [8, 'u', 1, 'photos', 'x'])).error?.code, 'FST_LIVEVIEW_FRAME_MALFORMED')
  t.equal((await raw(page, session, [9, 'u', 99, 'photos', []])).error?.code, 'FST_LIVEVIEW_EVENT_STALE')
  t.equal((await raw(page, session, [10, 'up', 1, 'nope', 50])).error?.code, 'FST_LIVEVIEW_UPLOAD_UNKNOWN')
  t.equal((await raw(page, session, [11, 'up', 1, 'nope', 500])).error?.code, 'FST_LIVEVIEW_FRAME_MALFORMED')
})

t.test('fuzz: random and mutated chunk frames never crash the session nor leak its data', async (t) => {
  // Retained 500 ms: the look at what waits for a rejoin comes well before it is over.
  const { page, session, rt } = await setup(t, { limits: { eventsPerSecond: 1_000_000, eventBurst: 1_000_000, uploadRetainMs: 500 } })
  let seed = 7
  const rnd = (n: number): number => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) % n
  const r = await raw(page, session, [2, 'u', 1, 'photos', [['a.png', 'image/png', 100_000], ['b.png', 'image/png', 50_000]]])
  const refs = (r.value as UploadGrant).entries.map((e) => e[0])
  for (let i = 0; i < 2000; i++) {
    const good = encodeChunk(refs[rnd(2)]!, rnd(3) === 0 ? 0 : rnd(120_000), bytes(rnd(12_000)))
    const kind = rnd(4)
    if (kind === 0) {
      session.receiveBinary(good)
    } else if (kind === 1) {
      const b = good.slice(0, rnd(good.length + 1))
      for (let j = 0; j < 3; j++) if (b.length > 0) b[rnd(b.length)] = rnd(256)
      session.receiveBinary(b)
    } else if (kind === 2) {
      session.receiveBinary(bytes(rnd(200), i))
    } else {
      session.receiveBinary(good.slice(0, 2 + rnd(30)))
    }
  }
  await written(session)
  t.equal(session.closed, false, 'the session lives')
  const up = await page.upload('#pick', [{ name: 'after.png', type: 'image/png', content: bytes(30_000) }])
  t.equal(up.entries[0]!.received, 30_000, 'and takes a good upload after')
  await page.close()
  await new Promise((resolve) => setTimeout(resolve, 20))
  t.ok(rt.uploads.retained >= 1, `what the page held waits for a rejoin (${rt.uploads.retained} files)`)
  await eventually(() => rt.uploads.retained === 0, 3000)
  t.equal(rt.uploads.retained, 0, 'until uploadRetainMs is over')
  t.equal(rt.uploads.held, 0, 'then every reserved byte is given back')
  t.same(await listing(rt.uploads.dir, 0), [], 'and no data is left')
})

/** Sends `data` from byte `from` on, in chunks of 10,000, each written before the next. */
async function sendRest (to: { session: Session }, ref: string, data: Uint8Array, from: number): Promise<void> {
  for (let at = from; at < data.length; at += 10_000) {
    to.session.receiveBinary(encodeChunk(ref, at, data.subarray(at, at + 10_000)))
    await written(to.session)
  }
}

t.test('resume: a rejoin of the same user continues from what the server holds; another user starts over', async (t) => {
  const { app, page, rt } = await setup(t, {})
  const data = bytes(100_000)
  const first = await page.upload('#pick', [{ name: 'r.png', type: 'image/png', content: data }], { bytes: 40_000 })
  const ref = first.entries[0]!.ref
  t.equal(first.entries[0]!.received, 40_000)
  // The socket drops: the session ends, its upload under way is kept for the rejoin.
  await page.close()
  await new Promise((resolve) => setTimeout(resolve, 20))
  t.equal(rt.uploads.retained, 1)
  // Another user presenting the ref gets nothing of it.
  const eve = await setup(t, { app, user: 'eve' })
  const stolen = await raw(eve.page, eve.session, [50, 'u', 1, 'photos', [['r.png', 'image/png', 100_000, ref]]])
  t.not((stolen.value as UploadGrant).entries[0]![0], ref, "another user's declaration gets an entry of its own")
  t.equal((stolen.value as UploadGrant).entries[0]![2], 0, 'from byte 0')
  t.equal(rt.uploads.retained, 1, 'the retained file is still there for its user')
  // The same user rejoins (a new session) and declares the file again with its ref.
  const again = await setup(t, { app, user: 'ada' })
  const resumed = await raw(again.page, again.session, [51, 'u', 1, 'photos', [['r.png', 'image/png', 100_000, ref]]])
  const [sameRef, ok, received] = (resumed.value as UploadGrant).entries[0]!
  t.same([sameRef, ok, received], [ref, true, 40_000], 'the same entry, from byte 40,000')
  t.equal(again.page.all('progress')[0]!.attribs.value, '40')
  await sendRest(again, ref, data, received)
  const saved = await again.page.submit('#f')
  t.same(saved.value, [`r.png 100000 ${sha(data)}`], 'the file is whole')
})

t.test('a rejoin before the server has seen the old socket close: its resume waits for the old session to let the file go', async (t) => {
  const { app, page } = await setup(t, {})
  const data = bytes(100_000)
  const first = await page.upload('#pick', [{ name: 'r.png', type: 'image/png', content: data }], { bytes: 40_000 })
  const ref = first.entries[0]!.ref
  // The same user's new session declares the file with its ref while the first still holds it.
  const again = await setup(t, { app, user: 'ada' })
  let answered = false
  const resumed = raw(again.page, again.session, [51, 'u', 1, 'photos', [['r.png', 'image/png', 100_000, ref]]]).finally(() => { answered = true })
  // Another user presenting the ref does not wait for anything.
  const eve = await setup(t, { app, user: 'eve' })
  const stolen = await raw(eve.page, eve.session, [52, 'u', 1, 'photos', [['r.png', 'image/png', 100_000, ref]]])
  t.equal((stolen.value as UploadGrant).entries[0]![2], 0, "another user's declaration is answered at once, from byte 0")
  await new Promise((resolve) => setTimeout(resolve, 50))
  t.equal(answered, false, 'the resume waits while the first session holds the file')
  // Now the old socket's close is seen: the session ends and retains the file.
  await page.close()
  const [sameRef, ok, received] = ((await resumed).value as UploadGrant).entries[0]!
  t.same([sameRef, ok, received], [ref, true, 40_000], 'then resumes it from byte 40,000')
  await sendRest(again, ref, data, received)
  const saved = await again.page.submit('#f')
  t.same(saved.value, [`r.png 100000 ${sha(data)}`], 'the file is whole')
})

t.test("the server's budget counts bytes as they arrive: declarations hold none of it; a file that runs over fails, the session goes on", async (t) => {
  const { app, page, rt } = await setup(t, { limits: { uploadBytesPerServer: 400_000 } })
  const other = await setup(t, { app, user: 'bob' })
  const declared = await raw(other.page, other.session, [5, 'u', 1, 'photos', [['idle.png', 'image/png', 300_000]]])
  t.same((declared.value as UploadGrant).entries.map((e) => e[1]), [true])
  t.equal(rt.uploads.held, 0, 'a declaration that sends nothing holds nothing')
  const a = await page.upload('#pick', [{ name: 'a.png', type: 'image/png', content: bytes(300_000) }])
  t.same(a.entries.map((e) => [e.ok, e.received]), [[true, 300_000]], 'so another user still uploads')
  // Now the declared file comes: 100,000 of its bytes fit, the rest do not.
  const ref = (declared.value as UploadGrant).entries[0]![0]
  const n = other.page.updates.length
  for (let at = 0; at < 300_000; at += 10_000) {
    other.session.receiveBinary(encodeChunk(ref, at, bytes(10_000)))
    if (at % 100_000 === 90_000) await written(other.session)
  }
  await written(other.session)
  await other.page.settle()
  t.match(other.page.texts('.entry.invalid em'), [/^over_budget: /], 'it fails with over_budget')
  t.same(errorsSince(other.page, n), [], 'no error frame: the client did nothing wrong (its chunks already on the way are answered quietly)')
  await new Promise((resolve) => setTimeout(resolve, 20))
  t.equal(rt.uploads.held, 300_000, "the failed file's bytes are given back")
})

t.test('budgets: bytes per session and per server', async (t) => {
  const { app, page } = await setup(t, { limits: { uploadBytesPerSession: 250_000, uploadBytesPerServer: 400_000 } })
  const a = await page.upload('#pick', [{ name: 'a.png', type: 'image/png', content: bytes(200_000) }, { name: 'b.png', type: 'image/png', content: bytes(100_000) }])
  t.same(a.entries.map((e) => e.ok), [true, false], 'the second file is over the session budget')
  t.match(page.texts('.entry.invalid em'), [/^over_budget: /])
  const other = await setup(t, { app, user: 'bob' })
  const b = await other.page.upload('#pick', [{ name: 'c.png', type: 'image/png', content: bytes(220_000) }])
  t.same(b.entries.map((e) => e.ok), [false], "over the server's budget (200,000 held by the first page)")
  await page.submit('#f')
  const c = await other.page.upload('#pick', [{ name: 'd.png', type: 'image/png', content: bytes(220_000) }])
  t.same(c.entries.map((e) => e.ok), [true], 'consumed uploads give their bytes back')
})

/** Consumes, then throws: the view's state goes back, the consumed uploads do not come back. */
class Throws extends Photos {
  static events = defineEvents<Throws>({ save: true, validate: true, cancel: true })
  override async save (): Promise<string[]> {
    const done = await super.save()
    throw new Error(`boom after ${done.length}`)
  }
}

t.test('a handler that consumes and then throws: its state is rolled back, the consumed uploads are gone', async (t) => {
  const page = await mountView(Throws, { root, path: '/photos' })
  t.teardown(() => page.close())
  await page.upload('#pick', [{ name: 'a.png', type: 'image/png', content: 'x' }])
  const r = await page.submit('#f')
  t.equal(r.error?.code, 'FST_LIVEVIEW_HANDLER_FAILED')
  t.same((page.view as Throws).saved, [], 'the view is as it was')
  t.same((page.view as Throws).uploadedEntries('photos'), [], 'the entry was consumed all the same')
})

t.test('temporary files: named by ref, deleted after consume, cancel, navigation, and with the app', async (t) => {
  const app = Fastify({ logger: false })
  await app.register(liveview, { root, layout: false })
  app.liveView('/photos', Photos)
  const rt = (app as unknown as Record<symbol, Runtime>)[kRuntime]!
  const page = await live(app, '/photos')
  const up = await page.upload('#pick', [{ name: '../../etc/passwd.png', type: 'image/png', content: 'x'.repeat(5000) }, { name: 'b.png', type: 'image/png', content: 'y' }])
  t.same(readdirSync(rt.uploads.dir).sort(), up.entries.map((e) => `${e.ref}.part`).sort(), 'files named by their ref, never by the client')
  await page.click(`#e-${up.entries[1]!.ref} button`)
  await written((rtSessions(rt))[0]!)
  t.same(await listing(rt.uploads.dir, 1), [`${up.entries[0]!.ref}.part`], 'cancel deletes')
  await page.submit('#f')
  t.same(await listing(rt.uploads.dir, 0), [], 'consume deletes')
  await page.upload('#pick', [{ name: 'c.png', type: 'image/png', content: 'z' }])
  const dir = rt.uploads.dir
  await page.close()
  await app.close()
  t.notOk(existsSync(dir), "the app's close removes the folder, retained files included")
})

const rtSessions = (rt: Runtime): Session[] => [...rt.sessions as Set<Session>]

t.test('allowUpload checks its options (FST_LIVEVIEW_VIEW_INVALID)', async (t) => {
  const check = (name: unknown, options: UploadOptions): string => {
    try {
      uploadConfig('Photos', name, options, 65536)
      return 'accepted'
    } catch (err) {
      t.equal((err as { code?: string }).code, 'FST_LIVEVIEW_VIEW_INVALID')
      return (err as Error).message
    }
  }
  t.match(check('a b', {}), /the name must be a word/)
  t.match(check('x', { chunkSize: 70_000 }), /chunkSize must be an integer from 1 to 65462/)
  t.match(check('x', { maxEntries: 0 }), /maxEntries must be an integer/)
  t.match(check('x', { accept: ['png'] }), /accept must list extensions/)
  t.match(check('x', { presign: () => ({ url: 'http://x' }) }), /presign and verify go together/)
  t.equal(check('x', { accept: ['.png', 'image/*'], maxEntries: 2, chunkSize: 65462 }), 'accepted')
})

// --- External uploads: the client sends the file to a signed URL; the view verifies -------

/** A fake object storage on 127.0.0.1: PUT /bucket/:key stores the body, if the signature header is right. */
async function fakeStorage (t: Test): Promise<{ url: string, objects: Map<string, Buffer> }> {
  const objects = new Map<string, Buffer>()
  const storage = Fastify({ logger: false, bodyLimit: 10 * 1024 * 1024 })
  t.teardown(() => storage.close())
  storage.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => { done(null, body) })
  storage.put('/bucket/:key', async (req, reply) => {
    if (req.headers['x-signature'] !== `signed:${(req.params as { key: string }).key}`) return await reply.code(403).send()
    objects.set((req.params as { key: string }).key, req.body as Buffer)
    return await reply.code(200).send()
  })
  return { url: await storage.listen({ host: '127.0.0.1', port: 0 }), objects }
}

t.test('external uploads: presign, the client PUTs to the signed URL, verify confirms; no Readable', async (t) => {
  const { url, objects } = await fakeStorage(t)
  let n = 0
  class Direct extends Photos {
    static events = defineEvents<Direct>({ save: true, validate: true, cancel: true })
    override mount (): void {
      this.allowUpload('photos', {
        accept: ['image/*'],
        maxEntries: 3,
        presign: (entry) => {
          const key = `k${++n}-${entry.clientSize}`
          return { url: `${url}/bucket/${key}`, headers: { 'x-signature': `signed:${key}` }, meta: { key } }
        },
        // The server asks the storage: the object is there, with the declared size.
        verify: (entry, meta) => objects.get((meta as { key: string }).key)?.length === entry.clientSize
      })
    }

    override async save (): Promise<string[]> {
      const done = await this.consumeUploads('photos', (entry) => `${entry.clientName} ${(entry.meta as { key: string }).key} ${String(entry.stream)} ${String(entry.path)}`)
      this.saved.push(...done)
      return done
    }
  }
  const app = Fastify({ logger: false })
  t.teardown(() => app.close())
  await app.register(liveview, { root, layout: false })
  app.liveView('/photos', Direct)
  const { page, session } = await setup(t, { app })
  const data = bytes(70_000)
  const up = await page.upload('#pick', [{ name: 'direct.png', type: 'image/png', content: data }])
  t.same(up.entries.map((e) => [e.ok, e.received]), [[true, 70_000]])
  t.same([...objects.keys()], ['k1-70000'], 'the bytes went to the storage')
  t.equal(sha(objects.get('k1-70000')!), sha(data))
  t.equal(page.all('progress')[0]!.attribs.value, '100')
  // A client that claims completion without sending the file: verify says no.
  const liar = await raw(page, session, [70, 'u', 1, 'photos', [['liar.png', 'image/png', 1000]]])
  const [ref, ok, , target] = (liar.value as UploadGrant).entries[0]!
  t.ok(ok && target?.url.startsWith(`${url}/bucket/`), 'a signed URL for it')
  t.equal((await raw(page, session, [71, 'up', 1, ref, 40])).error, undefined, 'progress reported')
  t.equal(page.all('progress')[1]!.attribs.value, '40')
  await raw(page, session, [72, 'up', 1, ref, 100])
  t.same(page.texts('.entry em'), ['not_verified: The upload could not be confirmed'], 'complete, says the client: verify says no')
  const saved = await page.submit('#f')
  t.same(saved.value, ['direct.png k1-70000 undefined undefined'], 'consumed with its meta, and no stream or path (its bytes never came here)')
})

t.test('the client is told to forget what ends (consumed, cancelled, replaced); late chunks of it are answered quietly', async (t) => {
  const { page, session } = await setup(t)
  const transport = session.transport as TestTransport
  const a = await page.upload('#pick', [{ name: 'a.png', type: 'image/png', content: bytes(1000) }, { name: 'bad.txt', type: 'text/plain', content: 'x' }])
  const [ok, bad] = a.entries.map((e) => e.ref)
  // A new pick clears the refused file of the last one.
  const b = await page.upload('#pick', [{ name: 'b.png', type: 'image/png', content: bytes(50_000) }], { bytes: 20_000 })
  t.same(page.texts('.name'), ['a.png', 'b.png'])
  t.equal(transport.acks.get(bad!), -1)
  await page.submit('#f')
  t.equal(transport.acks.get(ok!), -1, 'consumed: forget it')
  const n = page.updates.length
  // b is still under way; a's late chunk (already sent when it was consumed) gets no error.
  session.receiveBinary(encodeChunk(ok!, 1000, bytes(10)))
  t.same(errorsSince(page, n), [], 'quietly')
  await page.click(`#e-${b.entries[0]!.ref} button`)
  t.equal(transport.acks.get(b.entries[0]!.ref), -1, 'cancelled: stop sending it')
})

// --- Components declare uploads of their own ---------------------------------------------

t.test("a component's uploads: its own entries, consumed by its own handler, gone with it", async (t) => {
  const app = Fastify({ logger: false })
  t.teardown(() => app.close())
  await app.register(liveview, { root, layout: false })
  app.liveView('/cards', Cards)
  const rt = (app as unknown as Record<symbol, Runtime>)[kRuntime]!
  const page = await live(app, '/cards')
  t.teardown(() => page.close())
  const up = await page.upload('#card-1 input', [{ name: 'one.pdf', type: 'application/pdf', content: bytes(50_000) }])
  t.same(up.entries.map((e) => [e.ok, e.received]), [[true, 50_000]])
  t.same(page.texts('#card-1 .entry'), ['one.pdf 100%'], 'the progress shows in its card')
  t.same(page.texts('#card-2 .entry'), [], 'and not in the other')
  await page.upload('#card-2 input', [{ name: 'two.pdf', type: 'application/pdf', content: bytes(10_000) }])
  await page.submit('#card-1')
  t.same(page.texts('#card-1 .saved'), ['one.pdf 50000'])
  t.same(page.texts('#card-2 .entry'), ['two.pdf 100%'], "the other card's upload is its own")
  const big = await page.upload('#card-1 input', [{ name: 'big.pdf', type: 'application/pdf', content: bytes(100_001) }])
  t.same(big.entries.map((e) => e.ok), [false], "the component's maxFileSize")
  t.equal((await listing(rt.uploads.dir, 1)).length, 1, "card 2's file (card 1's was consumed)")
  await page.event('drop')
  // The file goes once its writes are done (a busy machine may take longer than a moment).
  const left = await listing(rt.uploads.dir, 0)
  t.same(page.texts('.card .saved'), ['one.pdf 50000'], 'card 1 stays')
  t.same(left, [], "card 2 left the page: its upload's data went with it")
  t.equal(rt.uploads.held, 0)
})

t.test("a failed entry's bytes are given back once, whatever ends after", async (t) => {
  const { app, page, rt } = await setup(t, { limits: { uploadBytesPerServer: 400_000 } })
  await page.upload('#pick', [{ name: 'v.png', type: 'image/png', content: bytes(250_000) }])
  t.equal(rt.uploads.held, 250_000)
  for (let i = 0; i < 3; i++) {
    const other = await setup(t, { app, user: 'eve' })
    const g = await raw(other.page, other.session, [5, 'u', 1, 'photos', [['a.png', 'image/png', 100_000]]])
    other.session.receiveBinary(encodeChunk((g.value as UploadGrant).entries[0]![0], 7, bytes(10)))
    await written(other.session)
    await other.page.close()
    await new Promise((resolve) => setTimeout(resolve, 20))
    t.equal(rt.uploads.held, 250_000, `round ${i}: the failed entry gave its bytes back, once`)
  }
})

/**
 * An app whose `save` consumes the photos one at a time, each callback waiting for
 * `release()` before it reads its file (recorded in `read` as `name bytes`).
 */
async function heldConsume (t: Test, limits: LiveViewLimits = {}): Promise<{ rt: Runtime, page: LivePage, session: Session, read: string[], release: () => void }> {
  let release: () => void = () => {}
  const hold = new Promise<void>((resolve) => { release = resolve })
  const read: string[] = []
  class Held extends Photos {
    static events = defineEvents<Held>({ save: true, validate: true, cancel: true })
    override async save (): Promise<string[]> {
      return await this.consumeUploads('photos', async (entry) => {
        await hold
        let n = 0
        for await (const chunk of entry.stream!) n += (chunk as Buffer).length
        read.push(`${entry.clientName} ${n}`)
        return `${n}`
      })
    }
  }
  const app = Fastify({ logger: false })
  t.teardown(() => app.close())
  await app.register(liveview, { root, layout: false, limits })
  app.liveView('/photos', Held)
  const rt = (app as unknown as Record<symbol, Runtime>)[kRuntime]!
  const { page, session } = await setup(t, { app })
  return { rt, page, session, read, release }
}

/** Submits (the held `save` starts), drops the socket while its callback waits, then lets it go on; returns once all settled. */
async function dropWhileConsuming (session: Session, release: () => void): Promise<void> {
  session.receive(JSON.stringify([60, 'e', 1, 'save', {}]))
  await new Promise((resolve) => setTimeout(resolve, 10))
  void session.close('closed')
  await new Promise((resolve) => setTimeout(resolve, 10))
  release()
  await session.idle()
  await new Promise((resolve) => setTimeout(resolve, 20))
}

t.test('the session ending while consumeUploads runs: the callback reads the whole file, which is neither retained nor resumed', async (t) => {
  const { rt, page, session, read, release } = await heldConsume(t)
  await page.upload('#pick', [{ name: 'a.png', type: 'image/png', content: bytes(5000) }])
  // The socket drops while the callback waits.
  await dropWhileConsuming(session, release)
  t.same(read, ['a.png 5000'], 'the callback read the whole file')
  t.equal(rt.uploads.retained, 0, 'a consumed file is not kept for a resume')
  t.equal(rt.uploads.held, 0)
  t.same(await listing(rt.uploads.dir, 0), [])
})

t.test('a write that fails (the temporary folder is gone) fails its entry; nothing crashes', async (t) => {
  const { page, session, rt } = await setup(t)
  const g = await raw(page, session, [5, 'u', 1, 'photos', [['a.png', 'image/png', 20_000]]])
  const ref = (g.value as UploadGrant).entries[0]![0]
  rmSync(rt.uploads.dir, { recursive: true, force: true })
  session.receiveBinary(encodeChunk(ref, 0, bytes(10_000)))
  await written(session)
  await page.settle()
  t.match(page.text(`#e-${ref} em`), /^failed: /)
  t.equal((session.transport as TestTransport).acks.get(ref), -1, 'the client is told to stop')
  t.equal(rt.uploads.held, 0)
})

t.test('the session ending while the first of two files is consumed: the second is neither read nor lost (it waits for a resume); the counts return to 0', async (t) => {
  // Retained 600 ms: room for the consume's read before the check on a loaded machine.
  const { rt, page, session, read, release } = await heldConsume(t, { uploadRetainMs: 600 })
  await page.upload('#pick', [{ name: 'a.png', type: 'image/png', content: bytes(5000) }, { name: 'b.png', type: 'image/png', content: bytes(3000) }])
  await dropWhileConsuming(session, release)
  t.same(read, ['a.png 5000'], 'the file under way was read; the next one was not handed over')
  t.equal(rt.uploads.retained, 1, 'the second waits for a resume')
  t.equal(rt.uploads.held, 3000)
  t.same(await listing(rt.uploads.dir, 0), [], 'once uploadRetainMs is over, no data is left')
  t.equal(rt.uploads.held, 0)
})

t.test('a file retained with writes still queued counts what was written, not what was taken', async (t) => {
  const { app, page, session, rt } = await setup(t, { limits: { uploadBytesPerServer: 120_000 } })
  const g = await raw(page, session, [5, 'u', 1, 'photos', [['a.png', 'image/png', 100_000]]])
  const ref = (g.value as UploadGrant).entries[0]![0]
  for (let i = 0; i < 5; i++) session.receiveBinary(encodeChunk(ref, i * 10_000, bytes(10_000)))
  void session.close('closed')
  await new Promise((resolve) => setTimeout(resolve, 30))
  t.equal(rt.uploads.retained, 1)
  const again = await setup(t, { app })
  const r = await raw(again.page, again.session, [6, 'u', 1, 'photos', [['a.png', 'image/png', 100_000, ref]]])
  const [, ok, received] = (r.value as UploadGrant).entries[0]!
  t.equal(ok, true, 'the resume fits the budget')
  t.equal(rt.uploads.held, received, 'the server counts the bytes the file holds')
})

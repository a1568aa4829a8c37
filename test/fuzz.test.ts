// A seeded fuzz of the client → server wire protocol (lib/frames.ts decodeClient, Session.receive).
// Reproduce a failure with its seed: FUZZ_SEED=<seed> npx tap --disable-coverage test/fuzz.test.ts
// Properties: every frame gets exactly one reply (ref-less frames one ref-0 "err"), a refused
// frame changes nothing, and the session stays open and answers to the end.
import { PROTOCOL_VERSION } from '../lib/protocol.js'
import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { kRuntime, type Runtime } from '../lib/runtime.js'
import type { Session } from '../lib/session/actor.js'
import { Counter } from './fixtures/views.js'
import { buildApp, connect, serverHtml, type Frame } from './helpers.js'

const SEED = Number(process.env.FUZZ_SEED ?? 0x5eed1e55)
const N = Number(process.env.FUZZ_N ?? 3000)
const BATCH = 50
const CHECK_EVERY = 250

/** mulberry32: a tiny deterministic PRNG. */
function mulberry32 (seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let x = Math.imul(a ^ (a >>> 15), 1 | a)
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296
  }
}

/** One frame sent: `ref` 0 when the server cannot read a ref in it (it answers with ref 0). */
interface Sent { data: string | Buffer, ref: number, expect: 'ok' | 'err', delta?: number, inc?: true }

const J = JSON.stringify
/** `n` levels of nesting (`{}` is 1), objects and arrays mixed, an object outside. */
const nested = (n: number): string => n > 40
  ? '{"a":'.repeat(n - 1) + '{}' + '}'.repeat(n - 1)
  : J(Array.from({ length: n - 1 }).reduce<unknown>((v, _, i) => (i + 2 === n || i % 2 === 0) ? { a: v } : [v], {}))
const HUGE = 'x'.repeat(60000)
const UNKNOWN = ['__proto__', 'constructor', 'toString', 'valueOf', 'hasOwnProperty', 'mount', 'context', 'handleInfo',
  'render', 'terminate', 'pushPatch', 'dec', 'INC', 'inc ', '', 'a'.repeat(5000)]
const GOOD_URLS = ['http://localhost/counter?x=1', '/counter?start=9', '?y=2', '/counter', 'http://LOCALHOST:80/counter#h',
  '/counter?__proto__=a&constructor=b']
const BAD_URLS = ['javascript:alert(1)', ' javascript:alert(1)', 'java\tscript:alert(1)', '//evil', '/\\evil', '\\\\evil',
  'http://evil/counter', 'https://localhost/counter', 'http://localhost:8080/counter', 'data:text/html,<b>x</b>',
  'ftp://localhost/counter', '/' + 'a'.repeat(2000), 'http://[', 'http://localhost:99999/', '/nope']
const BAD_REFS = ['0', '-0', '-1', '1.5', '"7"', '9007199254740992', '1e300', 'null', 'true', '[1]', '{}']
const NOT_FRAMES = ['not json', '', '[1,', '{"0":1,"1":"sync"}', '42', 'null', '"x"', 'true', '[]', '[5]']

/** The frame generator: (ref, mount, token) → a frame and what the server must make of it. */
function generator (rnd: () => number): (ref: number, mount: number, token: string) => Sent {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T
  const int = (lo: number, hi: number): number => lo + Math.floor(rnd() * (hi - lo + 1))
  type Case = (ref: number, mount: number, token: string) => Sent
  const inc: Case = (ref, m) => ({ data: J([ref, 'e', m, 'inc', {}]), ref, expect: 'ok', delta: 1, inc: true })
  const add: Case = (ref, m) => { const by = int(1, 5); return { data: J([ref, 'e', m, 'add', { by }]), ref, expect: 'ok', delta: by } }
  const cases: Case[] = [
    inc, inc, inc, inc, add, add, add,
    (ref, m) => { const by = int(1, 5); return { data: `[${ref},"e",${m},"add",{"by":${by},"__proto__":{"by":100},"constructor":{"prototype":{"by":7}}}]`, ref, expect: 'ok', delta: by } },
    // inc is declared `true`: strings and lists of strings run it; anything else is refused (PARAMS_INVALID) and changes nothing.
    (ref, m) => ({ data: `[${ref},"e",${m},"inc",${pick([J({ s: HUGE.slice(0, int(1, 60000)) }), J({ a: ['x', 'y'], toString: 'z', __proto__: 's' })])}]`, ref, expect: 'ok', delta: 1, inc: true }),
    (ref, m) => ({ data: `[${ref},"e",${m},"inc",${pick([nested(int(2, 31)), nested(32),
      '{"__proto__":{"count":1000000},"constructor":{"name":"x"}}', J({ toString: 1, valueOf: 2, a: [1, null, 's', {}] })])}]`,
    ref, expect: 'err' }),
    (ref, m) => ({ data: J([ref, 'e', m, 'inc']), ref, expect: 'ok', delta: 1, inc: true }),
    (ref, m) => ({ data: `[${ref},"e",${m},"inc",${nested(pick([33, 34, int(35, 200), int(1000, 5000)]))}]`, ref, expect: 'err' }),
    (ref, m) => ({ data: J([ref, 'e', m, pick(['inc', 'add']), pick([[], [1, 2], null, 0, 42, 's', true])]), ref, expect: 'err' }),
    (ref, m) => ({ data: J([ref, 'e', m, 'add', pick([{}, { by: 0 }, { by: -1 }, { by: 1.5 }, { by: 'x' }, { by: null }, { by: {} }, { by: [] }, { by: false }, { by: [0] }])]), ref, expect: 'err' }),
    (ref, m) => ({ data: J([ref, 'e', pick([m + 1, m - 1, 0, -m, m + 1e6, 1.5, '1', null]), pick(['inc', 'add']), { by: 1 }]), ref, expect: 'err' }),
    (ref, m) => ({ data: J([ref, 'e', m, pick(UNKNOWN), { by: 1 }]), ref, expect: 'err' }),
    (ref, m) => ({ data: J([ref, 'e', m, pick([1, null, {}, ['inc']]), {}]), ref, expect: 'err' }),
    (ref, m) => ({ data: J([ref, 'e', m, pick(['boom', 'badContext']), {}]), ref, expect: 'err' }),
    (ref, m) => ({ data: pick([J([ref, 'e', m]), J([ref, 'e']), J([ref, 'e', m, 'inc', {}, 'extra'])]), ref, expect: 'err' }),
    (ref) => ({ data: J(pick([[ref, 'sync'], [ref, 'sync', 'extra', 1]])), ref, expect: 'ok' }),
    (ref) => ({ data: pick([`[${ref}.0,"sync"]`, `[${ref}e0,"sync"]`, ` [ ${ref} ,\n"sync" ] `]), ref, expect: 'ok' }),
    (ref) => ({ data: J([ref, 'patch', pick(GOOD_URLS)]), ref, expect: 'ok' }),
    (ref) => ({ data: J([ref, 'patch', pick(BAD_URLS)]), ref, expect: 'err' }),
    (ref) => ({ data: pick([J([ref, 'patch']), J([ref, 'patch', 1]), J([ref, 'patch', null]), J([ref, 'patch', '/counter?' + 'x'.repeat(8200)])]), ref, expect: 'err' }),
    (ref, _m, token) => ({ data: J(pick([[ref, 'join', { v: PROTOCOL_VERSION, token, url: 'http://localhost/counter', pristine: true }], [ref, 'join', null], [ref, 'join', { url: 5 }]])), ref, expect: 'err' }),
    (ref) => ({ data: J([ref, pick(['E', 'leave', 'mount', 'ok', 'SYNC', '__proto__', null, 5, {}])]), ref, expect: 'err' }),
    (_ref, m) => ({ data: `[${pick(BAD_REFS)},"e",${m},"inc",{}]`, ref: 0, expect: 'err' }),
    () => ({ data: pick(NOT_FRAMES), ref: 0, expect: 'err' }),
    (_ref, m) => ({ data: Buffer.from(J([1, 'e', m, 'inc', {}])), ref: 0, expect: 'err' })
  ]
  return (ref, mount, token) => {
    const sent = pick(cases)(ref, mount, token)
    if (sent.data.length >= 65536) throw new Error('fuzz frame over the frame limit')
    return sent
  }
}

/** The count the server last rendered, and the view's own state. */
function live (app: FastifyInstance): { html: number, view: number, history: number } {
  const m = /id="count">(-?\d+)</.exec(serverHtml(app))
  const rt = (app as unknown as Record<symbol, Runtime>)[kRuntime]!
  const view = [...rt.sessions as Set<Session>].find((s) => s.joined)?.view as Counter | undefined
  return { html: m === null ? NaN : Number(m[1]), view: view?.count ?? NaN, history: view?.history.length ?? -1 }
}

const show = (s: Sent): string => (typeof s.data === 'string' ? J(s.data.length > 160 ? s.data.slice(0, 160) + '…' : s.data) : `binary ${s.data.toString()}`)
const replied = (f: Frame): boolean => f[0] !== 0 || f[1] === 'err'

t.test(`wire protocol fuzz (seed ${SEED}, ${N} frames): one reply per frame, refusals change nothing, the session lives`, async (t) => {
  const app = await buildApp(t, { limits: { eventsPerSecond: 1e9, eventBurst: 1e9, mailbox: 100000 } }, (app) => { app.liveView('/counter', Counter) })
  const { client, html } = await connect(t, app, '/counter')
  const token = /data-lv-token="([^"]+)"/.exec(html)![1]!
  const mount = client.mount
  let closed: string | undefined
  let wake = (): void => {}
  client.ws.on('message', () => { wake() })
  void client.closed.then(({ code, reason }) => { closed = `${code} ${reason}`; wake() })

  const gen = generator(mulberry32(SEED))
  const rnd = mulberry32(SEED ^ 0xa5a5a5a5)
  const problems: string[] = []
  let big = 0
  let seen = client.frames.length
  let count = 0
  let incs = 0
  let sentTotal = 0
  let lastBatch: Sent[] = []
  const context = (): string => `seed ${SEED}, after ${sentTotal} frames; last batch:\n  ${lastBatch.map(show).join('\n  ')}`

  /** Waits until `n` replies (frames that answer a frame) came since `seen`. */
  async function replies (n: number): Promise<Frame[]> {
    for (const deadline = Date.now() + 5000; ;) {
      if (closed !== undefined) throw new Error(`socket closed (${closed}); ${context()}`)
      const got = client.frames.slice(seen)
      if (got.filter(replied).length >= n) { seen = client.frames.length; return got }
      if (Date.now() > deadline) throw new Error(`${got.filter(replied).length} of ${n} replies in 5 s; ${context()}`)
      await new Promise<void>((resolve) => { const timer = setTimeout(resolve, 50); wake = () => { clearTimeout(timer); resolve() } })
    }
  }

  function check (where: string): void {
    const now = live(app)
    if (now.html !== count || now.view !== count || now.history !== incs) {
      problems.push(`${where}: model count ${count} (${incs} incs), server renders ${now.html}, view has ${now.view} (${now.history} incs); ${context()}`)
    }
  }

  /** The last reply and the frame it answers: a url frame may follow it in the next round. */
  let prev: { f: Frame, s?: Sent } | undefined
  /** Sends a batch, waits for its replies and checks them; returns the replies by ref. */
  async function round (batch: Sent[]): Promise<Map<number, Frame[]>> {
    lastBatch = batch
    for (const s of batch) client.ws.send(s.data)
    sentTotal += batch.length
    const got = await replies(batch.length)
    const byRef = new Map(batch.filter((s) => s.ref > 0).map((s) => [s.ref, s]))
    const answers = new Map<number, Frame[]>()
    let refless = 0
    for (const f of got) {
      if (f[0] === 0 && f[1] !== 'err') {
        // Server-initiated (url, title): only right after the successful reply to a patch.
        const url = f[1] === 'url' ? String(f[2]) : 'http://localhost/'
        if (!['url', 'title'].includes(String(f[1])) || prev === undefined || prev.f[1] === 'err' || !/"patch"/.test(String(prev.s?.data)) || !url.startsWith('http://localhost/')) {
          problems.push(`unexpected server frame ${J(f)} after ${J(prev?.f)}; ${context()}`)
        }
        continue
      }
      prev = { f }
      if (f[0] === 0) { refless++; continue }
      const s = byRef.get(f[0])
      if (s === undefined) { problems.push(`reply to a ref not in this batch: ${J(f).slice(0, 300)}; ${context()}`); continue }
      prev.s = s
      answers.set(f[0], [...(answers.get(f[0]) ?? []), f])
      const isErr = f[1] === 'err'
      if ((s.expect === 'err') !== isErr) problems.push(`expected ${s.expect} for ${show(s)}, got ${J(f).slice(0, 300)}; ${context()}`)
      if (!isErr && s.delta !== undefined) { count += s.delta; if (s.inc === true) incs++ }
    }
    for (const s of byRef.values()) {
      const n = answers.get(s.ref)?.length ?? 0
      if (n !== 1) problems.push(`${n} replies to ${show(s)}; ${context()}`)
    }
    const expectedRefless = batch.filter((s) => s.ref === 0).length
    if (refless !== expectedRefless) problems.push(`${refless} ref-0 errors for ${expectedRefless} frames without a valid ref; ${context()}`)
    return answers
  }

  for (let b = 0; b * BATCH < N && problems.length === 0; b++) {
    const batch: Sent[] = []
    for (let i = 0; i < BATCH; i++) {
      // Now and then a huge (still safe) ref: refs stay distinct.
      batch.push(gen(rnd() < 0.05 ? Number.MAX_SAFE_INTEGER - big++ : client.nextRef(), mount, token))
    }
    await round(batch)
    if ((b + 1) * BATCH % CHECK_EVERY === 0) check(`after batch ${b}`)
  }
  check('at the end')

  const ref = client.nextRef()
  const final = (await round([{ data: J([ref, 'e', mount, 'inc', {}]), ref, expect: 'ok', delta: 1, inc: true }])).get(ref)
  t.match(final, [[ref, /^(p|h|ok)$/]], 'the session still answers a valid event')
  check('after a final inc')
  await new Promise((resolve) => setTimeout(resolve, 50))
  if (client.frames.length > seen) problems.push(`frames after the last reply: ${J(client.frames.slice(seen)).slice(0, 500)}; seed ${SEED}`)
  t.equal(closed, undefined, 'the socket is still open')
  t.same(problems.slice(0, 10), [], `no property broke (seed ${SEED}, ${sentTotal} frames, final count ${count})`)
})

// stream_feed (issue 14), in a process of its own (run with --expose-gc): 20 sessions that
// each streamed 20,000 rows in pages of 50 (no limit) hold at most 8 KiB of heap per session
// more than 20 idle sessions of the same view (after gc(), same run), and one page of 50
// costs at most 200 µs of server time (from the event's frame until the stream frame).
// Both groups are measured once idle long enough to hibernate (as the memory section's).
// Prints one JSON line.
import { randomBytes } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import Fastify, { type FastifyRequest } from 'fastify'
import liveview, { LiveView, defineEvents } from '../plugin.js'
import { clearEscapeMemo } from '../lib/escape.js'
import { PROTOCOL_VERSION } from '../lib/protocol.js'
import { Session, type Transport } from '../lib/session/actor.js'
import { percentile, round } from './report.js'
import { runtimeOf } from './scenarios.js'

const SESSIONS = Number(process.env.STREAM_SESSIONS ?? 20)
const ROWS = Number(process.env.STREAM_ROWS ?? 20_000)
const PAGE = 50
const STATUSES = ['open', 'paid', 'shipped', 'late']

class StreamFeed extends LiveView {
  static template = 'stream_feed'
  static streams = { rows: 'stream_row' }
  static events = defineEvents<StreamFeed>({ page: true })
  next = 1
  page (): void {
    const rows = []
    for (let i = 0; i < PAGE; i++, this.next++) rows.push({ id: this.next, name: `Customer ${this.next}`, qty: this.next % 17, status: STATUSES[this.next % 4]! })
    this.stream('rows', rows)
  }

  context () { return {} }
}

/** Frames go nowhere (as a client that reads them); `onFrame` sees them. */
class Sink implements Transport {
  onFrame: (frame: string) => void = () => {}
  send (frame: string): void { this.onFrame(frame) }
  backlog (): number { return 0 }
  close (): void {}
}

const HIBERNATE_MS = 500
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))
const gc = (): void => { for (let i = 0; i < 3; i++) (globalThis as { gc?: () => void }).gc!() }
/** Heap after the sessions had time to hibernate (as idle sessions do), and gc(). */
const heap = async (): Promise<number> => {
  await sleep(HIBERNATE_MS * 2.5)
  // The escape memo is process-wide and bounded (≤ 4,096 short strings): its fill level at the
  // moment of measuring is not a session's, so it is emptied before each measurement.
  clearEscapeMemo()
  gc()
  return process.memoryUsage().heapUsed
}

const app = Fastify({ logger: false })
await app.register(liveview, {
  root: fileURLToPath(new URL('../../bench/views/', import.meta.url)),
  secret: randomBytes(32).toString('base64url'),
  production: true,
  // As the memory section: idle sessions hibernate within two periods of 500 ms.
  limits: { eventsPerSecond: 1e9, eventBurst: 1e9, hibernateAfterMs: HIBERNATE_MS }
})
app.liveView('/stream-feed', StreamFeed)
await app.ready()
const rt = runtimeOf(app)
const token = /data-lv-token="([^"]+)"/.exec((await app.inject('/stream-feed')).body)![1]!
const request = { id: 'bench', log: app.log, headers: {} } as unknown as FastifyRequest

async function open (): Promise<{ session: Session, sink: Sink }> {
  const sink = new Sink()
  const session = new Session(rt, sink, request)
  await new Promise<void>((resolve) => {
    sink.onFrame = () => { resolve() }
    session.receive(JSON.stringify([1, 'join', { v: PROTOCOL_VERSION, token, url: 'http://localhost/stream-feed', pristine: true }]))
  })
  sink.onFrame = () => {}
  return { session, sink }
}

let ref = 1
/** One page event: µs from the frame in until its stream frame is out. */
function page (s: { session: Session, sink: Sink }): Promise<number> {
  return new Promise((resolve) => {
    let start = 0n
    s.sink.onFrame = (frame) => { if (frame.startsWith('[0,"st"')) resolve(Number(process.hrtime.bigint() - start) / 1000) }
    start = process.hrtime.bigint()
    s.session.receive(`[${++ref},"e",1,"page",{}]`)
  })
}

// Warm-up: one session streams as many rows (the code optimised, the escape memo in its steady state), then ends.
const warm = await open()
for (let i = 0; i < ROWS / PAGE; i++) await page(warm)
await warm.session.close()

// What a group of sessions holds is measured as what closing them frees (after gc()): the
// process-wide state that streaming warmed up (compiled code, caches) is not theirs.
const idle: Array<{ session: Session, sink: Sink }> = []
for (let i = 0; i < SESSIONS; i++) idle.push(await open())
const streamers: Array<{ session: Session, sink: Sink }> = []
const times: number[] = []
for (let i = 0; i < SESSIONS; i++) {
  const s = await open()
  streamers.push(s)
  for (let p = 0; p < ROWS / PAGE; p++) times.push(await page(s))
}
const h0 = await heap()
for (const s of streamers.splice(0)) await s.session.close()
const h1 = await heap()
for (const s of idle.splice(0)) await s.session.close()
const h2 = await heap()
const streamedKib = (h0 - h1) / SESSIONS / 1024
const idleKib = (h1 - h2) / SESSIONS / 1024
times.sort((a, b) => a - b)
process.stdout.write(JSON.stringify({
  sessions: SESSIONS,
  rows_per_session: ROWS,
  page_rows: PAGE,
  idle_session_kib: round(idleKib, 2),
  streamed_session_kib: round(streamedKib, 2),
  streamed_over_idle_kib: round(streamedKib - idleKib, 2),
  page_us_p50: round(percentile(times, 0.5), 1),
  page_us_p99: round(percentile(times, 0.99), 1),
  pages: times.length
}) + '\n')
await app.close()

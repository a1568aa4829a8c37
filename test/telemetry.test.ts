// Telemetry (lib/telemetry.ts): tracing channels around mount, handleParams, events, server
// messages, renders, diffs and sends, with the view, the event, the session, bytes and µs.
import t from 'tap'
import { tracingChannel } from 'node:diagnostics_channel'
import { LiveView, defineEvents, type Params } from '../plugin.js'
import { TRACE_KINDS, type TraceContext } from '../lib/telemetry.js'
import { buildApp, connect } from './helpers.js'

class Counter extends LiveView {
  static template = 'counter'
  static events = defineEvents<Counter>({ inc: true, add: true, boom: true })
  count = 0
  mount (params: Params): void { this.count = Number(params.start ?? 0) }
  handleParams (): void {}
  inc (): void { this.count++ }
  add (): void { this.count += 5 }
  boom (): void { throw new Error('boom') }
  handleInfo (): void { this.count += 10 }
  context (): object { return { count: this.count } }
}

type Seen = Array<[kind: string, phase: string, ctx: TraceContext]>

/** Subscribes to every channel; returns what they published and what unsubscribes. */
function listen (): { seen: Seen, stop: () => void } {
  const seen: Seen = []
  const subs = TRACE_KINDS.map((kind) => {
    const handlers = Object.fromEntries(['start', 'end', 'asyncStart', 'asyncEnd', 'error'].map((phase) => [phase, (ctx: unknown) => { seen.push([kind, phase, { ...(ctx as TraceContext) }]) }]))
    const ch = tracingChannel(`fastify-liveview:${kind}`)
    ch.subscribe(handlers as never)
    return () => { ch.unsubscribe(handlers as never) }
  })
  return { seen, stop: () => { for (const s of subs) s() } }
}

t.test('each channel publishes with the view, the event, the session, bytes and µs', async (t) => {
  const { seen, stop } = listen()
  t.teardown(stop)
  const app = await buildApp(t, {}, (app) => { app.liveView('/c', Counter) })
  const { client } = await connect(t, app, '/c')
  const ends = (kind: string): TraceContext[] => seen.filter(([k, p]) => k === kind && (p === 'end' || p === 'asyncEnd')).map(([, , c]) => c)
  t.ok(ends('mount').some((c) => c.view === 'Counter' && c.sessionId.length > 0 && typeof c.us === 'number'), 'mount (HTTP render and join)')
  t.ok(ends('handleParams').length >= 2, 'handleParams')
  t.ok(ends('render').some((c) => c.view === 'Counter' && (c.bytes ?? 0) > 0), 'render, with the bytes rendered')
  seen.length = 0
  await client.event('inc')
  const [event] = ends('event')
  t.match(event, { view: 'Counter', event: 'inc', sessionId: String }, 'the event')
  t.ok(typeof event?.us === 'number' && event.us >= 0)
  const [diff] = ends('diff')
  t.ok(diff !== undefined && (diff.bytes ?? 0) > 0, 'the diff, with the frame it made')
  t.ok(ends('send').some((c) => c.bytes === diff?.bytes && c.view === 'Counter'), 'the send of that frame')
  seen.length = 0
  const failed = await client.event('boom')
  t.equal(failed[1], 'err')
  t.ok(seen.some(([k, p, c]) => k === 'event' && p === 'error' && c.event === 'boom' && (c.error as Error).message === 'boom'), 'a failing handler: error')
  seen.length = 0
  await app.liveViewBroadcast('nobody', {})
  const { kRuntime } = await import('../lib/runtime.js')
  for (const s of (app as unknown as Record<symbol, { sessions: Set<{ info: (m: unknown) => boolean }> }>)[kRuntime]!.sessions) s.info({})
  await client.waitFor((f) => f[0] === 0 && f[1] === 'p')
  t.ok(ends('info').some((c) => c.view === 'Counter'), 'a server message: info')
})

t.test('nobody subscribed: nothing is published', async (t) => {
  const app = await buildApp(t, {}, (app) => { app.liveView('/c', Counter) })
  const { client } = await connect(t, app, '/c')
  t.notOk(TRACE_KINDS.some((k) => tracingChannel(`fastify-liveview:${k}`).hasSubscribers), 'no subscribers')
  const reply = await client.event('inc')
  t.equal(reply[1], 'p', 'the event runs as usual')
})

t.test('app.liveViewStats(): sessions, mailboxes, bytes out, render µs, PubSub backlog', async (t) => {
  const app = await buildApp(t, {}, (app) => { app.liveView('/c', Counter) })
  const before = app.liveViewStats()
  t.same(before.mailbox, { total: 0, max: 0 })
  t.equal(before.pubsubPending, 0, 'in memory: none')
  const { client } = await connect(t, app, '/c')
  await client.event('inc')
  const after = app.liveViewStats()
  t.equal(after.sessions, 1)
  t.ok(after.bytesOut > before.bytesOut, `bytes out counted (${after.bytesOut})`)
  t.ok(after.renderUs.count >= 3 && after.renderUs.count > before.renderUs.count, 'renders counted (HTTP render, join, the event)')
  t.ok(after.renderUs.p50 > 0 && after.renderUs.p50 <= after.renderUs.p90 && after.renderUs.p90 <= after.renderUs.p99 && after.renderUs.p99 <= after.renderUs.max, 'percentiles in order')
  client.close()
})

t.test('the OpenTelemetry example turns them into spans (the SDK, in memory)', async (t) => {
  const { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } = await import('@opentelemetry/sdk-trace-base')
  const { traceLiveView } = await import('../examples/otel/tracing.js')
  const exporter = new InMemorySpanExporter()
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] })
  const stop = traceLiveView(provider.getTracer('test'))
  t.teardown(async () => { stop(); await provider.shutdown() })
  const app = await buildApp(t, {}, (app) => { app.liveView('/c', Counter) })
  const { client } = await connect(t, app, '/c')
  exporter.reset()
  await client.event('inc')
  await client.event('boom')
  const spans = exporter.getFinishedSpans()
  const names = spans.map((s) => s.name)
  t.ok(names.includes('liveview.event inc') && names.includes('liveview.render') && names.includes('liveview.diff') && names.includes('liveview.send'), names.join(', '))
  const inc = spans.find((s) => s.name === 'liveview.event inc')!
  t.equal(inc.attributes['liveview.view'], 'Counter')
  t.type(inc.attributes['liveview.us'], 'number')
  const boom = spans.find((s) => s.name === 'liveview.event boom')!
  t.equal(boom.status.code, 2, 'a failing handler: an error span')
  t.equal(boom.events[0]?.name, 'exception')
})

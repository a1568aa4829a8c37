// An OpenTelemetry bridge for fastify-liveview's tracing channels: each mount, handleParams,
// event, server message, render, diff and send becomes a span of the tracer you pass (your
// SDK's exporter sends them on). Copy it into your app; `@opentelemetry/api` is yours to
// install. test/telemetry.test.ts runs it with the SDK's in-memory exporter.
import { tracingChannel } from 'node:diagnostics_channel'
import { SpanStatusCode, type Span, type Tracer } from '@opentelemetry/api'
import { TRACE_KINDS, type TraceContext } from '../../plugin.js'

/** Starts turning the channels into spans (`liveview.event save`, …); returns what stops it. */
export function traceLiveView (tracer: Tracer): () => void {
  const spans = new WeakMap<object, Span>()
  const stops = TRACE_KINDS.map((kind) => {
    const end = (ctx: TraceContext): void => {
      const span = spans.get(ctx)
      if (span === undefined) return
      if (ctx.us !== undefined) span.setAttribute('liveview.us', ctx.us)
      if (ctx.bytes !== undefined) span.setAttribute('liveview.bytes', ctx.bytes)
      span.end()
      spans.delete(ctx)
    }
    const handlers = {
      start: (ctx: TraceContext) => {
        const span = tracer.startSpan(`liveview.${kind}${ctx.event === undefined ? '' : ` ${ctx.event}`}`, {
          attributes: { 'liveview.view': ctx.view, 'liveview.session': ctx.sessionId, ...(ctx.component === undefined ? {} : { 'liveview.component': ctx.component }) }
        })
        spans.set(ctx, span)
      },
      // A traced call that returned a promise ends with asyncEnd; one that did not, with end.
      end: (ctx: TraceContext) => { if (ctx.async !== true) end(ctx) },
      asyncStart: () => {},
      asyncEnd: end,
      error: (ctx: TraceContext) => {
        const span = spans.get(ctx)
        span?.recordException(ctx.error as Error)
        span?.setStatus({ code: SpanStatusCode.ERROR, message: String((ctx.error as Error)?.message ?? ctx.error) })
      }
    }
    const ch = tracingChannel<TraceContext>(`fastify-liveview:${kind}`)
    ch.subscribe(handlers as never)
    return () => { ch.unsubscribe(handlers as never) }
  })
  return () => { for (const stop of stops) stop() }
}

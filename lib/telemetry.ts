import { tracingChannel, type TracingChannel } from 'node:diagnostics_channel'

// Telemetry: `node:diagnostics_channel` tracing channels around what a session does. Each
// publishes `start`, `end` (and `asyncStart`/`asyncEnd` for work that returns a promise) and
// `error` with one context object per call (see `TraceContext`); a subscriber reads the
// view, the event, the session id, the bytes, and `us` (the time it took) once it ended.
// Nobody subscribed: one `hasSubscribers` check per call, nothing else.

/** The channels, by what they trace. Names: `fastify-liveview:<kind>` (`fastify-liveview:event`). */
export const TRACE_KINDS = ['mount', 'handleParams', 'event', 'info', 'render', 'diff', 'send'] as const
export type TraceKind = typeof TRACE_KINDS[number]

/** What a channel's messages carry (the same object from start to end). */
export interface TraceContext {
  /** The view's class name (a component's event: `View` with `component` set). */
  view: string
  /** The event's name (`event`), or the component class whose event it is. */
  event?: string
  component?: string
  sessionId: string
  /** Bytes rendered (`render`), sent (`diff`: the update's frame; `send`: the frame). */
  bytes?: number
  /** Microseconds from start to end (set when it ends). */
  us?: number
  /** What the traced call returned, once it did (its promise's value), or what it threw. */
  result?: unknown
  error?: unknown
  /** The call returned a promise: it ends with `asyncEnd` (`end` only says it returned). */
  async?: boolean
}

const channels = Object.fromEntries(TRACE_KINDS.map((k) => [k, tracingChannel<TraceContext>(`fastify-liveview:${k}`)])) as unknown as Record<TraceKind, TracingChannel<TraceContext, TraceContext>>

/** True when someone listens to `kind` (then build its context and call `trace`). */
export const traced = (kind: TraceKind): boolean => channels[kind].hasSubscribers

/** True when someone listens to a view callback's channel (mount, handleParams, event, info). */
export const tracingCallbacks = (): boolean =>
  channels.event.hasSubscribers || channels.mount.hasSubscribers || channels.handleParams.hasSubscribers || channels.info.hasSubscribers

/**
 * Runs `fn` inside the tracing channel of `kind` (its promise traced to the end when it
 * returns one), setting `ctx.us` (and `ctx.bytes` from `bytes(result)`) before `end` /
 * `asyncEnd` are published. Call it only when `traced(kind)`.
 */
export function trace<T> (kind: TraceKind, ctx: TraceContext, fn: () => T, bytes?: (result: Awaited<T>) => number): T {
  const ch = channels[kind]
  const start = performance.now()
  const done = (r: unknown): void => {
    ctx.us = Math.round((performance.now() - start) * 1000)
    if (bytes !== undefined) ctx.bytes = bytes(r as Awaited<T>)
  }
  let out: T
  ch.start.publish(ctx)
  try {
    out = fn()
  } catch (err) {
    done(undefined)
    ctx.error = err
    ch.error.publish(ctx)
    ch.end.publish(ctx)
    throw err
  }
  if (!(out instanceof Promise)) {
    done(out)
    ctx.result = out
    ch.end.publish(ctx)
    return out
  }
  ctx.async = true
  ch.end.publish(ctx)
  return out.then((r: unknown) => {
    done(r)
    ctx.result = r
    ch.asyncStart.publish(ctx)
    ch.asyncEnd.publish(ctx)
    return r
  }, (err: unknown) => {
    done(undefined)
    ctx.error = err
    ch.error.publish(ctx)
    ch.asyncStart.publish(ctx)
    ch.asyncEnd.publish(ctx)
    throw err
  }) as T
}

/** The channel a view callback's run goes to, by what the runtime calls it (`Card.save`: a component's). */
export function traceKind (what: string): TraceKind | undefined {
  const own = what.slice(what.lastIndexOf('.') + 1)
  if (own === 'mount' || own === 'handleParams') return own
  if (own === 'handleInfo') return 'info'
  // The route's checks, a component's update, a render for upload progress: not an event.
  return /^(onMount|update|restored|upload progress)$/.test(own) ? undefined : 'event'
}

/** The context of a view callback's trace. */
export function traceContext (view: string, sessionId: string, what: string): TraceContext {
  const dot = what.lastIndexOf('.')
  const ctx: TraceContext = { view, sessionId }
  if (dot !== -1) ctx.component = what.slice(0, dot)
  const own = what.slice(dot + 1)
  if (traceKind(what) === 'event') ctx.event = own
  return ctx
}

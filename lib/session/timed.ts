import type { FastifyBaseLogger } from 'fastify'
import type { Clock } from '../clock.js'
import { trace, traceContext, traceKind, traced, tracingCallbacks } from '../telemetry.js'

/** `timed`, traced (`mount`, `handleParams`, `info`, `event`: see lib/telemetry.ts) when someone listens. */
export function timedTraced (log: FastifyBaseLogger, clock: Clock, limit: number, view: string, sessionId: string, what: string, fn: () => unknown): unknown {
  // Nobody listening to view callbacks (the common case): no parsing of `what` either.
  const kind = tracingCallbacks() ? traceKind(what) : undefined
  if (kind === undefined || !traced(kind)) return timed(log, clock, limit, view, what, fn)
  return trace(kind, traceContext(view, sessionId, what), () => timed(log, clock, limit, view, what, fn))
}

/**
 * Runs a view callback and returns what it returned; logs it (warn) when it runs longer
 * than `limit` ms: at once for a promise still pending then, after the fact otherwise.
 */
export function timed (log: FastifyBaseLogger, clock: Clock, limit: number, view: string, what: string, fn: () => unknown): unknown {
  const start = performance.now()
  const result = fn()
  if (result instanceof Promise) return watch(log, clock, limit, view, what, result)
  const ms = performance.now() - start
  if (ms > limit) log.warn({ view, event: what, ms }, 'live view handler is slow')
  return result
}

async function watch (log: FastifyBaseLogger, clock: Clock, limit: number, view: string, what: string, result: Promise<unknown>): Promise<unknown> {
  const timer = clock.setTimeout(() => { log.warn({ view, event: what, limitMs: limit }, 'live view handler is slow') }, limit)
  try { return await result } finally { clock.clearTimeout(timer) }
}

// The `telemetry` section of `npm run bench`: what the tracing channels cost per event, as a
// same-run A/B on one in-process counter session: runs alternate with nobody subscribed and
// with a subscriber (empty handlers) on every channel; a side's figure is the median of its
// runs' p50. Nobody subscribed is the default; the issue's target: ≤ 3 % over it.
import { tracingChannel } from 'node:diagnostics_channel'
import { TRACE_KINDS } from '../lib/telemetry.js'
import { fmt, median, opOf, percentile, progress, round, table } from './report.js'
import { buildApp, openSession } from './scenarios.js'

export interface TelemetryResult {
  none_us_p50: number
  subscribed_us_p50: number
  /** subscribed ÷ none. */
  ratio: number
  rounds: number
  measured: number
}

export async function runTelemetry (measured: number, rounds: number, limits: Record<string, number>): Promise<TelemetryResult> {
  progress(`telemetry: counter events, ${rounds} rounds of ${measured} with nobody subscribed and with a subscriber on every channel`)
  const app = await buildApp({ limits })
  await app.ready()
  try {
    const { send } = await openSession(app, '/counter')
    const handlers = { start () {}, end () {}, asyncStart () {}, asyncEnd () {}, error () {} }
    const run = async (n: number): Promise<number> => {
      const us = new Float64Array(n)
      for (let i = 0; i < n; i++) {
        const r = await send('inc')
        if (opOf(r.frame) !== 'p') throw new Error(`telemetry: inc was answered with ${r.frame.slice(0, 200)}`)
        us[i] = r.us
      }
      return percentile(us.sort(), 0.5)
    }
    await run(measured)
    const runs = { none: [] as number[], subscribed: [] as number[] }
    for (let r = 0; r < rounds; r++) {
      runs.none.push(await run(measured))
      for (const k of TRACE_KINDS) tracingChannel(`fastify-liveview:${k}`).subscribe(handlers)
      try {
        runs.subscribed.push(await run(measured))
      } finally {
        for (const k of TRACE_KINDS) tracingChannel(`fastify-liveview:${k}`).unsubscribe(handlers)
      }
    }
    const none = median(runs.none)
    const subscribed = median(runs.subscribed)
    return { none_us_p50: round(none, 2)!, subscribed_us_p50: round(subscribed, 2)!, ratio: round(subscribed / none, 3)!, rounds, measured }
  } finally {
    await app.close()
  }
}

export function renderTelemetry (r: TelemetryResult): string[] {
  return [
    `Telemetry: one counter event (server µs p50, median of ${r.rounds} runs of ${r.measured} each), nobody subscribed vs a subscriber on every channel`,
    '',
    table(['telemetry', 'µs'], [['nobody subscribed', fmt(r.none_us_p50)], ['subscribed (empty handlers)', fmt(r.subscribed_us_p50)], ['ratio', fmt(r.ratio)]])
  ]
}

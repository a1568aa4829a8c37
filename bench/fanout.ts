// chat_fanout_100 (issue 11): 100 in-process sessions of the chat room, subscribed to one
// PubSub topic; one broadcast reaches every session's handleInfo, each re-renders and diffs
// its page and sends a frame. Timed from the broadcast until all 100 frames have arrived.
import type { FastifyInstance } from 'fastify'
import { DiffChain } from './diff-chain.js'
import { opOf, percentile, progress, round } from './report.js'
import { CHAT_PATH, CHAT_TOPIC, chatMessage, openSession, runtimeOf } from './scenarios.js'

export interface FanoutSettings {
  sessions: number
  /** Warm-up: at least this many broadcasts and at least `warmupMs` of running. */
  warmup: number
  warmupMs: number
  measured: number
  /** Warm-up and measured broadcasts each stop after this long once they have `phaseMin` (as the scenarios do). */
  phaseMaxMs: number
  phaseMin: number
}

export interface FanoutResult {
  sessions: number
  /** From the broadcast until every session's frame arrived, per broadcast. */
  total_ms_p50: number | null
  total_ms_p99: number | null
  /** total ÷ sessions */
  per_session_us_p50: number | null
  bytes_per_update: number | null
  page_bytes: number
  /** One session's chain (bench/diff-chain.ts), over the measured broadcasts. */
  diff_us_p50: number | null
  render_us_p50: number | null
  diff_pairs: number
  broadcasts: number
  warmup_broadcasts: number
  html_frames: number
}

export async function runFanout (app: FastifyInstance, s: FanoutSettings): Promise<FanoutResult> {
  progress(`chat_fanout_${s.sessions}: ${s.sessions} sessions, warm-up (≥ ${s.warmup} broadcasts, ≥ ${s.warmupMs / 1000} s), then ${s.measured} measured broadcasts`)
  const opened = []
  for (let i = 0; i < s.sessions; i++) opened.push(await openSession(app, CHAT_PATH))
  const pubsub = runtimeOf(app).pubsub
  let pending = 0
  let bytes = 0
  let htmlFrames = 0
  let arrived: () => void = () => {}
  let failure: Error | undefined
  for (const o of opened) {
    o.transport.onFrame = (frame) => {
      const op = opOf(frame)
      if (op !== 'p' && op !== 'h') failure ??= new Error(`chat_fanout: a session sent ${frame.slice(0, 300)}`)
      if (op === 'h') htmlFrames++
      bytes += Buffer.byteLength(frame)
      if (--pending === 0) arrived()
    }
  }
  let id = 1000
  const once = async (): Promise<number> => {
    pending = opened.length
    const all = new Promise<void>((resolve) => { arrived = resolve })
    const start = process.hrtime.bigint()
    await pubsub.broadcast(CHAT_TOPIC, chatMessage(id++))
    await all
    const us = Number(process.hrtime.bigint() - start) / 1000
    if (failure !== undefined) throw failure
    return us
  }
  try {
    const timeUp = (start: number, done: number): boolean => done >= s.phaseMin && performance.now() - start >= s.phaseMaxMs
    let warmup = 0
    const warmStart = performance.now()
    while ((warmup < s.warmup || performance.now() - warmStart < s.warmupMs) && !timeUp(warmStart, warmup)) {
      await once()
      warmup++
    }
    bytes = 0
    htmlFrames = 0
    const all = new Float64Array(s.measured)
    const watched = opened[0]!.session
    const chain = new DiffChain()
    let measured = 0
    const start = performance.now()
    for (; measured < s.measured && !timeUp(start, measured); measured++) {
      all[measured] = await once()
      await chain.step(watched.mounted!, watched.html!)
    }
    if (chain.mismatches > 0) throw new Error(`chat_fanout: ${chain.mismatches} renders of the diff chain differ from the session's`)
    const total = all.subarray(0, measured).sort()
    const diffUs = Float64Array.from(chain.diffUs).sort()
    const renderUs = Float64Array.from(chain.renderUs).sort()
    const p50 = percentile(total, 0.5)
    return {
      sessions: opened.length,
      total_ms_p50: round(p50 / 1000, 3),
      total_ms_p99: round(percentile(total, 0.99) / 1000, 3),
      per_session_us_p50: round(p50 / opened.length, 1),
      bytes_per_update: round(bytes / (measured * opened.length), 1),
      page_bytes: Buffer.byteLength(`[0,"h",${watched.version},${JSON.stringify(watched.html)}]`),
      diff_us_p50: diffUs.length === 0 ? null : round(percentile(diffUs, 0.5), 1),
      render_us_p50: renderUs.length === 0 ? null : round(percentile(renderUs, 0.5), 1),
      diff_pairs: chain.count,
      broadcasts: measured,
      warmup_broadcasts: warmup,
      html_frames: htmlFrames
    }
  } finally {
    for (const o of opened) await o.session.close()
  }
}

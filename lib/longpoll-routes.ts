import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { errors } from './errors.js'
import { POLL_WAIT_MS, SEND_MAX_FRAMES, openPoll, ownerOf, pollLocal, sendLocal, sentFrames, type PollReply, type SentFrame } from './longpoll.js'
import { checkOrigin } from './origin.js'
import { Relay } from './relay.js'
import type { Runtime } from './runtime.js'
import { checkCapacity, ipOf } from './socket.js'

// The long-poll transport's routes: `POST <prefix>/lp` opens a session, `GET <prefix>/lp?s&a`
// polls it, `POST <prefix>/lp/send?s` sends to it (`&close`: and ends it, the page leaving). Each passes the checks of a socket upgrade
// (Origin, and on opening the socket caps); a poll or send for a session of another process
// goes to it through the relay.

type Relayed = { op: 'poll', sid: string, a: number, w: number } | { op: 'send', sid: string, f: SentFrame[], c: boolean }

/** How long a relayed send waits for the owner's answer. */
const SEND_RELAY_MS = 5000

export function registerLongPoll (fastify: FastifyInstance, rt: Runtime): void {
  const path = `${rt.options.prefix}/lp`
  const relay = new Relay(rt.pubsub, rt.presence.node, async (body) => {
    const m = body as Relayed
    if (m.op === 'poll') return await pollLocal(rt, m.sid, m.a, Math.min(m.w, POLL_WAIT_MS)) ?? null
    return sendLocal(rt, m.sid, m.f, m.c)
  }, (err) => { rt.log.error({ err }, 'live view long-poll relay failed') })
  fastify.addHook('onReady', async () => { relay.start() })
  fastify.addHook('onClose', async () => { relay.stop() })

  const origin = async (request: FastifyRequest): Promise<void> => { checkOrigin(request, rt.options.allowedOrigins) }
  // JSON only: a cross-site form cannot post it (it takes a CORS preflight nobody answers).
  const jsonOnly = async (request: FastifyRequest): Promise<void> => {
    await origin(request)
    if (!(request.headers['content-type'] ?? '').startsWith('application/json')) {
      throw Object.assign(new errors.FRAME_MALFORMED('expected application/json'), { statusCode: 415 })
    }
  }
  const gone = (reply: FastifyReply, sid: string): FastifyReply => {
    const err = new errors.POLL_GONE(sid.slice(0, 16))
    return reply.code(410).send({ code: err.code, message: err.message })
  }
  const sidOf = (request: FastifyRequest): string | undefined => {
    const s = (request.query as { s?: unknown }).s
    return typeof s === 'string' && s.length < 100 && s.includes('.') ? s : undefined
  }

  // Open: as an upgrade would (Origin, the socket caps).
  fastify.post(path, {
    onRequest: async (request) => {
      await jsonOnly(request)
      checkCapacity(rt, request)
    },
    bodyLimit: 1024
  }, async (request, reply) => {
    reply.header('cache-control', 'no-store')
    return { s: openPoll(rt, request, ipOf(request)) }
  })

  // Send: a batch of frames (upload chunks in base64, a third bigger).
  const bodyLimit = Math.ceil(SEND_MAX_FRAMES * rt.options.limits.maxFrameBytes * 4 / 3) + 65536
  fastify.post(`${path}/send`, { onRequest: jsonOnly, bodyLimit }, async (request, reply) => {
    const sid = sidOf(request)
    if (sid === undefined) return await reply.code(400).send({ code: 'FST_LIVEVIEW_FRAME_MALFORMED', message: 'expected ?s=<session>' })
    return await send(request, reply, sid)
  })

  fastify.get(path, { onRequest: origin }, async (request, reply) => {
    const sid = sidOf(request)
    const a = Number((request.query as { a?: unknown }).a ?? 0)
    if (sid === undefined || !Number.isSafeInteger(a) || a < 0) return await reply.code(400).send({ code: 'FST_LIVEVIEW_FRAME_MALFORMED', message: 'expected ?s=<session>&a=<frames received>' })
    reply.header('cache-control', 'no-store')
    const owner = ownerOf(sid)
    const answer = owner === rt.presence.node
      ? await pollLocal(rt, sid, a, POLL_WAIT_MS)
      : await relay.ask(owner, { op: 'poll', sid, a, w: POLL_WAIT_MS } satisfies Relayed, POLL_WAIT_MS + SEND_RELAY_MS) as PollReply | null | undefined
    return answer == null ? gone(reply, sid) : answer
  })

  async function send (request: FastifyRequest, reply: FastifyReply, sid: string): Promise<FastifyReply> {
    const frames = sentFrames(request.body)
    if (frames === undefined) return await reply.code(400).send({ code: 'FST_LIVEVIEW_FRAME_MALFORMED', message: `expected a list of at most ${SEND_MAX_FRAMES} frames` })
    const owner = ownerOf(sid)
    // `close`: the page is going (its last send, a beacon).
    const c = (request.query as { close?: unknown }).close !== undefined
    const ok = owner === rt.presence.node ? sendLocal(rt, sid, frames, c) : await relay.ask(owner, { op: 'send', sid, f: frames, c } satisfies Relayed, SEND_RELAY_MS)
    return ok === true ? await reply.code(204).send() : gone(reply, sid)
  }
}

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { errors } from './errors.js'
import { POLL_WAIT_MS, SEND_MAX_FRAMES, SESSION_HEADER, hasLocal, openPoll, ownerOf, pollLocal, sendLocal, sentFrames, type PollReply, type SentFrame } from './longpoll.js'
import { checkOrigin } from './origin.js'
import { Relay } from './relay.js'
import type { Runtime } from './runtime.js'
import { checkCapacity, ipOf } from './socket.js'

// The long-poll transport's routes: `POST <prefix>/lp` opens a session; `GET <prefix>/lp?a`
// polls it and `POST <prefix>/lp/send` sends to it (the session named by the
// `x-lv-session` header, never in a URL that logs keep); `POST <prefix>/lp/close` ends it
// (the page leaving: a beacon, the session in its body). Each passes the checks of a socket
// upgrade (Origin; on opening, the socket caps); a session of another process is reached
// through the relay, and a session id the app did not issue (ids are signed) is refused
// before its body is read.

type Relayed = { op: 'poll', sid: string, a: number, w: number } | { op: 'send', sid: string, f: SentFrame[], c: boolean }

/** How long a relayed send waits for the owner's answer. */
const SEND_RELAY_MS = 5000
const SID = /^[\w-]{1,20}\.[\w-]{20,40}\.[\w-]{22}$/

export function registerLongPoll (fastify: FastifyInstance, rt: Runtime): void {
  const path = `${rt.options.prefix}/lp`
  let closing = false
  const relay = new Relay(rt.pubsub, rt.presence.node, async (body) => {
    const m = body as Relayed
    if (m.op === 'poll') return await pollLocal(rt, m.sid, m.a, Math.min(m.w, POLL_WAIT_MS)) ?? null
    return sendLocal(rt, m.sid, m.f, m.c)
  }, (err) => { rt.log.error({ err }, 'live view long-poll relay failed') })
  fastify.addHook('onReady', async () => { relay.start() })
  // Polls held for another process's sessions are answered (empty) before the server waits
  // for its requests to end: the client polls again, through another process.
  fastify.addHook('preClose', async () => {
    closing = true
    relay.stop()
  })

  const origin = async (request: FastifyRequest): Promise<void> => { checkOrigin(request, rt.options.allowedOrigins) }
  // JSON only: a cross-site form cannot post it (it takes a CORS preflight nobody answers).
  const jsonOnly = async (request: FastifyRequest): Promise<void> => {
    await origin(request)
    if (!(request.headers['content-type'] ?? '').startsWith('application/json')) {
      throw Object.assign(new errors.FRAME_MALFORMED('expected application/json'), { statusCode: 415 })
    }
  }
  const gone = (sid: string): Error => Object.assign(new errors.POLL_GONE(sid.slice(0, 16)), { statusCode: 410 })
  /** The session a request names: one this process holds, or one the app issued on another (its id is signed). */
  const sidOf = (request: FastifyRequest): string => {
    const sid = request.headers[SESSION_HEADER]
    if (typeof sid !== 'string' || !SID.test(sid)) throw Object.assign(new errors.FRAME_MALFORMED(`expected the ${SESSION_HEADER} header`), { statusCode: 400 })
    if (ownerOf(sid) === rt.presence.node ? !hasLocal(rt, sid) : !rt.tokens.verifyId(sid)) throw gone(sid)
    return sid
  }
  const named = async (request: FastifyRequest): Promise<void> => { sidOf(request) }

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

  fastify.get(path, { onRequest: [origin, named] }, async (request, reply) => {
    const sid = sidOf(request)
    const a = Number((request.query as { a?: unknown }).a ?? 0)
    if (!Number.isSafeInteger(a) || a < 0) return await reply.code(400).send({ code: 'FST_LIVEVIEW_FRAME_MALFORMED', message: 'expected ?a=<frames received>' })
    reply.header('cache-control', 'no-store')
    const owner = ownerOf(sid)
    const answer = owner === rt.presence.node
      ? await pollLocal(rt, sid, a, POLL_WAIT_MS)
      : await relay.ask(owner, { op: 'poll', sid, a, w: POLL_WAIT_MS } satisfies Relayed, POLL_WAIT_MS + SEND_RELAY_MS) as PollReply | null | undefined
    if (answer == null && closing) return { a, f: [] }
    if (answer == null) throw gone(sid)
    return answer
  })

  // Send: a batch of frames (upload chunks in base64, a third bigger).
  const bodyLimit = Math.ceil(SEND_MAX_FRAMES * rt.options.limits.maxFrameBytes * 4 / 3) + 65536
  fastify.post(`${path}/send`, { onRequest: [jsonOnly, named], bodyLimit }, async (request, reply) => {
    return await send(reply, sidOf(request), request.body, false)
  })

  // Close: the page is going (a beacon: no headers of its own, the session in the body).
  fastify.post(`${path}/close`, { onRequest: jsonOnly, bodyLimit: 1024 }, async (request, reply) => {
    const sid = (request.body as { s?: unknown } | null)?.s
    if (typeof sid !== 'string' || !SID.test(sid) || !rt.tokens.verifyId(sid)) return await reply.code(400).send({ code: 'FST_LIVEVIEW_FRAME_MALFORMED', message: 'expected { s }' })
    return await send(reply, sid, [], true)
  })

  async function send (reply: FastifyReply, sid: string, body: unknown, close: boolean): Promise<FastifyReply> {
    const frames = sentFrames(body)
    if (frames === undefined) return await reply.code(400).send({ code: 'FST_LIVEVIEW_FRAME_MALFORMED', message: `expected a list of at most ${SEND_MAX_FRAMES} frames` })
    const owner = ownerOf(sid)
    const ok = owner === rt.presence.node ? sendLocal(rt, sid, frames, close) : await relay.ask(owner, { op: 'send', sid, f: frames, c: close } satisfies Relayed, SEND_RELAY_MS)
    if (ok !== true) throw gone(sid)
    return await reply.code(204).send()
  }
}

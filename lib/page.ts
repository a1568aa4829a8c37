import type { FastifyReply, FastifyRequest } from 'fastify'
import { FLASH_COOKIE, ROOT_ATTR, SOCKET_ATTR, TOKEN_ATTR } from './protocol.js'
import type { ViewEntry } from './registry.js'
import { escapeAttr, renderHash } from './render.js'
import type { Runtime } from './runtime.js'
import { MountedView } from './session/mounted.js'
import { Outcome } from './session/outcome.js'
import { NO_FLASH, type Params } from './view.js'

/**
 * The HTTP GET of a live route: the view mounts (not connected) through the same
 * `mount → handleParams → render` path as a join or a navigation, and the page is its
 * render inside the layout, with a token the join verifies. A redirect, `pushNavigate` or
 * `pushPatch` asked for in `mount` answers with a 302 instead.
 */
export async function renderPage (rt: Runtime, entry: ViewEntry, pattern: string, request: FastifyRequest, reply: FastifyReply): Promise<string | FastifyReply> {
  const params: Params = { ...(request.query as Params), ...(request.params as Params) }
  const url = new URL(request.url, `${request.protocol}://${request.host}`)
  const session = await rt.options.session(request)
  const mounted = new MountedView(rt, undefined, request, { pattern, entry, params }, url.href, 0)
  const out = mounted.out = new Outcome()
  const inner = await mounted.start(params, session, url, takeFlash(rt, request, reply))
  // Leaving from mount here is always a redirect (see MountedView: no live navigation on the HTTP render).
  if (inner === undefined) return await reply.redirect(out.redirect!, 302)
  const flash = mounted.flash === NO_FLASH ? undefined : mounted.flash
  const token = rt.tokens.sign(pattern, session, renderHash(inner), flash)
  const body = `<div ${ROOT_ATTR} ${SOCKET_ATTR}="${escapeAttr(rt.socketPath)}" ${TOKEN_ATTR}="${escapeAttr(token)}">${inner}</div>`
  const head = `<script src="${escapeAttr(rt.client.url)}" defer></script>`
  reply.header('cache-control', 'no-store').type('text/html; charset=utf-8')
  return rt.templates.layout({ title: mounted.pageTitle, head, body, lang: 'en' })
}

/**
 * The flash a redirect carried here (a signed cookie the client set), taken once: the
 * cookie is cleared whatever it held.
 */
function takeFlash (rt: Runtime, request: FastifyRequest, reply: FastifyReply): Record<string, string> | undefined {
  const header = request.headers.cookie
  if (header === undefined || !header.includes(FLASH_COOKIE)) return undefined
  let value: string | undefined
  for (const part of header.split(';')) {
    const eq = part.indexOf('=')
    if (eq !== -1 && part.slice(0, eq).trim() === FLASH_COOKIE) value = part.slice(eq + 1).trim()
  }
  if (value === undefined) return undefined
  reply.header('set-cookie', `${FLASH_COOKIE}=; Max-Age=0; Path=/; SameSite=Lax`)
  return rt.tokens.verifyFlash(value)
}

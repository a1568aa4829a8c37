import type { FastifyReply, FastifyRequest } from 'fastify'
import { newInstance } from './persist.js'
import { FLASH_COOKIE, ROOT_ATTR, SOCKET_ATTR, TOKEN_ATTR } from './protocol.js'
import { describe, errors, isCoded } from './errors.js'
import { keyOf } from './guard.js'
import { paramsOf, type ViewEntry } from './registry.js'
import { escapeAttr, renderHash } from './render.js'
import type { Runtime } from './runtime.js'
import { MountedView } from './session/mounted.js'
import { Outcome } from './session/outcome.js'
import { NO_FLASH } from './view.js'
import { isLanguageTag, langOf } from './options.js'

/**
 * The HTTP GET of a live route: the view mounts (not connected) through the same
 * `mount → handleParams → render` path as a join or a navigation, and the page is its
 * render inside the layout, with a token the join verifies. A redirect, `pushNavigate` or
 * `pushPatch` asked for in `mount` answers with a 302 instead.
 */
export async function renderPage (rt: Runtime, entry: ViewEntry, pattern: string, liveSession: string, layout: string | false, request: FastifyRequest, reply: FastifyReply): Promise<string | FastifyReply> {
  const url = new URL(request.url, `${request.protocol}://${request.host}`)
  const params = paramsOf(url, request.params as Record<string, string>)
  const session = await rt.options.session(request)
  const mounted = new MountedView(rt, undefined, request, { pattern, entry, liveSession, layout, params }, url.href, 0)
  const out = mounted.out = new Outcome()
  let inner: string | undefined
  try {
    inner = await mounted.start(params, session, url, takeFlash(rt, request, reply))
  } catch (err) {
    return devPage(rt, request, reply, failure(rt, entry, request, err))
  } finally {
    // What the HTTP render started ends with it (async work it did not wait for).
    mounted.dispose()
  }
  // Leaving from mount here is always a redirect (see MountedView: no live navigation on the HTTP render).
  if (inner === undefined) return await reply.redirect(mounted.location(out.redirect!), 302)
  const flash = mounted.flash === NO_FLASH ? undefined : mounted.flash
  // The hash of the page as a connected render shows it (stream containers empty): a join that finds it unchanged sends no HTML.
  const token = rt.tokens.sign(url, keyOf(session), renderHash(mounted.streams?.connectedHtml ?? inner), flash, entry.persist === undefined ? undefined : newInstance())
  const body = `<div ${ROOT_ATTR} ${SOCKET_ATTR}="${escapeAttr(rt.socketPath)}" ${TOKEN_ATTR}="${escapeAttr(token)}">${inner}</div>`
  let page: string
  try {
    page = await inLayout(rt, layout, request, session, mounted.pageTitle, body)
  } catch (err) {
    // The layout, `layoutData` or `lang` failed: answered like a failed mount (in production
    // nothing of the error reaches the browser; the log has it).
    return devPage(rt, request, reply, failure(rt, entry, request, err))
  }
  reply.header('cache-control', 'no-store').type('text/html; charset=utf-8')
  return page
}

/** The page: the live root inside the layout, with the layout's data for this request. */
async function inLayout (rt: Runtime, layout: string | false, request: FastifyRequest, session: unknown, title: string, body: string): Promise<string> {
  let head = `<script src="${escapeAttr(rt.client.url)}" defer></script>`
  // Development: the error overlay (templates' errors with their .eta line, over the page).
  if (!rt.options.production) head += `<script src="${escapeAttr(rt.client.dev.url)}" defer></script>`
  const { lang, layoutData } = rt.options
  const extra = layoutData === undefined ? undefined : await layoutData(request, session)
  if (extra !== undefined && (extra === null || typeof extra !== 'object' || Array.isArray(extra))) {
    throw new errors.OPTIONS_INVALID('layoutData', `must return an object, got ${Array.isArray(extra) ? 'an array' : extra === null ? 'null' : typeof extra}`)
  }
  const tag = langOf(lang, request, session)
  if (!isLanguageTag(tag)) throw new errors.OPTIONS_INVALID('lang', `returned ${JSON.stringify(tag)}, not a language tag like 'en' or 'pt-BR'`)
  const page = rt.templates.layout({ ...extra, title, head, body, lang: tag, session }, layout)
  if (!page.includes(head)) throw new errors.TEMPLATE_INVALID('layout', String(layout), 'did not output `<%~ it.head %>` on this page: it would never connect')
  return page
}

/**
 * What a failed HTTP render answers: an error the app threw on purpose with a 4xx
 * `statusCode` (a 403 from `onMount`, say) as it is; anything else as a coded 500 whose
 * message, in production, says only "see the server log" (the log has the error).
 */
function failure (rt: Runtime, entry: ViewEntry, request: FastifyRequest, err: unknown): unknown {
  const status = (err as { statusCode?: unknown } | null)?.statusCode
  if (typeof status === 'number' && status >= 400 && status < 500) return err
  if (!rt.options.production) return isCoded(err) ? err : new errors.MOUNT_FAILED(entry.name, describe(err))
  request.log.error({ err, view: entry.name }, 'live view page render failed')
  const code = isCoded(err) ? err.code : 'FST_LIVEVIEW_MOUNT_FAILED'
  return Object.assign(new errors.MOUNT_FAILED(entry.name, 'see the server log'), { code })
}

/**
 * Throws what a failed render answers; in development a browser gets it as a page instead
 * (the error overlay of a mount that failed, a template's .eta line with it).
 */
function devPage (rt: Runtime, request: FastifyRequest, reply: FastifyReply, err: unknown): string {
  const status = (err as { statusCode?: unknown }).statusCode
  if (rt.options.production || (typeof status === 'number' && status < 500) || !(request.headers.accept ?? '').includes('text/html')) throw err
  request.log.error({ err }, 'live view page render failed')
  const { code = 'Error', message = String(err) } = err as { code?: string, message?: string }
  reply.code(500).header('cache-control', 'no-store').type('text/html; charset=utf-8')
  return `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>${escapeAttr(code)}</title></head>` +
    '<body style="margin:0;background:#1d1f21;color:#f8f8f2;font:13px/1.5 ui-monospace,monospace">' +
    `<div id="lv-dev-overlay" role="alert" style="padding:16px 20px;border-top:4px solid #e5484d"><strong style="color:#ff8a8a">${escapeAttr(code)}</strong>` +
    `<pre style="white-space:pre-wrap">${escapeAttr(message)}</pre><p style="opacity:.6">fastify-liveview (development): fix it and reload.</p></div></body></html>`
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

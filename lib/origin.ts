import type { FastifyRequest } from 'fastify'
import { errors } from './errors.js'

/**
 * Refuses a WebSocket upgrade whose Origin is neither the page's own host (as Fastify
 * sees it, `trustProxy` included) nor in `allowedOrigins`: cross-site WebSocket hijacking.
 * A request with no Origin does not come from a browser page and is let through: the
 * page token still has to verify.
 */
export function checkOrigin (request: FastifyRequest, allowed: Set<string>): void {
  const origin = request.headers.origin
  if (origin === undefined) return
  let parsed: URL
  try { parsed = new URL(origin) } catch { throw new errors.ORIGIN_FORBIDDEN(origin) }
  if (sameHost(parsed, request.host) || allowed.has(parsed.origin)) return
  request.log.warn({ code: 'FST_LIVEVIEW_ORIGIN_FORBIDDEN', origin }, 'live view socket refused: foreign Origin')
  throw new errors.ORIGIN_FORBIDDEN(origin)
}

// An Origin omits its scheme's default port; a Host header may carry it.
function sameHost (origin: URL, host: string): boolean {
  if (origin.host === host) return true
  return origin.port === '' && host === `${origin.hostname}:${origin.protocol === 'https:' ? '443' : '80'}`
}

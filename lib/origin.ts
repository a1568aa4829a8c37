import type { FastifyRequest } from 'fastify'
import { clip, errors } from './errors.js'

/**
 * Refuses a WebSocket upgrade whose Origin is neither the page's own origin (the request's
 * scheme and host as Fastify sees them, `trustProxy` included) nor in `allowedOrigins`:
 * cross-site WebSocket hijacking. The scheme counts: `https://host` is not the origin of
 * an `http` server. A request with no Origin does not come from a browser page and is let
 * through: the page token still has to verify.
 */
export function checkOrigin (request: FastifyRequest, allowed: Set<string>): void {
  const origin = request.headers.origin
  if (origin === undefined) return
  let parsed: URL
  try { parsed = new URL(origin) } catch { throw new errors.ORIGIN_FORBIDDEN(clip(origin)) }
  if (parsed.origin === ownOrigin(request) || allowed.has(parsed.origin)) return
  request.log.warn({ code: 'FST_LIVEVIEW_ORIGIN_FORBIDDEN', origin: clip(origin) }, 'live view socket refused: foreign Origin')
  throw new errors.ORIGIN_FORBIDDEN(clip(origin))
}

// The URL parser drops the scheme's default port, as an Origin header does.
function ownOrigin (request: FastifyRequest): string | undefined {
  // (An in-process upgrade, `injectWS`, has no socket to read the scheme from: plain http.)
  const protocol = (request.protocol as string | undefined) ?? 'http'
  try { return new URL(`${protocol}://${request.host}`).origin } catch { return undefined }
}

import { clip, errors } from './errors.js'

/**
 * Resolves a URL a view sends the browser to (`redirect`, `pushNavigate`, `pushPatch`) or
 * a page reports (a `patch` frame) against the page's URL, with the browser's own parser
 * (leading spaces and control characters dropped, `\` read as `/`, schemes lower-cased):
 * what is checked is what the browser will load. Only http(s) URLs of the page's origin
 * pass, and other http(s) origins when `external` is set; anything else throws
 * FST_LIVEVIEW_URL_UNSAFE (`javascript:`, `data:`, `//evil`, `/\evil`, the same host on
 * another scheme or port).
 */
export function safeUrl (raw: unknown, base: string, external = false): URL {
  const text = String(raw)
  let url: URL
  try { url = new URL(text, base) } catch { throw new errors.URL_UNSAFE(clip(text), 'it is not a URL') }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new errors.URL_UNSAFE(clip(text), `the scheme '${clip(url.protocol, 20)}' is not allowed`)
  if (!external && url.origin !== new URL(base).origin) {
    throw new errors.URL_UNSAFE(clip(text), `it leaves the page's origin ${new URL(base).origin} (redirect(url, { external: true }) allows another http(s) origin)`)
  }
  return url
}

/**
 * A same-origin URL as a `Location` header: its path, query and fragment, unless the path
 * starts with `//` (a browser would read that as another host): then the absolute URL.
 */
export function locationOf (url: URL): string {
  const path = url.pathname + url.search + url.hash
  return path.startsWith('//') ? url.href : path
}

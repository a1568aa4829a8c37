import { Rendered } from '../diff.js'
import { clip, errors, isCoded, type CodedError } from '../errors.js'
import type { Admission } from '../guard.js'
import { mountFrame, okFrame } from '../frames.js'
import { CLOSE_JOIN_REFUSED, PROTOCOL_VERSION, type JoinPayload } from '../protocol.js'
import type { RouteMatch, ViewEntry } from '../registry.js'
import { PageSaver, newInstance } from '../persist.js'
import { renderHash } from '../render.js'
import { revokedAt } from '../store.js'
import { pageOf, type TokenClaims } from '../tokens.js'
import { NO_FLASH } from '../view.js'
import type { Session } from './actor.js'
import { MountedView, detail } from './mounted.js'
import { Outcome } from './outcome.js'

// Mounting a view on a session: the join, and a navigation as an atomic swap.

/**
 * The socket's first message: the token is checked, the view mounts and renders, and the
 * page gets the mount (without its HTML when it shows that render already). A page that is
 * not pristine (it applied updates since its token was signed) always gets the HTML.
 */
export async function join (s: Session, ref: number, p: JoinPayload): Promise<void> {
  const rt = s.rt
  let claims: TokenClaims
  let match: RouteMatch | undefined
  let url: URL
  let admission: Admission
  try {
    if (p.v !== PROTOCOL_VERSION) throw new errors.PROTOCOL_MISMATCH(clip(p.v, 20), PROTOCOL_VERSION)
    claims = rt.tokens.verify(p.token)
    try { url = new URL(p.url) } catch { throw new errors.FRAME_MALFORMED('join url is not a URL') }
    if (pageOf(url) !== claims.url) throw new errors.TOKEN_URL_MISMATCH(clip(claims.url), clip(pageOf(url)))
    match = rt.registry.match(url)
    if (match === undefined) throw new errors.ROUTE_NOT_FOUND(clip(url.pathname))
    if (claims.key !== undefined) {
      const at = await revokedAt(rt.store, claims.key)
      if (at !== undefined && claims.issued <= at) throw new errors.TOKEN_REVOKED()
    }
    // The route's hooks, as its GET would run them, and the session data now.
    admission = await rt.guard.admit(s.request, url)
    if (admission.key !== claims.key) throw new errors.SESSION_MISMATCH()
  } catch (err) {
    if (!isCoded(err)) s.log.error({ err }, 'live view join check failed')
    return refuseJoin(s, ref, isCoded(err) ? err : new errors.MESSAGE_FAILED(detail(rt.options.production, err)))
  }
  if (s.state !== 'joining') return
  s.key = admission.key
  s.lang = admission.lang
  // Persisted fields of this page instance (a rejoin after a restart, on any process).
  const saved = await restoreFor(s, match.entry, claims.instance)
  if (s.state !== 'joining') return
  const mounted = new MountedView(rt, s, undefined, match, url.href, ++s.mounts)
  const out = mounted.out = new Outcome()
  let html: string | undefined
  try {
    // The flash the token carries shows only on the page that still shows it.
    html = await mounted.start(match.params, admission.session, url, p.pristine === true ? claims.flash : undefined, saved)
  } catch (err) {
    mounted.dispose()
    s.log.error({ err, view: match.entry.name }, 'live view mount failed')
    refuseJoin(s, ref, isCoded(err) ? err : new errors.MOUNT_FAILED(match.entry.name, detail(rt.options.production, err)))
    await mounted.terminate('error')
    return
  }
  mounted.out = undefined
  if (s.state !== 'joining' || html === undefined) {
    // Closed or shutting down meanwhile, or the view sent the browser elsewhere from mount.
    mounted.dispose()
    if (shuttingDown(s)) s.sendError(ref, new errors.SHUTTING_DOWN())
    else if (html === undefined && s.state === 'joining') {
      s.redirect(mounted, out.redirect ?? out.navigate!, mounted.flash)
      s.transport.close(1000, 'redirect')
    }
    await mounted.terminate('closed')
    return
  }
  s.mounted = mounted
  s.saver = saverFor(s, match.entry)
  s.state = 'joined'
  s.transport.joined?.()
  mounted.rendered = new Rendered(html)
  s.version = 0
  s.sentTitle = mounted.pageTitle
  const shown = p.pristine === true && renderHash(html) === claims.renderHash
  const moved = mounted.url !== url.href
  s.reply(ref, mountFrame(ref, {
    id: mounted.id,
    version: 0,
    ...(shown ? {} : { html }),
    // The view moved the page (pushPatch in mount): a reconnect rejoins where it is now.
    ...(moved ? { token: rt.tokens.sign(new URL(mounted.url), s.key, renderHash(html), undefined, s.instance), url: mounted.url } : {}),
    title: mounted.pageTitle,
    // The client empties its stream containers on a mount: what mount streamed fills them again.
    ...(out.streams === undefined ? {} : { streams: out.streams })
  }))
  s.sendAll(out.pushes)
  out.startAsync()
  s.log.info({ view: match.entry.name, route: match.pattern }, 'live view joined')
}

/**
 * The persisted fields of page `instance` for a join of `entry` (undefined when it persists
 * nothing, or none are kept); sets the session's instance. A store that fails is logged: the
 * view then starts from `mount` alone.
 */
async function restoreFor (s: Session, entry: ViewEntry, instance: string | undefined): Promise<Record<string, unknown> | undefined> {
  const persistence = s.rt.persistence
  if (entry.persist === undefined || persistence === undefined) return undefined
  s.instance = instance ?? newInstance()
  if (instance === undefined) return undefined
  try {
    return await persistence.load(entry.name, s.key, instance, entry.persist)
  } catch (err) {
    s.log.warn({ err, view: entry.name }, 'live view persisted state not read')
    return undefined
  }
}

/** What saves the fields `entry` persists after each message, for the session's page instance. */
function saverFor (s: Session, entry: ViewEntry): PageSaver | undefined {
  const persistence = s.rt.persistence
  const spec = entry.persist
  if (spec === undefined || persistence === undefined || s.instance === undefined) return undefined
  const { key, instance } = s
  // The instance is listed under its user on the session's first save, and every 100th after.
  return new PageSaver((json, n) => persistence.save(entry.name, key, instance, spec.version, json, n % 100 === 0), (err) => {
    s.log.warn({ err, view: entry.name, code: (err as { code?: string }).code }, 'live view persisted state not saved')
  })
}

/** Read through a function: the state changes while a mount is awaited. */
const shuttingDown = (s: Session): boolean => s.state === 'closing'

/** A retry cannot cure a refused join: the page reloads (the client bounds how often). */
export function refuseJoin (s: Session, ref: number, err: CodedError): void {
  s.log.warn({ code: err.code, ref }, `live view join refused: ${err.message}`)
  s.sendError(ref, err, { reload: true })
  s.transport.close(CLOSE_JOIN_REFUSED, err.code)
}

/**
 * Mounts another live route's view on this socket, atomically: the new view mounts and
 * renders, and only then replaces the old one (whose effects end, then its `terminate`
 * runs); the page gets it whole in one frame. When the new view fails, the old one stays
 * as it was, what the new one started is ended, and the client loads the URL in full.
 * Messages still queued for the old view are dropped when their turn comes; events the
 * client sent it are refused as stale.
 */
export async function navigate (s: Session, ref: number, target: URL, match: RouteMatch, flash?: Record<string, string>): Promise<void> {
  const rt = s.rt
  // Shutting down: the browser loads the URL in full (from the next server, say).
  if (shuttingDown(s)) return s.sendError(ref, new errors.SHUTTING_DOWN(), { url: target.href })
  const shown = s.mounted
  // Another live session or another layout: a full page load (its layout, its checks), carrying the flash.
  if (shown !== undefined && (shown.liveSession !== match.liveSession || shown.layout !== match.layout)) {
    if (ref !== 0) s.reply(ref, okFrame(ref, s.version))
    return s.redirect(shown, target, flash)
  }
  let admission: Admission
  try {
    admission = await rt.guard.admit(s.request, target)
    if (admission.key !== s.key) throw new errors.SESSION_MISMATCH()
  } catch (err) {
    // Refused: the old view stays, and the browser loads the URL in full (HTTP answers).
    const coded = isCoded(err) ? err : new errors.MESSAGE_FAILED(detail(rt.options.production, err))
    s.log.warn({ code: coded.code, view: match.entry.name }, `live view navigation refused: ${coded.message}`)
    return s.sendError(ref, coded, { url: target.href })
  }
  // Another language: a full page load, as the layout (its `<html lang>`) renders per load.
  if (shown !== undefined && admission.lang !== s.lang) {
    if (ref !== 0) s.reply(ref, okFrame(ref, s.version))
    return s.redirect(shown, target, flash)
  }
  const next = new MountedView(rt, s, undefined, match, target.href, ++s.mounts)
  const out = next.out = new Outcome()
  let html: string | undefined
  try {
    html = await next.start(match.params, admission.session, target, flash)
  } catch (err) {
    next.dispose()
    s.log.error({ err, view: match.entry.name }, 'live view mount failed on navigation')
    const coded = isCoded(err) ? err : new errors.MOUNT_FAILED(match.entry.name, detail(rt.options.production, err))
    s.sendError(ref, coded, { url: target.href })
    await next.terminate('error')
    return
  }
  next.out = undefined
  const old = s.mounted
  if (s.state !== 'joined' || old === undefined || html === undefined) {
    next.dispose()
    if (shuttingDown(s)) s.sendError(ref, new errors.SHUTTING_DOWN(), { url: target.href })
    else if (html === undefined && s.state === 'joined') {
      // The new view sent the browser elsewhere from mount: the page loads that instead.
      if (ref !== 0) s.reply(ref, okFrame(ref, s.version))
      s.redirect(next, out.redirect ?? out.navigate!, next.flash)
    }
    await next.terminate('closed')
    return
  }
  s.mounted = next
  s.instance = next.entry.persist === undefined ? undefined : newInstance()
  s.saver = saverFor(s, next.entry)
  s.dirty = false
  old.dispose()
  next.rendered = new Rendered(html)
  s.sentTitle = next.pageTitle
  const token = rt.tokens.sign(new URL(next.url), s.key, renderHash(html), next.flash === NO_FLASH ? undefined : next.flash, s.instance)
  s.reply(ref, mountFrame(ref, { id: next.id, version: ++s.version, html, token, title: next.pageTitle, url: next.url, ...(out.streams === undefined ? {} : { streams: out.streams }) }))
  s.sendAll(out.pushes)
  out.startAsync()
  s.log.info({ view: match.entry.name, route: match.pattern }, 'live view navigated')
  await old.terminate('closed')
}

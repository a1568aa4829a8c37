import { FULL_HTML, Rendered, diffRendered } from '../diff.js'
import { encodePatch } from '../patch-codec.js'
import { clip, errors, isCoded, type CodedError } from '../errors.js'
import { htmlFrame, okFrame, patchFrame, streamFrame, urlFrame } from '../frames.js'
import { renderHash } from '../render.js'
import { safeUrl } from '../urls.js'
import { NO_FLASH } from '../view.js'
import type { Session } from './actor.js'
import type { MountedView } from './mounted.js'
import { detail } from './mounted.js'
import { navigate } from './navigation.js'
import { Outcome } from './outcome.js'
import { Tracker } from './rollback.js'
import type { EventEntry } from '../registry.js'
import { fieldErrors, type Form } from '../forms.js'
import { trace, traced } from '../telemetry.js'
import type { Instance } from './components.js'
import { componentEvent } from './component-run.js'
import { snapshot } from '../persist.js'

// Messages for the view the page shows: events, server messages, URL changes, resyncs.

/** An event from the client, for the mount it names (and its component `cid`, when targeted). */
export function event (s: Session, ref: number, mount: number, name: string, params: Record<string, unknown>, cid?: number, used?: string[]): void | Promise<void> {
  const mounted = s.mounted
  if (s.state !== 'joined' || mounted === undefined) return s.sendError(ref, new errors.JOIN_REQUIRED())
  if (mount !== mounted.id) return s.refuse(ref, new errors.EVENT_STALE(name, mount, mounted.id))
  if (cid !== undefined) return componentEvent(s, ref, mounted, name, params, cid, used)
  const { entry, view } = mounted
  const declared = entry.events.get(name)
  if (declared === undefined) return s.refuse(ref, new errors.EVENT_UNKNOWN(entry.name, name))
  const run = handlerRun(s, ref, name, declared, params, used, mounted, view)
  return run === undefined ? undefined : step(s, ref, mounted, name, true, run)
}

/**
 * What an event runs once its params are checked as declared: its handler; or, for params
 * that fail an `onInvalid: 'render'` schema, nothing but their field errors (the view
 * renders, its state unchanged). Undefined when the event is refused. The fields the client
 * says are used are the owner's (view or component) from now on, whatever happens next.
 */
export function handlerRun (s: Session, ref: number, name: string, declared: EventEntry, params: Record<string, unknown>, used: string[] | undefined,
  owner: { formOf: () => Form, form: Form | undefined }, self: object): (() => unknown) | undefined {
  if (used !== undefined) owner.formOf().use(used)
  const handler = (self as Record<string, (p: unknown) => unknown>)[name]!
  const render = declared.render
  if (render !== undefined) {
    const valid = declared.validate!(params)
    const problems = valid ? undefined : fieldErrors(declared.validate!.errors ?? [], render.messages)
    return () => {
      const form = owner.formOf()
      if (problems !== undefined) return void (form.errors = problems)
      form.clear()
      return handler.call(self, params)
    }
  }
  if (!paramsOk(s, ref, name, declared, params)) return undefined
  return () => handler.call(self, params)
}

/** Checks an event's params as declared (its schema, else what DOM bindings send); refuses them when they fail. */
export function paramsOk (s: Session, ref: number, name: string, declared: EventEntry, params: Record<string, unknown>): boolean {
  if (declared.validate !== undefined) {
    if (!declared.validate(params)) {
      const problems = (declared.validate.errors ?? []).map((e) => `${e.instancePath || 'params'} ${e.message ?? 'is invalid'}`).join('; ')
      s.refuse(ref, new errors.PARAMS_INVALID(name, problems))
      return false
    }
  } else if (declared.hook !== true) {
    // No schema: what DOM bindings send, as the handler's type (DomParams) says.
    const bad = notDomParams(params)
    if (bad !== undefined) {
      s.refuse(ref, new errors.PARAMS_INVALID(name, `${bad} is not a string or a list of strings (declare a schema, or { hook: true })`))
      return false
    }
  }
  return true
}

/** The first key of `params` whose value is not a string or a list of strings, if any. */
function notDomParams (params: Record<string, unknown>): string | undefined {
  for (const key in params) {
    const value = params[key]
    if (typeof value === 'string') continue
    if (Array.isArray(value) && value.every((v) => typeof v === 'string')) continue
    return key
  }
  return undefined
}

/** The page's URL changed (ref > 0: a link, back, forward), or the view asked (ref 0). */
export function urlChange (s: Session, ref: number, href: string): void | Promise<void> {
  const mounted = s.mounted
  if (s.state !== 'joined' || mounted === undefined) return ref === 0 ? undefined : s.sendError(ref, new errors.JOIN_REQUIRED())
  let target: URL
  try {
    target = safeUrl(href, mounted.url)
  } catch (err) {
    // Not a URL of this page's origin: refused, and the client is not sent there.
    if (ref !== 0) s.refuse(ref, err as CodedError)
    return
  }
  const match = s.rt.registry.match(target)
  if (match === undefined) {
    // Not a live route of this app: the client loads it in full, and HTTP answers.
    if (ref !== 0) s.refuse(ref, new errors.PATCH_REFUSED(clip(href), mounted.pattern), { url: target.href })
    return
  }
  if (match.pattern !== mounted.pattern) return navigate(s, ref, target, match)
  const to = target
  // Within the route: handleParams, no remount. The client pushed its own URL; a URL the
  // view asked for goes to the client after the update.
  // A client URL change that fails leaves the browser at a URL the view does not show: the
  // error carries it, and the client loads it in full (HTTP answers).
  return step(s, ref, mounted, 'handleParams', ref !== 0, ref === 0
    ? () => { mounted.out!.patch = { url: to, params: match.params } }
    : async () => {
        await mounted.authorize(to)
        mounted.url = to.href
        mounted.tasks?.patched()
        return await mounted.view.handleParams?.(match.params, to)
      }, ref === 0 ? undefined : to.href)
}

/**
 * Runs one message for the view the page shows: the handler (and the handleParams of a URL
 * it patched to) with its writes tracked, then the render. On failure the view's data,
 * flash, title and URL go back as they were and the outcome is dropped; on success the
 * outcome is applied, in one order: the update, the URL, the title, pushed events, then a
 * redirect or a navigation.
 */
export async function step (s: Session, ref: number, mounted: MountedView, what: string, user: boolean, work: () => unknown, failUrl?: string, target?: Instance): Promise<void> {
  // A component's message tracks (and rolls back) that component, and renders it alone.
  const view = target?.component ?? mounted.view
  const out = mounted.out = new Outcome()
  // Field errors and used fields go back with the view's data when the message fails.
  const holder = target ?? mounted
  const form = holder.form
  const errs = form?.errors
  const used = form?.used
  const { flash, title, url } = mounted
  const tracker = s.rt.rollback ? (s.tracker ??= new Tracker()) : undefined
  tracker?.begin(view)
  if (target !== undefined) target.dirty = true
  let html: string | undefined
  let carried: Record<string, string> | undefined
  let rendering = false
  try {
    // Flash messages are shown by one render: the user's next action starts without them.
    if (user && target === undefined) mounted.flash = NO_FLASH
    let returned = mounted.timed(what, work)
    if (returned instanceof Promise) returned = await returned
    // pushPatch: handleParams of the new URL (no await when there is none: the common case).
    if (out.patch !== undefined) await mounted.followPatches()
    tracker?.seal(view)
    if (returned !== undefined) out.value = JSON.stringify(returned)
    if (out.leaving) {
      // The flash set now is for the page the view goes to.
      carried = mounted.flash
      mounted.flash = user ? NO_FLASH : flash
    }
    // A slow client's server-initiated update may wait (coalesced), unless stream operations
    // go out with it: they need the page they were made for (a container it may add).
    if (ref !== 0 || out.streams !== undefined || s.transport.backlog() <= s.rt.options.limits.coalesceBytes) {
      rendering = true
      // A page update still waiting for a slow client (s.dirty) goes out with this one: the whole page renders.
      const rendered = target === undefined || s.dirty ? mounted.render() : mounted.renderComponent(target)
      html = typeof rendered === 'string' ? rendered : await rendered
    }
  } catch (err) {
    tracker?.rollback(view)
    if (form === undefined) holder.form = undefined
    else [form.errors, form.used] = [errs!, used!]
    mounted.flash = flash
    mounted.title = title
    mounted.url = url
    mounted.out = undefined
    const refused = refusal(err)
    if (refused !== undefined) {
      // The route's checks refused a URL change: the browser loads that URL in full, and HTTP answers.
      s.log.warn({ code: refused.code, view: mounted.entry.name }, `live view URL change refused: ${refused.message}`)
      return s.sendError(ref, refused, { url: refused.url })
    }
    // A render error keeps its code (context, template); whatever a handler throws is its failure.
    const production = s.rt.options.production
    const owner = target === undefined ? mounted.entry.name : `${target.entry.name} (component ${String(target.id)})`
    const coded = (rendering || target !== undefined) && isCoded(err)
      ? err
      : what === 'handleInfo'
        ? new errors.INFO_FAILED(owner, detail(production, err))
        : new errors.HANDLER_FAILED(what, owner, detail(production, err))
    s.log.error({ err, view: owner, event: what, code: coded.code }, 'live view handler failed')
    // A server-initiated message that failed is said to the page in development (its overlay).
    if (ref !== 0 || !production) s.sendError(ref, coded, failUrl === undefined ? undefined : { url: failUrl })
    return
  }
  tracker?.commit()
  mounted.out = undefined
  s.saver?.offer(() => snapshot(mounted.view, mounted.entry.persist!))
  if (s.state !== 'joined' && s.state !== 'closing') return
  if (html === undefined) s.markDirty()
  else update(s, ref, mounted, html, out.value)
  // Stream operations follow the update (which may have made their container); never coalesced away.
  if (out.streams !== undefined) s.transport.send(streamFrame(out.streams))
  // The page is at another URL now: its token there, so a reconnect rejoins this page.
  if (mounted.url !== url) s.transport.send(urlFrame(mounted.url, s.rt.tokens.sign(new URL(mounted.url), s.key, renderHash(mounted.rendered!.html), undefined, s.instance)))
  s.sendTitle(mounted)
  s.sendAll(out.pushes)
  // Work for a page the view is leaving would be aborted at once: it does not start.
  if (!out.leaving) out.startAsync()
  if (out.redirect !== undefined) return s.redirect(mounted, out.redirect, carried)
  const match = out.navigate === undefined ? undefined : s.rt.registry.match(out.navigate)
  if (match !== undefined) await navigate(s, 0, out.navigate!, match, carried)
}

/** Codes of a URL change the browser must load in full (refused by the route's checks, another user, another language). */
const FULL_LOAD = new Set(['FST_LIVEVIEW_MOUNT_REFUSED', 'FST_LIVEVIEW_SESSION_MISMATCH', 'FST_LIVEVIEW_PATCH_REFUSED'])

/** A refusal of the route's checks for a URL change, with the URL the browser then loads in full. */
function refusal (err: unknown): (CodedError & { url: string }) | undefined {
  if (!isCoded(err) || !FULL_LOAD.has(err.code)) return undefined
  return typeof (err as { url?: unknown }).url === 'string' ? err as CodedError & { url: string } : undefined
}

/** A new render is diffed against what the page shows and sent as a patch, full HTML, or an ack. */
export function update (s: Session, ref: number, mounted: MountedView, html: string, value?: string): void {
  const frame = traced('diff') ? trace('diff', { view: mounted.entry.name, sessionId: s.id }, () => diffFrame(s, ref, mounted, html, value), (f) => f?.length ?? 0) : diffFrame(s, ref, mounted, html, value)
  if (frame !== undefined) s.reply(ref, frame)
}

/** The frame that brings the page from its last render to `html`: a patch, full HTML, or an ack (none for a server update that changed nothing). */
function diffFrame (s: Session, ref: number, mounted: MountedView, html: string, value?: string): string | undefined {
  const next = new Rendered(html)
  const patch = diffRendered(mounted.rendered!, next)
  mounted.rendered = next
  s.dirty = false
  if (patch === undefined || (patch !== FULL_HTML && patch.length === 0)) return ref !== 0 ? okFrame(ref, s.version, value) : undefined
  const version = ++s.version
  const wire = patch === FULL_HTML ? undefined : encodePatch(patch)
  const json = wire === undefined ? undefined : JSON.stringify(wire)
  return json === undefined || json.length >= html.length ? htmlFrame(ref, version, html, value) : patchFrame(ref, version, json, value)
}

/** Sends the change a slow client missed, once it has read what was queued. */
export async function flush (s: Session, mounted: MountedView): Promise<void> {
  let html: string
  try {
    html = await mounted.render()
  } catch (err) {
    s.log.error({ err, view: mounted.entry.name }, 'live view render failed')
    return
  }
  update(s, 0, mounted, html)
}

/** The client is out of sync: full HTML. */
export async function sync (s: Session, ref: number): Promise<void> {
  const mounted = s.mounted
  if (s.state !== 'joined' || mounted === undefined) return s.sendError(ref, new errors.JOIN_REQUIRED())
  let html: string
  try {
    html = await mounted.render()
  } catch (err) {
    return s.sendError(ref, isCoded(err) ? err : new errors.RENDER_FAILED(mounted.entry.name, detail(s.rt.options.production, err)))
  }
  mounted.rendered = new Rendered(html)
  s.dirty = false
  s.reply(ref, htmlFrame(ref, ++s.version, html))
}

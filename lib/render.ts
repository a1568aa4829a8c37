import type { FieldErrors, UsedFields } from './forms.js'
import { createHash } from 'node:crypto'
import { errors, describe } from './errors.js'
import { MARK, streamMark } from './mark.js'
import type { Templates } from './templates.js'

/** What renders: a view or a component (its `context()`), and its class's name and template. */
interface Renderable { context: () => object | Promise<object> }
interface Named { name: string, template: string, streams?: Map<string, unknown> }

/** `it.streams` of a view with streams: each name's mark (see mark.ts), made once per view class. */
const marks = new WeakMap<object, Record<string, string>>()
function streamMarks (streams: Map<string, unknown>): Record<string, string> {
  let m = marks.get(streams)
  if (m === undefined) marks.set(streams, m = Object.fromEntries([...streams.keys()].map((name) => [name, streamMark(name)])))
  return m
}

/** What a render adds to the context: the flash (views), `it.component` (records into `calls`), `it.myself`, `it.uploads`. */
export interface RenderExtra {
  flash?: Readonly<Record<string, string>> | undefined
  calls?: unknown[] | undefined
  myself?: number | undefined
  uploads?: Record<string, unknown> | undefined
  /** Field errors and used fields: `it.errors`, `it.used` (unless the context has its own). */
  form?: { errors: FieldErrors, used: UsedFields } | undefined
}

/**
 * Renders a view's (or a component's) template with its context. Throws
 * FST_LIVEVIEW_CONTEXT_INVALID when `context()` throws or returns a non-object,
 * FST_LIVEVIEW_RENDER_FAILED when the template fails. Synchronous contexts render without
 * a microtask hop. With `calls`, the template gets `it.component(name, props)`, which
 * records the call there and outputs a mark (see session/components.ts).
 */
export function renderView (templates: Templates, entry: Named, view: Renderable, extra: RenderExtra = {}): string | Promise<string> {
  let ctx: object | Promise<object>
  try {
    ctx = view.context()
  } catch (err) {
    throw new errors.CONTEXT_INVALID(entry.name, `threw: ${describe(err)}`)
  }
  if (ctx instanceof Promise) {
    return ctx.then(
      (value) => renderContext(templates, entry, value, extra),
      (err: unknown) => { throw new errors.CONTEXT_INVALID(entry.name, `rejected: ${describe(err)}`) }
    )
  }
  return renderContext(templates, entry, ctx, extra)
}

function renderContext (templates: Templates, entry: Named, ctx: unknown, { flash, calls, myself, uploads, form }: RenderExtra): string {
  if (ctx === null || typeof ctx !== 'object' || Array.isArray(ctx)) {
    throw new errors.CONTEXT_INVALID(entry.name, `must return an object, got ${Array.isArray(ctx) ? 'an array' : ctx === null ? 'null' : typeof ctx}`)
  }
  let data = ctx as Record<string, unknown>
  // Views' templates get the flash as `it.flash`, and templates their field errors and used
  // fields as `it.errors` and `it.used`, unless the context has its own.
  // One object literal (its own keys last, so they win): the shape V8 builds fastest.
  if (form !== undefined) data = { flash, errors: form.errors, used: form.used, ...data }
  else if (flash !== undefined) data = { flash, ...data }
  if (entry.streams !== undefined && entry.streams.size > 0) {
    if ('streams' in data) throw new errors.CONTEXT_INVALID(entry.name, "returns a `streams` field, which would hide it.streams: rename it")
    if (data === ctx) data = { ...data }
    data.streams = streamMarks(entry.streams)
  }
  if (uploads !== undefined) {
    if ('uploads' in data) throw new errors.CONTEXT_INVALID(entry.name, "returns an `uploads` field, which would hide it.uploads: rename it")
    if (data === ctx) data = { ...data }
    data.uploads = uploads
  }
  if (calls !== undefined) {
    if ('component' in data) throw new errors.CONTEXT_INVALID(entry.name, "returns a `component` field, which would hide it.component(): rename it")
    if (data === ctx) data = { ...data }
    data.component = (name: unknown, props: unknown): string => {
      calls.push(name, props)
      return MARK
    }
    // A component's own wire id, for an `lv-target` that names it (`@myself` does the same).
    if (myself !== undefined && !('myself' in data)) data.myself = myself
  }
  try {
    return templates.render(entry.template, data)
  } catch (err) {
    throw new errors.RENDER_FAILED(entry.name, describe(err))
  }
}

/** Short hash of a render, signed into the page token to spot a connected render that matches. */
export function renderHash (html: string): string {
  return createHash('sha256').update(html).digest('base64url').slice(0, 22)
}

/** Escapes a string for an HTML attribute value in double quotes. */
export function escapeAttr (value: string): string {
  return value.replace(/[&"<>]/g, (c) => (c === '&' ? '&amp;' : c === '"' ? '&quot;' : c === '<' ? '&lt;' : '&gt;'))
}

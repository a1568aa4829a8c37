import { createHash } from 'node:crypto'
import { errors, describe } from './errors.js'
import type { ViewEntry } from './registry.js'
import type { Templates } from './templates.js'
import type { LiveView } from './view.js'

/**
 * Renders a view's template with its context. Throws FST_LIVEVIEW_CONTEXT_INVALID when
 * `context()` throws or returns a non-object, FST_LIVEVIEW_RENDER_FAILED when the
 * template fails. Synchronous contexts render without a microtask hop.
 */
export function renderView (templates: Templates, entry: ViewEntry, view: LiveView): string | Promise<string> {
  let ctx: object | Promise<object>
  try {
    ctx = view.context()
  } catch (err) {
    throw new errors.CONTEXT_INVALID(entry.name, `threw: ${describe(err)}`)
  }
  const flash = view.flash
  if (ctx instanceof Promise) {
    return ctx.then(
      (value) => renderContext(templates, entry, value, flash),
      (err: unknown) => { throw new errors.CONTEXT_INVALID(entry.name, `rejected: ${describe(err)}`) }
    )
  }
  return renderContext(templates, entry, ctx, flash)
}

function renderContext (templates: Templates, entry: ViewEntry, ctx: unknown, flash: Readonly<Record<string, string>>): string {
  if (ctx === null || typeof ctx !== 'object' || Array.isArray(ctx)) {
    throw new errors.CONTEXT_INVALID(entry.name, `must return an object, got ${Array.isArray(ctx) ? 'an array' : ctx === null ? 'null' : typeof ctx}`)
  }
  try {
    // Templates get the flash as `it.flash`, unless the context has its own.
    return templates.render(entry.template, 'flash' in ctx ? ctx : { flash, ...ctx })
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

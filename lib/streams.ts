import { errors } from './errors.js'
import type { StreamOp } from './protocol.js'
import type { Templates, TemplateFile } from './templates.js'

/**
 * A stream a view declares (`static streams = { feed: 'feed-item' }`, or with a key): the
 * template of one item (it gets `it.item` and `it.key`), and how an item's key is read
 * (default: its `id`).
 */
export type StreamSpec = string | { template: string, key?: string | ((item: any) => string | number) | undefined }

/** Where stream operations put items. */
export interface StreamInsertOptions {
  /** Where: `-1` (default) at the end, `0` at the start, `n` before the n-th item. */
  at?: number | undefined
  /** Items the client keeps at most: `n > 0` the first n (later ones are pruned), `n < 0` the last |n|. Default: all */
  limit?: number | undefined
}

/** Options of `stream(name, items, options)`. */
export interface StreamOptions extends StreamInsertOptions {
  /** Empty the stream first (a new search, say). Default: false */
  reset?: boolean | undefined
}

/** A checked stream declaration. */
export interface StreamEntry { name: string, template: string, key: (item: unknown) => string }

/** Stream names: as event names. */
const STREAM_NAME = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/

/** Checks `static streams`; returns the entries and the item templates' files (for the boot cross-check). */
export function checkStreams (owner: string, declared: unknown, templates: Templates): { streams: Map<string, StreamEntry>, files: TemplateFile[] } {
  const streams = new Map<string, StreamEntry>()
  const files: TemplateFile[] = []
  if (declared === undefined) return { streams, files }
  if (declared === null || typeof declared !== 'object' || Array.isArray(declared)) {
    throw new errors.VIEW_INVALID(owner, "`static streams` must be an object like { feed: 'feed-item' }")
  }
  for (const [name, spec] of Object.entries(declared as Record<string, StreamSpec>)) {
    if (!STREAM_NAME.test(name)) throw new errors.VIEW_INVALID(owner, `stream name '${name}' is not valid (a letter, then letters, digits, _ or -)`)
    const template = typeof spec === 'string' ? spec : spec?.template
    if (typeof template !== 'string' || template === '') throw new errors.VIEW_INVALID(owner, `stream '${name}' needs an item template: { ${name}: 'item-template' }`)
    const key = typeof spec === 'string' ? undefined : spec.key
    if (key !== undefined && typeof key !== 'string' && typeof key !== 'function') throw new errors.VIEW_INVALID(owner, `stream '${name}': key must be a field name or a function`)
    files.push(...templates.check(owner, template))
    streams.set(name, { name, template, key: keyReader(name, key) })
  }
  return { streams, files }
}

function keyReader (name: string, key: string | ((item: any) => string | number) | undefined): (item: unknown) => string {
  const read = typeof key === 'function' ? key : (item: any) => item?.[key ?? 'id']
  return (item) => {
    const k = read(item) as unknown
    if ((typeof k !== 'string' || k === '') && (typeof k !== 'number' || !Number.isFinite(k))) {
      throw new errors.STREAM_INVALID(name, `an item has no key (its ${typeof key === 'function' ? 'key function' : `'${key ?? 'id'}'`} gave ${String(k)})`)
    }
    return String(k)
  }
}

/**
 * Applies one stream operation to lists of items (key, HTML) by stream, as the browser
 * client applies it to a container (client/streams.ts): the HTTP render's items, and the
 * testing API's picture of the page.
 */
export function applyStreamOp (lists: Map<string, Array<[string, string]>>, op: StreamOp): void {
  const list = lists.get(op[0]) ?? []
  lists.set(op[0], list)
  if (op[1] === 'r') {
    list.length = 0
    return
  }
  const i = list.findIndex(([k]) => k === op[2])
  if (op[1] === 'd') {
    if (i !== -1) list.splice(i, 1)
    return
  }
  const [, , key, html, at, limit] = op
  if (i !== -1) list[i] = [key, html]
  else list.splice(at < 0 || at > list.length ? list.length : at, 0, [key, html])
  if (limit > 0 && list.length > limit) list.length = limit
  else if (limit < 0 && list.length > -limit) list.splice(0, list.length + limit)
}

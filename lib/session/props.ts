/**
 * Component props compared by value. A parent may pass the same object again after
 * changing it in place (a card edited by the view), so what a component was rendered with
 * is kept as a snapshot: plain objects and arrays are copied, Dates as their time; anything
 * else (class instances, Maps, functions, an object met again) is kept and compared by
 * reference.
 */

const MAX_DEPTH = 24

class Time { constructor (readonly t: number) {} }
/** Deeper than MAX_DEPTH (or a cycle): kept by reference. */
class Ref { constructor (readonly v: unknown) {} }

const isPlain = (v: object): boolean => {
  const proto = Object.getPrototypeOf(v) as unknown
  return proto === Object.prototype || proto === null
}

/** How many objects one snapshot copies at most; beyond, objects are kept by reference. */
const MAX_NODES = 10_000

/**
 * A copy of `value` to compare later with `sameProps`. An object met twice (shared, or a
 * back reference) is copied once and kept by reference after; so is everything past
 * MAX_NODES objects or MAX_DEPTH levels: the cost stays linear in the props' size.
 */
export function snapshot (value: unknown): unknown {
  return copy(value, 0, { seen: new Set(), nodes: 0 })
}

function copy (value: unknown, depth: number, walk: { seen: Set<object>, nodes: number }): unknown {
  if (value === null || typeof value !== 'object') return value
  if (value instanceof Date) return new Time(value.getTime())
  if (depth >= MAX_DEPTH || walk.seen.has(value) || walk.nodes >= MAX_NODES || (!Array.isArray(value) && !isPlain(value))) return new Ref(value)
  walk.seen.add(value)
  walk.nodes++
  if (Array.isArray(value)) {
    const out = new Array<unknown>(value.length)
    for (let i = 0; i < value.length; i++) out[i] = copy(value[i], depth + 1, walk)
    return out
  }
  const out: Record<string, unknown> = {}
  for (const key of Object.keys(value)) out[key] = copy((value as Record<string, unknown>)[key], depth + 1, walk)
  return out
}

/** True when `value` equals what `snap` was taken of (see `snapshot`). */
export function sameProps (snap: unknown, value: unknown): boolean {
  if (snap === value) return true
  if (snap === null || typeof snap !== 'object' || value === null || typeof value !== 'object') {
    return typeof snap === 'number' && typeof value === 'number' && Number.isNaN(snap) && Number.isNaN(value)
  }
  if (snap instanceof Time) return value instanceof Date && value.getTime() === snap.t
  if (snap instanceof Ref) return snap.v === value
  if (Array.isArray(snap)) {
    if (!Array.isArray(value) || value.length !== snap.length) return false
    for (let i = 0; i < snap.length; i++) if (!sameProps(snap[i], value[i])) return false
    return true
  }
  if (Array.isArray(value) || value instanceof Date || !isPlain(value)) return false
  const a = snap as Record<string, unknown>
  const b = value as Record<string, unknown>
  const keys = Object.keys(a)
  if (keys.length !== Object.keys(b).length) return false
  for (const key of keys) if (!Object.hasOwn(b, key) || !sameProps(a[key], b[key])) return false
  return true
}

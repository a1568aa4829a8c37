/**
 * Component props compared by value. A parent may pass the same object again after
 * changing it in place (a card edited by the view), so what a component was rendered with
 * is kept as a snapshot: plain objects and arrays are copied (to a depth), Dates as their
 * time; anything else (class instances, Maps, functions) is kept and compared by reference.
 */

const MAX_DEPTH = 24

class Time { constructor (readonly t: number) {} }
/** Deeper than MAX_DEPTH (or a cycle): kept by reference. */
class Ref { constructor (readonly v: unknown) {} }

const isPlain = (v: object): boolean => {
  const proto = Object.getPrototypeOf(v) as unknown
  return proto === Object.prototype || proto === null
}

/** A copy of `value` to compare later with `sameProps`. */
export function snapshot (value: unknown, depth = 0): unknown {
  if (value === null || typeof value !== 'object') return value
  if (value instanceof Date) return new Time(value.getTime())
  if (depth >= MAX_DEPTH) return new Ref(value)
  if (Array.isArray(value)) {
    const out = new Array<unknown>(value.length)
    for (let i = 0; i < value.length; i++) out[i] = snapshot(value[i], depth + 1)
    return out
  }
  if (!isPlain(value)) return new Ref(value)
  const out: Record<string, unknown> = {}
  for (const key of Object.keys(value)) out[key] = snapshot((value as Record<string, unknown>)[key], depth + 1)
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

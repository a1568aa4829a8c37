/**
 * Rollback of a view's data fields when a handler fails.
 *
 * A snapshot copies every own enumerable field of the view: primitives as they are;
 * arrays, plain objects, Maps, Sets and Dates deeply; anything else (class instances,
 * functions, timers, connections) by reference, so those are not rolled back.
 */
export type Snapshot = Array<[string, unknown]>

export function snapshot (view: object): Snapshot {
  const seen = new Map<object, unknown>()
  const out: Snapshot = []
  for (const key of Object.keys(view)) out.push([key, copy((view as Record<string, unknown>)[key], seen)])
  return out
}

/** Puts the view's fields back as they were at `snap`; fields added since are removed. */
export function restore (view: object, snap: Snapshot): void {
  const target = view as Record<string, unknown>
  const keep = new Set<string>()
  for (const [key, value] of snap) {
    keep.add(key)
    target[key] = value
  }
  for (const key of Object.keys(target)) if (!keep.has(key)) delete target[key]
}

function copy (value: unknown, seen: Map<object, unknown>): unknown {
  if (value === null || typeof value !== 'object') return value
  const done = seen.get(value)
  if (done !== undefined) return done
  if (Array.isArray(value)) {
    const arr: unknown[] = []
    seen.set(value, arr)
    for (const item of value) arr.push(copy(item, seen))
    return arr
  }
  const proto = Object.getPrototypeOf(value)
  if (proto === Object.prototype || proto === null) {
    const obj: Record<string, unknown> = proto === null ? Object.create(null) : {}
    seen.set(value, obj)
    for (const key of Object.keys(value)) obj[key] = copy((value as Record<string, unknown>)[key], seen)
    return obj
  }
  if (value instanceof Map) {
    const map = new Map()
    seen.set(value, map)
    for (const [k, v] of value) map.set(k, copy(v, seen))
    return map
  }
  if (value instanceof Set) {
    const set = new Set()
    seen.set(value, set)
    for (const v of value) set.add(copy(v, seen))
    return set
  }
  if (value instanceof Date) return new Date(value.getTime())
  return value
}

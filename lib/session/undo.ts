/**
 * The undo log of rollback (see rollback.ts): its entries, how they are replayed, and the
 * registry of tracking proxies (what `unwrap` reads).
 */

/** Every live proxy → its object, across sessions (a proxy can leak from one to another). */
export const RAW = new WeakMap<object, object>()

const OBJECT = Object.prototype

// Undo log entries: [op, target, key, value], four slots each, replayed backwards.
export const PROP = 0 // target[key] = value
export const ABSENT = 1 // delete target[key]
export const DESC = 2 // defineProperty(target, key, value)
export const ENTRIES = 3 // the Map or Set's entries back as they were (value)
export const MAP_SET = 4 // map.set(key, value)
export const UNADD = 5 // map or set: delete(key)
export const TIME = 6 // date.setTime(value)
export const ORDER = 7 // the object's own keys back in this order (value)
export const ARRAY = 8 // the array's elements back as they were (value: a copy)

/** The object behind a proxy (or the value itself). */
export const unwrap = <T>(value: T): T => (value !== null && typeof value === 'object' ? (RAW.get(value) as T | undefined) ?? value : value)

export function trackable (v: object): boolean {
  if (Array.isArray(v)) return Object.isExtensible(v)
  const proto = Object.getPrototypeOf(v)
  return (proto === OBJECT || proto === null || v instanceof Map || v instanceof Set) && Object.isExtensible(v)
}

/**
 * Replaces every proxy inside a value that is about to be stored by its object, so state
 * never holds one. Walks only containers that are not proxies (proxies' objects hold none).
 */
export function unwrapDeep (value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value
  const raw = RAW.get(value)
  if (raw !== undefined) return raw
  if (!trackable(value)) return value
  const stack: object[] = [value]
  const seen = new Set<object>(stack)
  const visit = (v: unknown): unknown => {
    if (v === null || typeof v !== 'object') return v
    const r = RAW.get(v)
    if (r !== undefined) return r
    if (!seen.has(v) && trackable(v)) {
      seen.add(v)
      stack.push(v)
    }
    return v
  }
  while (stack.length > 0) {
    const o = stack.pop() as Record<string | number, unknown>
    if (o instanceof Map) {
      for (const [k, v] of [...o]) {
        const k2 = visit(k)
        const v2 = visit(v)
        if (k2 !== k) o.delete(k)
        if (k2 !== k || v2 !== v) o.set(k2, v2)
      }
    } else if (o instanceof Set) {
      for (const v of [...o]) {
        const v2 = visit(v)
        if (v2 !== v) {
          o.delete(v)
          o.add(v2)
        }
      }
    } else {
      for (const k of Object.keys(o)) {
        const v = o[k]
        const v2 = visit(v)
        if (v2 !== v) o[k] = v2
      }
    }
  }
  return value
}

/** Undoes a message's writes: the log's entries, last first. */
export function replay (log: unknown[]): void {
  for (let i = log.length - 4; i >= 0; i -= 4) {
    const target = log[i + 1] as Record<string | symbol, unknown>
    const key = log[i + 2] as string | symbol
    const value = log[i + 3]
    switch (log[i]) {
      case PROP: Reflect.set(target, key, value, target); break
      case ABSENT: Reflect.deleteProperty(target, key); break
      case DESC: Reflect.defineProperty(target, key, value as PropertyDescriptor); break
      case ENTRIES: restoreEntries(target as unknown as Map<unknown, unknown> | Set<unknown>, value as unknown[][]); break
      case MAP_SET: (target as unknown as Map<unknown, unknown>).set(key, value); break
      case UNADD: (target as unknown as Set<unknown>).delete(key); break
      case TIME: (target as unknown as Date).setTime(value as number); break
      case ORDER: reorder(target, value as Array<string | symbol>); break
      case ARRAY: restoreArray(target as unknown as unknown[], value as unknown[])
    }
  }
}

export function isIndex (key: string): boolean {
  const c = key.charCodeAt(0)
  return c >= 48 && c <= 57 && String(Number(key) >>> 0) === key
}

/** Puts an object's own keys in `order` (the same keys, another order): out and back in. */
export function reorder (target: Record<string | symbol, unknown>, order: Array<string | symbol>): void {
  const descriptors = order.map((key) => Reflect.getOwnPropertyDescriptor(target, key))
  for (const key of order) Reflect.deleteProperty(target, key)
  order.forEach((key, i) => { if (descriptors[i] !== undefined) Reflect.defineProperty(target, key, descriptors[i]!) })
}

/** Puts an array's elements (and holes) back from a copy. */
function restoreArray (target: unknown[], copy: unknown[]): void {
  target.length = copy.length
  for (let i = 0; i < copy.length; i++) {
    if (i in copy) target[i] = copy[i]
    else delete target[i]
  }
}

function restoreEntries (target: Map<unknown, unknown> | Set<unknown>, entries: unknown[][]): void {
  target.clear()
  if (target instanceof Map) for (const [k, v] of entries) target.set(k, v)
  else for (const [v] of entries) target.add(v)
}

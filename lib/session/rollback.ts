/**
 * Rollback of a view's data when a message fails, at the cost of what the message
 * changes, not of the view's size.
 *
 * While a message runs, the view's own fields that hold arrays, plain objects, Maps or
 * Sets hold write-tracking proxies of them; every object read through one is handed out
 * as one too (cached per session, so a row read again costs a lookup). A write through a
 * proxy records the old value in an undo log; a failed message replays the log backwards,
 * then puts the view's own fields back. Dates are handed out as they are, their time
 * noted when read. When the message ends the fields hold the plain objects again, and any
 * proxy stored meanwhile is replaced by its object: state never keeps a proxy.
 *
 * Not tracked (kept by reference, as before): class instances, frozen or non-extensible
 * objects, typed arrays, functions. Search callbacks (`find`, `filter`, `some`, `every`,
 * `findIndex`, …) get the elements themselves, so a search costs what it costs without
 * tracking; a callback that writes to them is not rolled back.
 */
import { ABSENT, ARRAY, DESC, ENTRIES, MAP_SET, ORDER, PROP, RAW, TIME, UNADD, isIndex, reorder, replay, trackable, unwrap, unwrapDeep } from './undo.js'

export { unwrap, unwrapDeep }

const SEARCH = new Set<string | symbol>(['find', 'findIndex', 'findLast', 'findLastIndex', 'some', 'every', 'filter', 'includes', 'indexOf', 'lastIndexOf'])
// Array methods that move many elements: run on the array itself, after one copy of it
// (a write through the proxy per moved element would cost more than the copy).
const SHIFTERS = new Set<string | symbol>(['splice', 'shift', 'unshift', 'sort', 'reverse', 'fill', 'copyWithin'])
const MUTATORS = new Set<string | symbol>(['set', 'add', 'delete', 'clear'])
const ITERATORS = new Set<string | symbol>(['entries', 'values', 'keys', Symbol.iterator])

/**
 * One session's write tracking. `begin` before a message, `seal` once its handlers are done
 * (before the render reads the plain objects), then `commit` or `rollback`.
 */
export class Tracker {
  /** Object → its proxy, kept across messages (a weak map: it holds no object alive). */
  readonly #proxies = new WeakMap<object, object>()
  #active = false
  /** A message is being tracked (begun, not yet committed or rolled back). */
  #open = false
  #log: unknown[] = []
  #keys: string[] = []
  #values: unknown[] = []
  /** What this message noted once already: a Map's or Set's entries, an object's key order, an array's copy, a Date's time. */
  #noted: Set<object> | undefined
  readonly #objects: ProxyHandler<object>
  readonly #collections: ProxyHandler<Map<unknown, unknown> | Set<unknown>>

  constructor () {
    const self = this
    this.#objects = {
      get (target, key, receiver) {
        const v = Reflect.get(target, key, receiver) as unknown
        // Most reads are of primitives: they go first.
        if (typeof v !== 'object' || v === null) {
          if (typeof v !== 'function' || !self.#active || !Array.isArray(target)) return v
          if (SEARCH.has(key)) return self.#search(target, key, v as (...a: unknown[]) => unknown)
          return SHIFTERS.has(key) ? self.#shift(target, key, v as (...a: unknown[]) => unknown) : v
        }
        if (!self.#active) return v
        const w = self.wrap(v)
        // A proxy must give a read-only, non-configurable property's own value.
        if (w !== v && !Array.isArray(target)) {
          const d = Reflect.getOwnPropertyDescriptor(target, key)
          if (d !== undefined && d.configurable === false && d.writable === false) return v
        }
        return w
      },
      set (target, key, value) {
        if (self.#active) {
          if (Array.isArray(target)) self.#noteLength(target, key, value)
          self.#note(target, key)
          return Reflect.set(target, key, unwrapDeep(value), target)
        }
        return Reflect.set(target, key, unwrap(value), target)
      },
      deleteProperty (target, key) {
        if (self.#active && Object.prototype.hasOwnProperty.call(target, key)) {
          // A key put back later goes last: keep the order keys came in, once per message.
          if (!Array.isArray(target) && self.#first(target)) self.#log.push(ORDER, target, undefined, Reflect.ownKeys(target))
          self.#note(target, key)
        }
        return Reflect.deleteProperty(target, key)
      },
      defineProperty (target, key, desc) {
        if (self.#active) {
          if (Array.isArray(target)) self.#noteLength(target, key, desc.value)
          const old = Reflect.getOwnPropertyDescriptor(target, key)
          self.#log.push(old === undefined ? ABSENT : DESC, target, key, old)
          if ('value' in desc) desc = { ...desc, value: unwrapDeep(desc.value) }
        }
        return Reflect.defineProperty(target, key, desc)
      }
    }
    this.#collections = {
      get (target, key) {
        // Map and Set methods need the collection itself as `this`.
        const v = Reflect.get(target, key, target) as unknown
        if (typeof v !== 'function') return v
        return self.#method(target, key, v as (...a: unknown[]) => unknown)
      }
    }
  }

  /** The tracking proxy of `value` (itself when it is not tracked). */
  wrap<T> (value: T): T {
    if (value === null || typeof value !== 'object') return value
    // One lookup for what was read before: its proxy (or itself, when it is not tracked).
    const cached = this.#proxies.get(value)
    if (cached !== undefined) return cached as T
    const v = value as object
    const raw = RAW.get(v)
    if (raw !== undefined) return this.wrap(raw as T)
    if (v instanceof Date) {
      if (this.#active && this.#first(v)) this.#log.push(TIME, v, undefined, v.getTime())
      return v as T
    }
    if (!trackable(v)) {
      this.#proxies.set(v, v)
      return v as T
    }
    const proxy = new Proxy(v, v instanceof Map || v instanceof Set ? this.#collections as ProxyHandler<object> : this.#objects)
    this.#proxies.set(v, proxy)
    RAW.set(proxy, v)
    return proxy as T
  }

  /** Starts tracking: notes the view's own fields and puts proxies in them. */
  begin (view: object): void {
    const target = view as Record<string, unknown>
    this.#active = true
    this.#open = true
    const keys = this.#keys = Object.keys(target)
    const values = this.#values = new Array<unknown>(keys.length)
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i] as string
      const v = target[key]
      values[i] = v
      if (v !== null && typeof v === 'object') {
        const w = this.wrap(v)
        if (w !== v) Reflect.set(target, key, w)
      }
    }
  }

  /** Stops tracking: the view's fields hold plain objects again (what the render reads). */
  seal (view: object): void {
    if (!this.#active) return
    this.#active = false
    const target = view as Record<string, unknown>
    const keys = this.#keys
    const values = this.#values
    for (const key of Object.keys(target)) {
      const v = target[key]
      if (v === null || typeof v !== 'object') continue
      const i = keys.indexOf(key)
      const raw = RAW.get(v)
      if (raw !== undefined) Reflect.set(target, key, raw)
      else if (i === -1 || values[i] !== v) Reflect.set(target, key, unwrapDeep(v))
    }
  }

  /** Keeps what the message did. */
  commit (): void {
    this.#active = false
    this.#open = false
    this.#log.length = 0
    this.#values = this.#keys = []
    this.#noted = undefined
  }

  /** Puts everything the message changed back as it was before `begin`. */
  rollback (view: object): void {
    if (!this.#open) return
    this.#active = false
    replay(this.#log)
    const fields = view as Record<string, unknown>
    const keys = this.#keys
    for (let i = 0; i < keys.length; i++) Reflect.set(fields, keys[i] as string, this.#values[i])
    for (const key of Object.keys(fields)) if (!keys.includes(key)) Reflect.deleteProperty(fields, key)
    const now = Object.keys(fields)
    if (now.some((key, i) => key !== keys[i])) reorder(fields, keys)
    this.commit()
  }

  #first (o: object): boolean {
    const noted = this.#noted ??= new Set()
    if (noted.has(o)) return false
    noted.add(o)
    return true
  }

  /**
   * An array's length changes with writes to it: a shorter length drops elements (each is
   * noted), an index past the end grows it (the old length is noted first).
   */
  #noteLength (target: unknown[], key: string | symbol, value: unknown): void {
    if (this.#noted?.has(target) === true) return
    if (key === 'length') {
      for (let i = target.length - 1; i >= (value as number); i--) this.#note(target, String(i))
    } else if (typeof key === 'string' && isIndex(key) && Number(key) >= target.length) {
      this.#log.push(PROP, target, 'length', target.length)
    }
  }

  #note (target: object, key: string | symbol): void {
    // An array copied whole this message needs no more notes: the copy puts it back.
    if (Array.isArray(target) && this.#noted?.has(target) === true) return
    const t = target as Record<string | symbol, unknown>
    if (Object.prototype.hasOwnProperty.call(t, key)) this.#log.push(PROP, target, key, t[key])
    else this.#log.push(ABSENT, target, key, undefined)
  }

  /**
   * A search method of an array, run on the array itself (no trap per index): its callback
   * still gets the elements as every other read does (tracked, so `===` holds between them),
   * a value searched for is compared as the object it stands for, and what it finds comes
   * back tracked.
   */
  #search (target: unknown[], key: string | symbol, fn: (...a: unknown[]) => unknown): (...a: unknown[]) => unknown {
    return (...args: unknown[]) => {
      if (!this.#active) return fn.apply(target, args)
      if (key === 'includes' || key === 'indexOf' || key === 'lastIndexOf') {
        args[0] = unwrap(args[0])
        return fn.apply(target, args)
      }
      const cb = args[0] as (e: unknown, i: number, a: unknown) => unknown
      const thisArg = args[1]
      const proxy = this.wrap(target)
      const proxies = this.#proxies
      const r = fn.call(target, (e: unknown, i: number) => cb.call(thisArg, typeof e === 'object' && e !== null ? proxies.get(e) ?? this.wrap(e) : e, i, proxy))
      return key === 'find' || key === 'findLast' || key === 'filter' ? this.wrap(r) : r
    }
  }

  /** An array method that moves many elements: one copy of the array, then the method on the array itself. */
  #shift (target: unknown[], key: string | symbol, fn: (...a: unknown[]) => unknown): (...a: unknown[]) => unknown {
    return (...args: unknown[]) => {
      if (!this.#active) return fn.apply(target, args)
      if (this.#first(target)) this.#log.push(ARRAY, target, undefined, target.slice())
      if (key === 'splice') for (let i = 2; i < args.length; i++) args[i] = unwrapDeep(args[i])
      else if (key === 'unshift' || key === 'fill') args = args.map((a, i) => key === 'fill' && i > 0 ? a : unwrapDeep(a))
      const r = fn.apply(target, args)
      // sort, reverse, fill, copyWithin return the array; splice the removed elements; shift one.
      return r === target ? this.wrap(target) : this.wrap(r)
    }
  }

  /** A method of a tracked Map or Set, called on the collection itself, noting what changes. */
  #method (target: Map<unknown, unknown> | Set<unknown>, key: string | symbol, fn: (...a: unknown[]) => unknown): (...a: unknown[]) => unknown {
    const self = this
    if (!this.#active) return fn.bind(target)
    if (MUTATORS.has(key)) {
      return function (this: unknown, ...args: unknown[]) {
        const k = unwrap(args[0])
        if (self.#active) {
          const had = target.has(k)
          if (key === 'set' || key === 'add') {
            if (!had) self.#log.push(UNADD, target, k, undefined)
            else if (key === 'set') self.#log.push(MAP_SET, target, k, (target as Map<unknown, unknown>).get(k))
          } else if ((key === 'clear' ? target.size > 0 : had) && self.#first(target)) {
            // A removal changes the order the entries come back in: keep them all, once.
            self.#log.push(ENTRIES, target, undefined, [...target.entries()])
          }
        }
        // What is stored holds no proxy, however deep (a key and a Set's value too).
        const r = key === 'set'
          ? (target as Map<unknown, unknown>).set(unwrapDeep(k), unwrapDeep(args[1]))
          : key === 'add' ? (target as Set<unknown>).add(unwrapDeep(k)) : fn.apply(target, [k])
        return r === target ? this : r
      }
    }
    if (key === 'get') return (k: unknown) => this.wrap((target as Map<unknown, unknown>).get(unwrap(k)))
    if (key === 'has') return (k: unknown) => target.has(unwrap(k))
    if (key === 'forEach') {
      return (cb: unknown, thisArg?: unknown) => {
        const proxy = this.wrap(target)
        target.forEach((v: unknown, k: unknown) => { (cb as (v: unknown, k: unknown, c: unknown) => void).call(thisArg, this.wrap(v), this.wrap(k), proxy) })
      }
    }
    if (ITERATORS.has(key)) {
      return function * () {
        for (const item of fn.call(target) as Iterable<unknown>) {
          yield Array.isArray(item) ? [self.wrap(item[0]), self.wrap(item[1])] : self.wrap(item)
        }
      }
    }
    return fn.bind(target)
  }
}


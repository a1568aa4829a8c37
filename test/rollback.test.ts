// Rollback (lib/session/rollback.ts): a failed message puts the view's data back exactly as
// it was (values, identities, order), at the cost of what it changed; a successful one
// leaves no proxy in the state.
import t from 'tap'
import { isDeepStrictEqual, types } from 'node:util'
import { Tracker, unwrap } from '../lib/session/rollback.js'
import { LiveView, defineEvents } from '../plugin.js'
import { mountView } from '../testing.js'
import { viewsRoot } from './helpers.js'

/** A small seeded generator, so a failing case can be replayed. */
function rng (seed: number): () => number {
  let s = seed >>> 0
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0
    return s / 2 ** 32
  }
}

type Random = () => number
const pick = <T>(r: Random, list: T[]): T => list[Math.floor(r() * list.length)] as T

function randomValue (r: Random, depth: number): unknown {
  const k = r()
  if (depth > 3 || k < 0.35) return pick(r, [1, 'x', true, null, undefined, 2.5, ''])
  if (k < 0.55) return Array.from({ length: Math.floor(r() * 4) }, () => randomValue(r, depth + 1))
  if (k < 0.75) return Object.fromEntries(Array.from({ length: Math.floor(r() * 4) }, (_, i) => [`k${i}`, randomValue(r, depth + 1)]))
  if (k < 0.85) return new Map(Array.from({ length: Math.floor(r() * 3) }, (_, i) => [`m${i}`, randomValue(r, depth + 1)]))
  if (k < 0.93) return new Set(Array.from({ length: Math.floor(r() * 3) }, (_, i) => `s${i}`))
  return new Date(1_700_000_000_000 + Math.floor(r() * 1e6))
}

/** Every container reachable from `root`, through whatever reads it (proxies or not). */
function containers (root: unknown): object[] {
  const out: object[] = []
  const seen = new Set<unknown>()
  const walk = (v: unknown): void => {
    if (v === null || typeof v !== 'object' || seen.has(v)) return
    seen.add(v)
    out.push(v)
    if (v instanceof Map) for (const x of v.values()) walk(x)
    else if (!(v instanceof Set) && !(v instanceof Date)) for (const x of Object.values(v)) walk(x)
  }
  walk(root)
  return out
}

/** One random write to something reachable from the view, through the tracked fields. */
function mutate (r: Random, view: Record<string, unknown>): void {
  const targets = containers(view)
  const target = pick(r, targets) as Record<string, unknown>
  const op = r()
  if (target === view && op < 0.2) {
    view[`f${Math.floor(r() * 4)}`] = randomValue(r, 2)
  } else if (target instanceof Map) {
    const keys = [...target.keys()]
    if (op < 0.4) target.set(`m${Math.floor(r() * 4)}`, randomValue(r, 3))
    else if (op < 0.7 && keys.length > 0) target.delete(pick(r, keys))
    else if (op < 0.8) target.clear()
    else (target.get(pick(r, keys)) as unknown)
  } else if (target instanceof Set) {
    if (op < 0.5) target.add(`s${Math.floor(r() * 5)}`)
    else if (op < 0.8) target.delete(pick(r, [...target]))
    else target.clear()
  } else if (target instanceof Date) {
    target.setTime(target.getTime() + 1000)
  } else if (Array.isArray(target)) {
    const a = target as unknown[]
    if (op < 0.2) a.push(randomValue(r, 3))
    else if (op < 0.3) a.pop()
    else if (op < 0.4) a.splice(Math.floor(r() * (a.length + 1)), Math.floor(r() * 2), randomValue(r, 3))
    else if (op < 0.5) a.reverse()
    else if (op < 0.6) a.length = Math.floor(r() * a.length)
    else if (op < 0.7) a.sort()
    else if (op < 0.75) a[Math.floor(r() * (a.length + 2))] = randomValue(r, 3)
    else if (op < 0.8) a.unshift(randomValue(r, 3))
    else if (op < 0.85) a.fill(randomValue(r, 3), Math.floor(r() * a.length))
    else if (op < 0.9) a.copyWithin(0, Math.floor(r() * a.length))
    else a.shift()
  } else {
    const keys = Object.keys(target)
    if (op < 0.5) target[`k${Math.floor(r() * 5)}`] = randomValue(r, 3)
    else if (op < 0.8 && keys.length > 0) delete target[pick(r, keys)]
    else Object.defineProperty(target, `d${Math.floor(r() * 3)}`, { value: randomValue(r, 3), enumerable: true, configurable: true, writable: true })
  }
}

/** A deep copy that reads through whatever it is given (proxies too). */
function copy (v: unknown): unknown {
  if (v === null || typeof v !== 'object') return v
  if (v instanceof Date) return new Date(v.getTime())
  if (v instanceof Map) return new Map([...v].map(([k, x]) => [k, copy(x)]))
  if (v instanceof Set) return new Set([...v].map(copy))
  if (Array.isArray(v)) {
    const out: unknown[] = new Array(v.length)
    for (const k of Object.keys(v)) out[Number(k)] = copy(v[Number(k)])
    return out
  }
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, copy(x)]))
}

/** The view's data as it is: values, and which containers are the same object. */
function picture (view: object): { clone: unknown, identities: object[] } {
  return { clone: structuredClone(Object.fromEntries(Object.entries(view).map(([k, v]) => [k, unwrap(v)]))), identities: containers(view) }
}

const CASES = process.env.LV_QUICK === '1' ? 300 : 2000

t.test(`a failed message puts back every value, identity and order it changed (${CASES} random cases)`, async (t) => {
  let failures = 0
  for (let seed = 1; seed <= CASES; seed++) {
    const r = rng(seed)
    const view: Record<string, unknown> = { f0: randomValue(r, 0), f1: randomValue(r, 0), f2: randomValue(r, 1), shared: undefined }
    view.shared = view.f1 // the same object reachable twice
    const before = picture(view)
    const tracker = new Tracker()
    tracker.begin(view)
    const steps = 1 + Math.floor(r() * 6)
    for (let i = 0; i < steps; i++) mutate(r, view)
    if (r() < 0.5) tracker.seal(view)
    tracker.rollback(view)
    const after = picture(view)
    const same = isDeepStrictEqual(after.clone, before.clone) &&
      before.identities.length === after.identities.length &&
      before.identities.every((o, i) => o === after.identities[i]) &&
      !containers(view).some((o) => types.isProxy(o))
    if (!same && failures++ < 3) t.fail(`seed ${seed}: ${JSON.stringify(before.clone)} became ${JSON.stringify(after.clone)}`)
  }
  t.equal(failures, 0, 'every case restored')
})

t.test('a successful message keeps its changes and leaves no proxy in the state', async (t) => {
  let failures = 0
  for (let seed = 1; seed <= 500; seed++) {
    const r = rng(seed)
    const view: Record<string, unknown> = { f0: randomValue(r, 0), f1: randomValue(r, 0) }
    const tracker = new Tracker()
    tracker.begin(view)
    for (let i = 0; i < 4; i++) mutate(r, view)
    // What a handler reads is stored elsewhere in the state: a proxy must not stay there.
    view.copy = [view.f0, view.f1, { nested: view.f0 }]
    const expected = copy(view)
    tracker.seal(view)
    tracker.commit()
    const proxied = containers(view).some((o) => types.isProxy(o))
    const same = !proxied && isDeepStrictEqual(structuredClone(view), expected)
    if (!same && failures++ < 3) t.fail(`seed ${seed}: ${proxied ? 'a proxy stayed' : `${JSON.stringify(structuredClone(view))} expected ${JSON.stringify(expected)}`}`)
  }
  t.equal(failures, 0)
})

t.test('rollback through a session: a handler that changes one row of 10,000 and throws; shared objects stay shared', async (t) => {
  class Rows extends LiveView {
    static template = 'count'
    static events = defineEvents<Rows>({ edit: true, fail: true, drop: true })
    rows = Array.from({ length: 10000 }, (_, id) => ({ id, qty: 0, tags: new Set<string>() }))
    selected = this.rows[5]!
    byId = new Map(this.rows.map((row) => [row.id, row]))
    edit (): void {
      const row = this.rows.find((r) => r.id === 5)!
      row.qty++
      row.tags.add('edited')
    }

    fail (): void {
      this.edit()
      this.byId.delete(7)
      this.rows = this.rows.filter((r) => r.id !== 9)
      throw new Error('no')
    }

    drop (): void { this.rows = this.rows.filter((r) => r.id !== 9) }
    context () { return { count: this.selected.qty } }
  }
  const page = await mountView(Rows, { root: viewsRoot })
  t.teardown(() => page.close())
  const view = page.view as Rows
  const rows = view.rows
  ;(await page.event('edit')).assertChanged()
  page.assertText('#count', '1')
  ;(await page.event('fail')).assertError('FST_LIVEVIEW_HANDLER_FAILED')
  t.equal(view.rows, rows, 'the same array')
  t.equal(view.rows.length, 10000)
  t.equal(view.selected, view.rows[5], 'still one object in two fields')
  t.equal(view.selected.qty, 1)
  t.same([...view.selected.tags], ['edited'])
  t.ok(view.byId.has(7), 'the Map entry is back')
  t.same([...view.byId.keys()].slice(0, 9), [0, 1, 2, 3, 4, 5, 6, 7, 8], 'in its order')
  page.assertText('#count', '1')
  await page.event('drop')
  t.equal(view.rows.length, 9999)
  t.notOk(types.isProxy(view.rows), 'a filtered array is stored as a plain array')
  t.notOk(view.rows.some((r) => types.isProxy(r)), 'holding plain rows')
  t.equal(view.rows[5], view.selected, 'the same rows as before')
})

t.test('inside a handler, every read hands out the same objects: search callbacks, results and fields compare with ===', async (t) => {
  const tracker = new Tracker()
  const a = { id: 1 }
  const b = { id: 2 }
  const c = { id: 3 }
  const view: Record<string, unknown> = { todos: [a, b, c], selected: b, picked: new Set(), byKey: new Map() }
  tracker.begin(view)
  const todos = view.todos as Array<{ id: number }>
  const found = todos.find((x) => x.id === 2)!
  t.equal(found, view.selected, 'find gives what the field gives')
  t.equal(todos.findIndex((x) => x === found), 1, 'a callback sees the same object')
  t.ok(todos.some((x) => x === view.selected))
  t.equal(todos.filter((x) => x !== found).length, 2, 'filter with !== removes it')
  t.equal(todos.indexOf(found), 1)
  t.ok(todos.includes(found))
  ;(view.picked as Set<unknown>).add({ row: todos[0] })
  ;(view.byKey as Map<unknown, unknown>).set({ row: todos[2] }, [todos[1]])
  tracker.seal(view)
  tracker.commit()
  const stored = [...(view.picked as Set<{ row: unknown }>)][0]!
  t.equal(stored.row, a, 'a Set keeps no proxy inside what it holds')
  const [[key, value]] = [...(view.byKey as Map<{ row: unknown }, unknown[]>)] as Array<[{ row: unknown }, unknown[]]>
  t.equal(key!.row, c, 'nor a Map inside its keys')
  t.equal(value![0], b, 'or values')
  t.notOk(types.isProxy(view.todos))
})

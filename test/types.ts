// Type tests: checked by `tsc --noEmit` in `npm test` (tap itself does not type-check).
// Each `@ts-expect-error` fails the build if the line below it stops being an error.
import Fastify from 'fastify'
import { Type } from '@sinclair/typebox'
import liveview, {
  LiveView, defineEvents, errors,
  type ContextOf, type DomParams, type EventParams, type HandlerName, type LiveViewErrorCode, type LiveViewOptions, type Params, type ParamsOf
} from '../plugin.js'

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2) ? true : false
function expectType<T extends true> (): T | undefined { return undefined }

class Counter extends LiveView {
  static template = 'counter'
  static events = defineEvents<Counter>({ inc: true, set: { schema: { type: 'object', properties: { n: { type: 'integer' } }, required: ['n'] } } })
  count = 0
  mount (params: Params): void { this.count = Number(params.start ?? 0) }
  inc (): void { this.count++ }
  set (params: { n: number }): void { this.count = params.n }
  context () { return { count: this.count } }
}

expectType<Equal<HandlerName<Counter>, 'inc' | 'set'>>()
expectType<Equal<EventParams<Counter, 'set'>, { n: number }>>()
expectType<Equal<EventParams<Counter, 'inc'>, Record<string, unknown>>>()
expectType<Equal<ContextOf<Counter>, { count: number }>>()

class AsyncContext extends LiveView {
  static template = 'x'
  async context () { return { items: ['a'] } }
}
expectType<Equal<ContextOf<AsyncContext>, { items: string[] }>>()

defineEvents<Counter>({ inc: true })
// @ts-expect-error: 'nope' is not a method of Counter
defineEvents<Counter>({ nope: true })
// @ts-expect-error: 'count' is a field, not a handler
defineEvents<Counter>({ count: true })
// @ts-expect-error: lifecycle methods are not events
defineEvents<Counter>({ mount: true })
// @ts-expect-error: a spec is true or { schema }
defineEvents<Counter>({ inc: 'yes' })

// Typed events end to end: a handler's params type and its declaration cannot disagree.
const Add = { type: 'object', properties: { by: { type: 'integer', minimum: 1 }, note: { type: 'string' }, tags: { type: 'array', items: { type: 'string' } }, mode: { enum: ['a', 'b'] } }, required: ['by'] } as const
expectType<Equal<ParamsOf<typeof Add>, { by: number, note?: string, tags?: string[], mode?: 'a' | 'b' }>>()
expectType<Equal<ParamsOf<{ type: ['string', 'null'] }>, string | null>>()
const Move = Type.Object({ from: Type.Integer(), to: Type.Integer() })
expectType<Equal<ParamsOf<typeof Move>, { from: number, to: number }>>()

class Typed extends LiveView {
  static template = 'x'
  static events = defineEvents<Typed>({
    add: { schema: Add }, // a const schema, the handler's type derived from it
    move: { schema: Move }, // TypeBox
    inline: { schema: { type: 'object', properties: { id: { type: 'integer' } }, required: ['id'] } },
    dom: true, // what bindings send: strings
    picked: true,
    fromHook: { hook: true }, // what a hook's pushEvent sends: anything JSON
    ping: true // no params at all
  })

  add (params: ParamsOf<typeof Add>): void { void params.by.toFixed() }
  move (params: { from: number, to: number }): void { void params }
  inline (params: { id: number }): void { void params }
  dom (params: DomParams): void { void params }
  picked (params: { id?: string | string[] }): void { void params }
  fromHook (payload: unknown): void { void payload }
  ping (): void {}
  context () { return {} }
}

class Wrong extends LiveView {
  static template = 'x'
  remove (params: { id: number }): void { void params }
  named (params: { id: string }): void { void params }
  context () { return {} }
}
// @ts-expect-error: without a schema, lv-value-id="1" arrives as the string "1", not a number
defineEvents<Wrong>({ remove: true })
// @ts-expect-error: without a schema, a field may arrive as a list (repeated names) or be missing
defineEvents<Wrong>({ named: true })
// @ts-expect-error: a hook's pushEvent may send anything: the handler must take unknown
defineEvents<Wrong>({ remove: { hook: true } })
// @ts-expect-error: the schema says string, the handler number
defineEvents<Wrong>({ remove: { schema: { type: 'object', properties: { id: { type: 'string' } }, required: ['id'] } } })
// @ts-expect-error: the handler needs id, the schema does not require anything
defineEvents<Wrong>({ remove: { schema: { type: 'object', properties: { id: { type: 'integer' } } } } })
// @ts-expect-error: a TypeBox schema of another shape
defineEvents<Wrong>({ remove: { schema: Move } })
// @ts-expect-error: a schema written without `as const` has lost its types (type: string)
defineEvents<Wrong>({ remove: { schema: { type: 'object', properties: { id: { type: 'integer' } }, required: ['id'] } as Record<string, unknown> } })
defineEvents<Wrong>({ remove: { schema: Type.Object({ id: Type.Integer() }) }, named: { schema: { type: 'object', properties: { id: { type: 'string' } }, required: ['id'] } } })

class Holes extends LiveView {
  static template = 'x'
  dom (params: DomParams): void { void params }
  optional (params?: { id: number }): void { void params }
  nullable (params: { id: number } | null): void { void params }
  mixed (params: { v: string | number }): void { void params }
  dir (params: { dir: 'up' | 'down' }): void { void params }
  ids (params: { ids: number[] }): void { void params }
  loose (params: Record<string, unknown>): void { void params }
  context () { return {} }
}
// @ts-expect-error: { hook: true } sends any JSON, not strings
defineEvents<Holes>({ dom: { hook: true } })
// @ts-expect-error: an optional params object is still checked against the schema
defineEvents<Holes>({ optional: { schema: { type: 'string' } } })
// @ts-expect-error: so is a nullable one
defineEvents<Holes>({ nullable: { schema: { type: 'object', properties: { id: { type: 'string' } }, required: ['id'] } } })
// @ts-expect-error: a union of primitives cannot be checked against a JSON literal (use TypeBox)
defineEvents<Holes>({ mixed: { schema: { type: 'object', properties: { v: { type: 'boolean' } }, required: ['v'] } } })
// @ts-expect-error: a literal union needs enum (or const), not the plain type
defineEvents<Holes>({ dir: { schema: { type: 'object', properties: { dir: { type: 'string' } }, required: ['dir'] } } })
// @ts-expect-error: properties must be given when the handler reads keys
defineEvents<Holes>({ optional: { schema: { type: 'object', required: ['id'] } } })
// @ts-expect-error: an array needs its items' schema
defineEvents<Holes>({ ids: { schema: { type: 'object', properties: { ids: { type: 'array' } }, required: ['ids'] } } })
defineEvents<Holes>({
  dom: true,
  optional: { schema: { type: 'object', properties: { id: { type: 'integer' } }, required: ['id'] } },
  nullable: { schema: { type: 'object', properties: { id: { type: 'integer' } }, required: ['id'] } },
  mixed: { schema: Type.Object({ v: Type.Union([Type.String(), Type.Number()]) }) },
  dir: { schema: { type: 'object', properties: { dir: { enum: ['up', 'down'] } }, required: ['dir'] } },
  ids: { schema: { type: 'object', properties: { ids: { type: 'array', items: { type: 'integer' } } }, required: ['ids'] } },
  loose: { schema: { type: 'object' } }
})
void Typed

class NotAnObject extends LiveView {
  static template = 'x'
  // @ts-expect-error: context() must return an object
  context () { return 42 }
}

const app = Fastify()
const options: LiveViewOptions = { root: 'views', secret: ['a', 'b'], limits: { mailbox: 10 } }
// @ts-expect-error: unknown limit
const badLimits: LiveViewOptions = { limits: { mailbxo: 10 } }
void app.register(liveview, options)
app.liveView('/counter', Counter).liveView('/other', AsyncContext)
app.liveView('/guarded', Counter, { liveSession: 'admin', onRequest: async (request) => { void request.headers.cookie } })
// @ts-expect-error: the route options are Fastify's (typed), not any
app.liveView('/typo', Counter, { onRequset: async () => {} })
// @ts-expect-error: liveSession is a name
app.liveView('/bad', Counter, { liveSession: 1 })
app.liveView('/admin', Counter, { layout: 'admin' }).liveView('/bare', Counter, { layout: false })
// @ts-expect-error: a layout is a template name or false
app.liveView('/bad-layout', Counter, { layout: true })
class Plain { static template = 'x' }
// @ts-expect-error: a view class must extend LiveView
app.liveView('/plain', Plain)

const code: LiveViewErrorCode = new errors.EVENT_UNKNOWN('V', 'e').code
// @ts-expect-error: error codes are a closed set
const wrong: LiveViewErrorCode = 'FST_LIVEVIEW_NOPE'
void [NotAnObject, badLimits, code, wrong]

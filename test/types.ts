// Type tests: checked by `tsc --noEmit` in `npm test` (tap itself does not type-check).
// Each `@ts-expect-error` fails the build if the line below it stops being an error.
import Fastify from 'fastify'
import liveview, {
  LiveView, defineEvents, errors,
  type ContextOf, type EventParams, type HandlerName, type LiveViewErrorCode, type LiveViewOptions, type Params
} from '../plugin.js'

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2) ? true : false
function expectType<T extends true> (): T | undefined { return undefined }

class Counter extends LiveView {
  static template = 'counter'
  static events = defineEvents<Counter>({ inc: true, set: { schema: { type: 'object' } } })
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
class Plain { static template = 'x' }
// @ts-expect-error: a view class must extend LiveView
app.liveView('/plain', Plain)

const code: LiveViewErrorCode = new errors.EVENT_UNKNOWN('V', 'e').code
// @ts-expect-error: error codes are a closed set
const wrong: LiveViewErrorCode = 'FST_LIVEVIEW_NOPE'
void [NotAnObject, badLimits, code, wrong]

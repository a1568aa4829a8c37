// Async work (lib/session/async.ts): assignAsync / startAsync run outside the mailbox, their
// results come back through it; loading and failed states; cancel, abort and rollback.
import t from 'tap'
import Fastify from 'fastify'
import liveview, { AsyncResult, LiveView, defineEvents } from '../plugin.js'
import { LiveTestError, mountView } from '../testing.js'

const root = new URL('./fixtures/async/', import.meta.url)

interface Call { resolve: (v: number) => void, reject: (e: unknown) => void, signal: AbortSignal }
let calls: Call[] = []
const load = (signal: AbortSignal): Promise<number> => new Promise((resolve, reject) => { calls.push({ resolve, reject, signal }) })
const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

class Dash extends LiveView {
  static template = 'dash'
  static events = defineEvents<Dash>({ inc: true, reload: true, boom: true, cancel: true, start: true, cancelThenThrow: { hook: true } })
  a: AsyncResult<number> = AsyncResult.loading()
  n = 0
  got = ''
  mount (): void { this.assignAsync('a', load, { abortOnPatch: true }) }
  handleParams (): void {}
  inc (): void { this.n++ }
  reload (): void { this.assignAsync('a', load) }
  boom (): void {
    this.assignAsync('a', load)
    throw new Error('no')
  }

  cancel (): void { this.cancelAsync('a') }
  cancelThenThrow (): void {
    this.cancelAsync('a')
    throw new Error('no')
  }

  start (): void { this.startAsync('job', async () => 'done') }
  handleAsync (name: string, result: AsyncResult<unknown>): void { this.got = `${name}:${result.status}:${String(result.status === 'ok' ? result.value : '')}` }
  context (): object { return { a: this.a, n: this.n, got: this.got } }
}

const open = async (t: { teardown: (fn: () => Promise<void>) => void }) => {
  calls = []
  const page = await mountView(Dash, { root, path: '/dash' })
  t.teardown(() => page.close())
  await tick()
  return page
}

t.test('the template shows loading, events run while the work is pending, the result re-renders', async (t) => {
  const page = await open(t)
  t.equal(page.text('#a'), 'loading')
  t.equal(calls.length, 1, 'the work ran once: on join (the HTTP render showed loading without running it)')
  await page.click('#inc')
  await page.click('#inc')
  t.equal(page.text('#n'), '2', 'events are not held by the pending work')
  calls[0]!.resolve(42)
  const updates = await page.settleAsync()
  t.equal(updates.length, 1, 'one update')
  t.equal(page.text('#a'), 'ok 42')
  await page.click('#reload')
  t.equal(page.text('#a'), 'loading 42', 'reloading keeps the last value')
  calls[1]!.reject(new Error('db down'))
  await page.settleAsync()
  t.equal(page.text('#a'), 'failed db down')
})

t.test('a handler that throws never starts its work; loading again aborts the one before', async (t) => {
  const page = await open(t)
  const failed = await page.click('#boom')
  t.equal(failed.error?.code, 'FST_LIVEVIEW_HANDLER_FAILED')
  t.equal(calls.length, 1, 'the failed handler started nothing')
  t.equal(page.text('#a'), 'loading')
  await page.click('#reload')
  t.equal(calls.length, 2)
  t.ok(calls[0]!.signal.aborted, 'the first load was aborted')
  calls[0]!.resolve(1)
  calls[1]!.resolve(2)
  await page.settleAsync()
  t.equal(page.text('#a'), 'ok 2', 'only the last result shows')
})

t.test('cancelAsync aborts and drops the result; a patch aborts work that asked for it; the end of the view aborts the rest', async (t) => {
  const page = await open(t)
  await page.click('#cancel')
  t.ok(calls[0]!.signal.aborted)
  t.equal(page.text('#a'), 'failed cancelled', 'a cancelled load shows failed (its error: the abort reason)')
  calls[0]!.resolve(5)
  await page.settleAsync()
  t.equal(page.text('#a'), 'failed cancelled', 'its result was dropped')
  await page.click('#reload')
  await page.patch('/dash?p=3')
  t.notOk(calls[1]!.signal.aborted, 'reload did not ask for abortOnPatch')
  const page2 = await open(t)
  await page2.click('#page2')
  t.ok(calls[0]!.signal.aborted, "mount's work asked for abortOnPatch")
  t.equal(page2.text('#a'), 'failed the URL changed')
})

t.test('cancelAsync in a handler that throws cancels nothing', async (t) => {
  const page = await open(t)
  const failed = await page.event('cancelThenThrow')
  t.equal(failed.error?.code, 'FST_LIVEVIEW_HANDLER_FAILED')
  t.notOk(calls[0]!.signal.aborted, 'the work goes on')
  t.equal(page.text('#a'), 'loading')
  calls[0]!.resolve(3)
  await page.settleAsync()
  t.equal(page.text('#a'), 'ok 3')
})

t.test("http: 'await' work that hangs: the page is sent with the loading state after httpTimeoutMs; a mount that redirects leaves no rejection", async (t) => {
  class Hangs extends Dash {
    mount (): void { this.assignAsync('a', () => new Promise<number>(() => {}), { http: 'await', httpTimeoutMs: 100 }) }
  }
  class Leaves extends Dash {
    mount (): void {
      this.startAsync('x', async () => 1, { http: 'await' })
      this.redirect('/elsewhere')
    }

    handleAsync (): void { throw new Error('never awaited') }
  }
  const app = Fastify({ logger: false })
  t.teardown(() => app.close())
  await app.register(liveview, { root })
  app.liveView('/hangs', Hangs)
  app.liveView('/leaves', Leaves)
  const rejections: unknown[] = []
  const onRejection = (err: unknown): void => { rejections.push(err) }
  process.on('unhandledRejection', onRejection)
  t.teardown(() => { process.off('unhandledRejection', onRejection) })
  const left = await app.inject('/leaves')
  t.equal(left.statusCode, 302)
  const hung = await app.inject('/hangs')
  t.match(hung.body, /<p id="a">loading<\/p>/)
  await new Promise((resolve) => setTimeout(resolve, 50))
  t.same(rejections, [], 'no unhandled rejection')
})

t.test('startAsync hands its result to handleAsync through the mailbox', async (t) => {
  const page = await open(t)
  calls[0]!.resolve(1)
  await page.click('#start')
  await page.settleAsync()
  t.equal(page.text('#got'), 'job:ok:done')
})

t.test('settleAsync fails the test with the work still running, instead of hanging', async (t) => {
  const page = await open(t)
  await t.rejects(page.settleAsync({ timeout: 50 }), LiveTestError)
  await t.rejects(page.settleAsync({ timeout: 50 }), /async work still running after 50 ms: assign:a/)
})

t.test("the HTTP render: loading by default (the work does not run), or the result with http: 'await'", async (t) => {
  class Awaited extends Dash {
    mount (): void { this.assignAsync('a', async () => 7, { http: 'await' }) }
  }
  const app = Fastify({ logger: false })
  t.teardown(() => app.close())
  await app.register(liveview, { root })
  app.liveView('/dash', Dash)
  app.liveView('/awaited', Awaited)
  calls = []
  const plain = await app.inject('/dash')
  t.match(plain.body, /<p id="a">loading<\/p>/)
  t.equal(calls.length, 0, 'nothing ran on the HTTP render')
  const awaited = await app.inject('/awaited')
  t.match(awaited.body, /<p id="a">ok 7<\/p>/)
})

t.test('the view ending aborts its work', async (t) => {
  const page = await open(t)
  await page.close()
  t.ok(calls[0]!.signal.aborted)
})

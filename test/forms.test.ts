// Field errors and used inputs (lib/forms.ts): an event declared `onInvalid: 'render'` turns
// params that fail its schema into `it.errors` and renders, the handler not run; the client
// says which fields the user has used (`it.used`), outside the params.
import t from 'tap'
import { LiveComponent, LiveView, defineEvents, type EventSpec } from '../plugin.js'
import { mountView, type LivePage } from '../testing.js'
import type { Test } from 'tap'
import { buildApp, connect } from './helpers.js'
import { Form, fieldErrors } from '../lib/forms.js'

const root = new URL('./fixtures/forms/', import.meta.url)

const SIGNUP = {
  type: 'object',
  properties: {
    email: { type: 'string', format: 'email' },
    age: { type: 'integer', minimum: 13 }
  },
  required: ['email', 'age'],
  additionalProperties: false
} as const

class Box extends LiveComponent<{ id: number }> {
  static template = 'box'
  static events = defineEvents<Box>({
    rename: { schema: { type: 'object', properties: { title: { type: 'string', minLength: 3 } }, required: ['title'] }, onInvalid: 'render', messages: { title: 'Three letters at least.' } }
  })

  title = 'box'
  rename (p: { title: string }): void { this.title = p.title }
  context (): object { return { title: this.title } }
}

class Signup extends LiveView {
  static template = 'signup'
  static components = { box: Box }
  static events = defineEvents<Signup>({
    validate: { schema: SIGNUP, onInvalid: 'render', messages: { age: { minimum: 'You must be 13 or older.', '*': 'Age is a number.' } } },
    save: { schema: SIGNUP, onInvalid: 'render' },
    fail: true,
    nick: true
  })

  values = { email: '', age: '' }
  saved = ''
  calls = 0

  validate (p: { email: string, age: number }): void {
    this.calls++
    this.values = { email: p.email, age: String(p.age) }
  }

  save (p: { email: string, age: number }): void {
    this.calls++
    // The view's own errors, the same way.
    if (p.email === 'taken@example.com') return this.addError('email', 'That address is taken.')
    this.saved = p.email
  }

  nick (): void {}

  fail (): void {
    this.addError('age', 'set by a handler that then throws')
    throw new Error('boom')
  }

  context (): object { return { values: this.values, saved: this.saved } }
}

const open = async (tt: Test): Promise<LivePage> => {
  const page = await mountView(Signup, { root })
  tt.teardown(() => page.close())
  return page
}

t.test('invalid params render field errors, the handler not run, the state unchanged', async (t) => {
  const page = await open(t)
  const view = page.view as Signup
  const reply = await page.change('input[name=email]', { email: 'nope' })
  t.equal(reply.error, undefined, 'no error: the event rendered')
  t.equal(view.calls, 0, 'the handler did not run')
  t.same(view.values, { email: '', age: '' }, 'the state is unchanged')
  t.same(view.fieldErrors(), { email: 'must match format "email"', age: 'Age is a number.' }, "errors by field, worded by the validator or by messages (a keyword without its own message gets '*')")
  t.equal(page.text('#all'), 'email,age', 'the template gets every error as it.errors')
  t.equal(page.text('#used'), 'email', 'and the fields used: the one typed into')
  t.equal(page.text('#email-error'), 'must match format "email"', 'the used field shows its error')
  t.equal(page.all('#age-error').length, 0, 'the unused one does not')

  await page.change('input[name=age]', { email: 'nope', age: '12' })
  t.equal(page.text('#age-error'), 'You must be 13 or older.', 'a message by keyword')
  t.equal(page.text('#used'), 'email,age')

  await page.change('input[name=email]', { email: 'ada@example.com', age: '36' })
  t.equal(view.calls, 1, 'valid params run the handler')
  t.same(view.fieldErrors(), {}, 'and clear the errors first')
  t.equal(page.all('.error').length, 0)
  t.same(view.values, { email: 'ada@example.com', age: '36' })
})

t.test('a submit uses every field; a missing field is an error of that field', async (t) => {
  const page = await open(t)
  const reply = await page.submit('#signup', { email: undefined, age: undefined })
  t.equal(reply.error, undefined)
  t.same((page.view as Signup).fieldErrors(), { email: 'is required', age: 'is required' })
  t.equal(page.text('#used'), 'email,age,nick', 'every named field is used')
  t.equal(page.text('#email-error'), 'is required')
  t.equal(page.text('#age-error'), 'is required')
})

t.test("a field's own binding in a form sends the form's used fields", async (t) => {
  const page = await open(t)
  await page.change('#nick', { nick: 'ada' })
  t.equal(page.text('#used'), 'nick')
  await page.change('input[name=email]', { email: 'x' })
  t.equal(page.text('#used'), 'nick,email')
})

t.test("a view's own errors: addError shows, a failed handler takes its errors back", async (t) => {
  const page = await open(t)
  await page.submit('#signup', { email: 'taken@example.com', age: '20' })
  t.equal(page.text('#email-error'), 'That address is taken.', 'addError from the handler')
  t.equal((page.view as Signup).saved, '')
  const reply = await page.event('fail')
  t.equal(reply.error?.code, 'FST_LIVEVIEW_HANDLER_FAILED')
  t.same((page.view as Signup).fieldErrors(), { email: 'That address is taken.' }, 'the error the failed handler added is gone')
  ;(page.view as Signup).clearErrors('email')
  t.same((page.view as Signup).fieldErrors(), {}, 'clearErrors(field)')
  await page.submit('#signup', { email: 'ada@example.com', age: '20' })
  t.equal((page.view as Signup).saved, 'ada@example.com')
})

t.test("a component's form has its own errors and used fields", async (t) => {
  const page = await open(t)
  await page.submit('.box-error', { title: 'ab' })
  t.equal(page.text('.box-error'), 'Three letters at least.', 'a field message (one string for any error)')
  t.equal(page.text('.box-used'), 'title')
  t.equal(page.text('#all'), '', "the view's errors are its own")
  t.equal(page.text('#used'), '')
  await page.submit('.box-error', { title: 'abc' })
  t.equal(page.text('.box-error'), '')
})

t.test("a context's own errors and used win", async (t) => {
  class Own extends LiveView {
    static template = 'own'
    context (): object { return { errors: 'mine', used: { a: true, b: true } } }
  }
  const page = await mountView(Own, { root })
  t.teardown(() => page.close())
  t.equal(page.text('#own'), 'mine')
  t.equal(page.text('#u'), '2')
})

t.test('declarations are checked at boot', async (t) => {
  const bad = (events: object) => {
    class Bad extends LiveView {
      static template = 'own'
      static events = events as Record<string, EventSpec>
      save (): void {}
      context (): object { return {} }
    }
    return mountView(Bad, { root })
  }
  await t.rejects(bad({ save: { onInvalid: 'render' } }), { code: 'FST_LIVEVIEW_VIEW_INVALID', message: /onInvalid: 'render' needs a schema/ })
  await t.rejects(bad({ save: { schema: { type: 'object' }, onInvalid: 'show' } }), { code: 'FST_LIVEVIEW_VIEW_INVALID', message: /onInvalid must be 'render' or 'refuse'/ })
  await t.rejects(bad({ save: { schema: { type: 'object' }, messages: { a: 'x' } } }), { code: 'FST_LIVEVIEW_VIEW_INVALID', message: /messages must be an object, with onInvalid: 'render'/ })
})

t.test('used travels outside the params: a closed schema is unaffected; bad lists are refused, coded', async (t) => {
  const app = await buildApp(t, { root }, (app) => { app.liveView('/', Signup) })
  const { client } = await connect(t, app, '/')
  const send = async (frame: (ref: number) => unknown[]) => {
    const ref = client.nextRef()
    client.send(frame(ref))
    return await client.reply(ref)
  }
  const ok = await send((r) => [r, 'e', client.mount, 'validate', { email: 'ada@example.com', age: '40' }, null, ['email', 'age']])
  t.not(ok[1], 'err', 'a closed schema (additionalProperties: false) takes the params, used beside them')
  for (const used of ['email', [1], Array.from({ length: 501 }, (_, i) => `f${i}`), ['x'.repeat(201)]]) {
    const bad = await send((r) => [r, 'e', client.mount, 'validate', {}, null, used])
    t.equal(bad[1], 'err')
    t.equal((bad[2] as { code: string }).code, 'FST_LIVEVIEW_FRAME_MALFORMED', `refused: ${JSON.stringify(used).slice(0, 30)}`)
  }
  const still = await send((r) => [r, 'e', client.mount, 'validate', { email: 'x', age: '1' }, null, ['email']])
  t.not(still[1], 'err', 'the session goes on')
})

t.test('any field name is a field: __proto__, constructor, toString', async (t) => {
  const errs = fieldErrors([{ instancePath: '/__proto__', message: 'bad' }, { instancePath: '', keyword: 'required', params: { missingProperty: 'toString' } }], { constructor: 'no' })
  t.same(Object.keys(errs), ['__proto__', 'toString'], 'both kept as fields')
  t.equal(errs.toString, 'is required', 'messages are looked up as own keys only')
  const form = new Form()
  t.equal(form.used.constructor, undefined, 'nothing is used by inheritance')
  form.use(['constructor'])
  t.equal(form.used.constructor, true)
  form.add('__proto__', 'x')
  t.same(Object.keys(form.errors), ['__proto__'])
  form.clear('__proto__')
  t.same(Object.keys(form.errors), [])
})

// Chromium: client-side commands (JS), what they did surviving server updates, focus wraps and
// announcements, loading classes with a delay, page-loading events, field errors shown once
// a field is used, lv-trigger-action, scroll positions across history and reconnects.
import t, { type Test } from 'tap'
import Fastify from 'fastify'
import type { Browser, Page } from 'playwright-core'
import { fillIn, launchChromium, openLivePage, pageRule, settled } from './chromium.js'
import liveview, { JS, LiveView, defineEvents, type Params } from '../plugin.js'
import { SECRET, serverHtml } from './helpers.js'
import { kRuntime, type Runtime } from '../lib/runtime.js'
import type { Session } from '../lib/session/actor.js'

t.setTimeout(120000)

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

class Panel extends LiveView {
  static template = 'panel'
  static events = defineEvents<Panel>({ tick: true, retitle: true, shuffle: true, slow: true, bump: true, opened: true, close: true })
  n = 0
  title = ''
  page = '1'
  open = false
  list = Array.from({ length: 600 }, (_, i) => `item ${i}`)
  gen = 0
  tick (): void { this.n++ }
  retitle (): void { this.title = 'server' }
  // Every item changes: a patch bigger than the page, sent as full HTML.
  shuffle (): void { this.list = [...this.list].reverse(); this.gen++ }
  async slow (): Promise<void> { await sleep(1200) }
  bump (p: { by?: string }): void { this.n += Number(p.by) }
  opened (): void { this.open = true }
  close (): void { this.open = false }
  handleParams (params: Params): void { this.page = String(params.page ?? '1') }
  context (): object { return { JS, n: this.n, title: this.title, page: this.page, open: this.open, list: this.list, gen: this.gen } }
}

class Other extends LiveView {
  static template = 'other'
  context (): object { return {} }
}

const SIGNUP = {
  type: 'object',
  properties: { email: { type: 'string', format: 'email' }, age: { type: 'integer', minimum: 13 } },
  required: ['email', 'age']
} as const

class Signup extends LiveView {
  static template = 'signup'
  static events = defineEvents<Signup>({
    validate: { schema: SIGNUP, onInvalid: 'render', messages: { age: 'Enter an age of 13 or more.' } },
    save: { schema: SIGNUP, onInvalid: 'render', messages: { age: 'Enter an age of 13 or more.' } }
  })

  email = ''
  saved = ''
  validate (p: { email: string, age: number }): void { this.email = p.email }
  save (p: { email: string, age: number }): void { this.saved = p.email }
  context (): object { return { email: this.email, saved: this.saved } }
}

class Login extends LiveView {
  static template = 'login'
  static events = defineEvents<Login>({ login: true })
  user = ''
  error = ''
  trigger = false
  login (p: Record<string, string | string[] | undefined>): void {
    this.user = String(p.user)
    if (p.password !== 'secret') {
      this.error = 'Wrong password.'
      return
    }
    this.error = ''
    this.trigger = true
  }

  context (): object { return { user: this.user, error: this.error, trigger: this.trigger } }
}

const app = Fastify({ logger: false })
await app.register(liveview, { root: new URL('./fixtures/commands/', import.meta.url), secret: SECRET })
app.liveView('/panel', Panel)
app.liveView('/other', Other)
app.liveView('/signup', Signup)
app.liveView('/login', Login)
// What lv-trigger-action submits to: a plain HTTP route that signs the user in with a cookie.
app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => {
  done(null, Object.fromEntries(new URLSearchParams(body as string)))
})
app.post('/session', async (req, reply) => {
  const { user, password } = req.body as Record<string, string>
  if (password !== 'secret') return await reply.code(403).send('no')
  return await reply.header('set-cookie', `who=${encodeURIComponent(user)}; Path=/; HttpOnly; SameSite=Lax`).redirect('/welcome', 303)
})
app.get('/welcome', async (req, reply) => reply.type('text/html').send(`<h1 id="welcome">${String(req.headers.cookie)}</h1>`))
app.get('/favicon.ico', async (_req, reply) => reply.code(204).send())
let browser: Browser | undefined
t.teardown(async () => { await browser?.close(); await app.close() })
const base = await app.listen({ host: '127.0.0.1', port: 0 })
browser = await launchChromium()

/** Drops the page's socket (server side): the client reconnects and rejoins a new session. */
async function drop (page: Page): Promise<void> {
  await page.evaluate(() => {
    const root = document.querySelector('[data-lv-root]')!
    ;(window as unknown as { rejoined: Promise<void> }).rejoined = new Promise((resolve) => {
      root.addEventListener('lv:disconnected', () => { root.addEventListener('lv:connected', () => { resolve() }, { once: true }) }, { once: true })
    })
  })
  for (const session of (app as unknown as Record<symbol, Runtime>)[kRuntime]!.sessions) {
    ((session as Session).transport as unknown as { socket: { terminate: () => void } }).socket.terminate()
  }
  await page.evaluate(async () => { await (window as unknown as { rejoined: Promise<void> }).rejoined })
}

/** Clicks as the DOM does (no scrolling the element into view first). */
const press = async (page: Page, selector: string): Promise<void> => {
  await page.evaluate((s) => { (document.querySelector(s) as HTMLElement).click() }, selector)
}
const box = async (page: Page): Promise<{ display: string, cls: string, title: string | null, x: string | null }> =>
  await page.evaluate(() => {
    const b = document.querySelector('#box') as HTMLElement
    return { display: b.style.display, cls: b.className, title: b.getAttribute('title'), x: b.getAttribute('data-x') }
  })

async function panel (t: Test): Promise<{ page: Page, errors: string[] }> {
  const opened = await openLivePage(t, browser!, `${base}/panel`, () => {
    ;(window as unknown as { lvHooks: unknown }).lvHooks = {
      Cmd: { mounted (this: { js: () => { addClass: (c: string) => unknown } }) { this.js().addClass('hooked') } }
    }
  })
  // The command chunk is in once the hook has run.
  await opened.page.waitForSelector('#hooked.hooked', { state: 'attached' })
  return opened
}

t.test('each command, in Chromium', async (t) => {
  const { page, errors } = await panel(t)
  t.equal((await box(page)).display, 'none')
  await press(page, '#b-show')
  t.equal((await box(page)).display, 'block', 'show')
  await press(page, '#b-toggle')
  t.equal((await box(page)).display, 'none', 'toggle hides what shows')
  await press(page, '#b-toggle')
  t.equal((await box(page)).display, 'flex', 'and shows what is hidden, with its display')
  await press(page, '#b-hide')
  t.match((await box(page)).cls, /\bfading\b/, 'hide runs its transition first')
  await page.waitForFunction(() => (document.querySelector('#box') as HTMLElement).style.display === 'none')
  t.notMatch((await box(page)).cls, /fading/, 'then hides, the transition class gone')
  await press(page, '#b-add')
  t.equal((await box(page)).cls, 'box n0 hl big', 'addClass')
  await press(page, '#b-remove')
  await press(page, '#b-tclass')
  t.equal((await box(page)).cls, 'box n0 hl t', 'removeClass, toggleClass')
  await press(page, '#b-set')
  await press(page, '#b-unset')
  t.same([(await box(page)).title, (await box(page)).x], ['mine', null], 'setAttribute, removeAttribute')
  await press(page, '#b-tattr')
  t.equal(await page.getAttribute('#box', 'aria-expanded'), 'true', 'toggleAttribute: on…')
  await press(page, '#b-tattr')
  t.equal(await page.getAttribute('#box', 'aria-expanded'), 'false', '…and off')
  await press(page, '#b-trans')
  t.match((await box(page)).cls, /\bmoving\b/, 'transition: the classes while it runs')
  await page.waitForFunction(() => /\bto\b/.test(document.querySelector('#box')!.className))
  await page.waitForFunction(() => !/moving|\bto\b|from/.test(document.querySelector('#box')!.className))
  t.pass('and none after it')
  await press(page, '#b-hid')
  t.equal(await page.getAttribute('#hid', 'hidden'), null, 'toggleAttribute without values: off, whatever its value was…')
  await press(page, '#b-hid')
  t.equal(await page.getAttribute('#hid', 'hidden'), '', '…and on')
  await press(page, '#b-bad')
  t.same(await page.evaluate(() => [document.querySelector('#box')!.getAttribute('onclick'), document.querySelector('#box')!.getAttribute('href'), document.querySelector('#box')!.classList.contains('safe')]),
    [null, null, true], 'no event-handler attribute, no script URL through commands (the rest of the list runs)')
  await press(page, '#b-hide')
  await press(page, '#b-show')
  await sleep(1200)
  t.equal((await box(page)).display, 'block', 'a show during a hide transition wins: the hide does not end it later')
  await press(page, '#b-pop')
  t.equal(await page.evaluate(() => (document.querySelector('#pop') as HTMLElement).style.display), 'block', 'a click that shows an lv-click-away element does not hide it at once')
  await page.click('#n')
  await page.waitForFunction(() => (document.querySelector('#pop') as HTMLElement).style.display === 'none')
  t.pass('a click away hides it')
  await page.click('#b-ptog')
  t.equal(await page.evaluate(() => (document.querySelector('#pop') as HTMLElement).style.display), 'block', 'a toggle outside it opens it…')
  await page.click('#b-ptog')
  await sleep(100)
  t.equal(await page.evaluate(() => (document.querySelector('#pop') as HTMLElement).style.display), 'none', '…and closes it (click-away, after the toggle, finds it hidden)')
  await press(page, '#b-two')
  await page.waitForFunction(() => document.querySelector('#n')!.textContent === '2')
  await settled(page)
  t.same(await page.evaluate(() => { const b = document.querySelector('#b-two') as HTMLButtonElement; return [b.disabled, b.textContent] }), [false, 'Two'], 'two pushes with lv-disable-with: back as it was once both are answered')
  await press(page, '#b-focus')
  t.equal(await page.evaluate(() => document.activeElement?.id), 'name', 'focus')
  await press(page, '#b-pushf')
  await page.focus('#tick')
  await press(page, '#b-popf')
  t.equal(await page.evaluate(() => document.activeElement?.id), 'name', 'pushFocus, popFocus')
  const detail = page.evaluate(() => new Promise((resolve) => {
    document.querySelector('#box')!.addEventListener('copied', (e) => { resolve((e as CustomEvent).detail) }, { once: true })
  }))
  await press(page, '#b-dispatch')
  t.same(await detail, { n: 1 }, 'dispatch')
  await press(page, '#b-push')
  await page.waitForFunction(() => document.querySelector('#n')!.textContent === '4')
  t.pass('push, with its value')
  await press(page, '#b-announce')
  await page.waitForFunction(() => document.querySelector('#lv-announce')?.textContent === 'Saved!')
  t.equal(await page.getAttribute('#lv-announce', 'aria-live'), 'polite', 'announce: in an aria-live region')
  t.equal(await page.evaluate(() => document.querySelector('[data-lv-root]')!.contains(document.querySelector('#lv-announce'))), false, 'outside the live root')
  await press(page, '#b-patch')
  await page.waitForFunction(() => document.querySelector('#page')!.textContent === '3')
  t.equal(new URL(page.url()).search, '?page=3', 'patch')
  await press(page, '#b-evil')
  await sleep(200)
  t.equal(new URL(page.url()).host, new URL(base).host, 'navigate to another origin: refused')
  await press(page, '#b-nav')
  await page.waitForSelector('#other')
  t.equal(new URL(page.url()).pathname, '/other', 'navigate')
  t.same(errors, [])
})

t.test('what commands did survives server patches until the server changes it; reset on rejoin', async (t) => {
  const { page, errors } = await panel(t)
  // What the server sends, from a fresh load on.
  const frames: string[] = []
  page.on('websocket', (ws) => { ws.on('framereceived', (f) => { frames.push(String(f.payload)) }) })
  await page.reload()
  await page.waitForSelector('#hooked.hooked', { state: 'attached' })
  await press(page, '#b-show')
  await press(page, '#b-add')
  await press(page, '#b-set')
  await press(page, '#tick')
  await page.waitForFunction(() => document.querySelector('#n')!.textContent === '1')
  t.same(await box(page), { display: 'block', cls: 'box n1 hl big', title: 'mine', x: '1' }, "a patch of the element's class keeps the classes a command added; display and title untouched")
  // Full HTML (a patch bigger than the page) is a morph: what commands did is put back.
  await press(page, '#shuffle')
  await page.waitForFunction(() => document.querySelector('#list li')!.textContent === 'item 599')
  t.same(await box(page), { display: 'block', cls: 'box n1 hl big', title: 'mine', x: '1' }, 'after a full-HTML update too')
  await press(page, '#retitle')
  await page.waitForFunction(() => document.querySelector('#box')!.getAttribute('title') === 'server')
  t.pass("the server's render changed the title: the server's wins")
  await press(page, '#tick')
  await page.waitForFunction(() => document.querySelector('#n')!.textContent === '2')
  t.equal((await box(page)).title, 'server', 'and stays')
  // The modal: opened by commands, closed by the server after its submit.
  await press(page, '#open')
  await page.waitForFunction(() => document.activeElement?.id === 'm1')
  t.equal(await page.evaluate(() => (document.querySelector('#modal') as HTMLElement).style.display), 'block', 'open, focus on its first field')
  await page.keyboard.press('Tab')
  await page.keyboard.press('Tab')
  t.equal(await page.evaluate(() => document.activeElement?.id), 'm3')
  await page.keyboard.press('Tab')
  t.equal(await page.evaluate(() => document.activeElement?.id), 'm1', 'Tab from the last wraps to the first')
  await page.keyboard.press('Shift+Tab')
  t.equal(await page.evaluate(() => document.activeElement?.id), 'm3', 'Shift+Tab from the first wraps to the last')
  await settled(page)
  await page.click('#m3')
  await page.waitForFunction(() => (document.querySelector('#modal') as HTMLElement).style.display === 'none')
  t.pass('the server closed it after the submit')
  // Client-owned attributes: a details element the user opened stays open through updates.
  await page.click('#det summary')
  await press(page, '#tick')
  await page.waitForFunction(() => document.querySelector('#det')!.getAttribute('data-n') === '3')
  t.equal(await page.evaluate(() => (document.querySelector('#det') as HTMLDetailsElement).open), true, 'lv-ignore-attributes="open": kept through a patch')
  // A rejoin (the socket dropped) resets what commands did: the page is the server's render again.
  await drop(page)
  await settled(page)
  t.same(await box(page), { display: 'none', cls: 'box n0', title: null, x: '1' }, 'reset on rejoin (a new session: n is 0)')
  await page.evaluate(() => { (document.querySelector('#det') as HTMLDetailsElement).open = false })
  const diff = await pageRule(page, serverHtml(app).replace(' class="hooked"', ''))
  t.equal(diff, undefined, 'the page equals the render (but the hook\'s class, a command of this session)')
  t.ok(frames.some((f) => f.startsWith('[') && JSON.parse(f)[1] === 'h'), 'the shuffle did come as full HTML')
  t.same(errors, [])
})

t.test('loading classes: per binding, on a target, after a delay; page-loading events', async (t) => {
  const { page, errors } = await panel(t)
  await page.evaluate(() => {
    const w = window as unknown as { seen: string[], at: Array<[number, string]>, events: string[] }
    w.seen = []
    w.at = []
    w.events = []
    new MutationObserver((records) => {
      for (const r of records) {
        const el = r.target as Element
        w.seen.push(`${el.id}:${el.className}`)
        w.at.push([performance.now(), `${el.id}:${el.className}`])
      }
    }).observe(document.querySelector('[data-lv-root]')!, { subtree: true, attributes: true, attributeFilter: ['class'] })
    for (const type of ['lv:page-loading-start', 'lv:page-loading-stop']) {
      window.addEventListener(type, (e) => { w.events.push(`${type} ${JSON.stringify((e as CustomEvent).detail)}`) })
    }
  })
  const clicked = await page.evaluate(() => {
    const at = performance.now()
    ;(document.querySelector('#slow') as HTMLElement).click()
    return at
  })
  // Read from the recorded changes (a look could come after the reply on a busy machine).
  await page.waitForFunction(() => (window as unknown as { seen: string[] }).seen.some((s) => s.startsWith('slow:') && s.includes('lv-click-loading') && s.includes('lv-loading')))
  const marked = await page.evaluate(() => (window as unknown as { seen: string[] }).seen)
  t.ok(marked.includes('spinner:lv-loading lv-click-loading'), 'lv-loading-target: the spinner too')
  const first = await page.evaluate(() => (window as unknown as { at: Array<[number, string]> }).at.find(([, s]) => s.startsWith('slow:') && s.includes('lv-click-loading')))
  t.ok(first !== undefined && first[0] - clicked >= 300, `lv-loading-delay: not before 300 ms (${first === undefined ? '?' : Math.round(first[0] - clicked)} ms)`)
  await settled(page)
  await page.waitForFunction(() => !document.querySelector('#spinner')!.hasAttribute('class'))
  t.equal(await page.getAttribute('#slow', 'class'), null, 'all gone after the reply, no empty class attribute left')
  await press(page, '#fast')
  await settled(page)
  const seen = await page.evaluate(() => (window as unknown as { seen: string[] }).seen)
  t.notOk(seen.some((s) => s.startsWith('fast:') && s.includes('loading')), 'a reply faster than the delay: no flicker')
  await page.evaluate(() => { (window as unknown as { seen: string[] }).seen = [] })
  await press(page, '#b-push')
  await settled(page)
  const after = await page.evaluate(() => (window as unknown as { seen: string[] }).seen)
  t.ok(after.some((s) => s === 'spinner:lv-loading lv-click-loading'), "a command push's loading option")
  await press(page, '#to-2')
  await page.waitForFunction(() => document.querySelector('#page')!.textContent === '2')
  await page.waitForFunction(() => (window as unknown as { events: string[] }).events.length === 2)
  const to = `${base}/panel?page=2`
  t.same(await page.evaluate(() => (window as unknown as { events: string[] }).events), [
    `lv:page-loading-start {"kind":"patch","to":"${to}"}`, `lv:page-loading-stop {"kind":"patch","to":"${to}"}`
  ])
  t.same(errors, [])
})

t.test('field errors show once a field is used', async (t) => {
  const { page, errors } = await openLivePage(t, browser!, `${base}/signup`)
  await page.fill('#email', 'nope')
  await page.press('#email', 'Tab')
  await page.waitForFunction(() => document.querySelector('#email-error')!.textContent !== '')
  t.equal(await page.textContent('#email-error'), 'must match format "email"', 'the used field shows its error')
  t.equal(await page.textContent('#age-error'), '', 'the untouched one does not (its error is there, unused)')
  await page.click('#go')
  await page.waitForFunction(() => document.querySelector('#age-error')!.textContent !== '')
  t.equal(await page.textContent('#age-error'), 'Enter an age of 13 or more.', 'a submit uses every field')
  await page.fill('#email', 'ada@example.com')
  await fillIn(page, '#age', '36')
  await page.click('#go')
  await page.waitForFunction(() => document.querySelector('#saved')!.textContent === 'ada@example.com')
  t.equal(await page.textContent('#email-error'), '')
  t.same(errors, [])
})

t.test('lv-trigger-action submits over HTTP once the view says so: a login that sets a cookie', async (t) => {
  const { page, errors } = await openLivePage(t, browser!, `${base}/login`)
  await page.fill('#user', 'ada')
  await page.fill('#pw', 'wrong')
  await page.click('#signin')
  await page.waitForFunction(() => document.querySelector('#err')!.textContent === 'Wrong password.')
  t.equal(new URL(page.url()).pathname, '/login', 'refused by the view: no HTTP submit')
  await fillIn(page, '#pw', 'secret')
  await page.click('#signin')
  await page.waitForSelector('#welcome')
  t.equal(await page.textContent('#welcome'), 'who=ada', 'the POST set the cookie, the browser sends it')
  t.ok((await page.context().cookies()).some((c) => c.name === 'who' && c.httpOnly), 'an HttpOnly cookie, as only a real request can set')
  t.same(errors, [])
})

t.test('scroll positions: back and forward across patches, and a reconnect', async (t) => {
  const { page, errors } = await panel(t)
  await page.evaluate(() => { scrollTo(0, 1000) })
  await page.waitForFunction(() => scrollY === 1000)
  await press(page, '#bottom')
  await page.waitForFunction(() => document.querySelector('#page')!.textContent === '2')
  await settled(page)
  await page.goBack()
  await page.waitForFunction(() => document.querySelector('#page')!.textContent === '1')
  await page.waitForFunction(() => scrollY === 1000, undefined, { timeout: 2000 })
  t.pass('back: where the page was left (it was short meanwhile)')
  await page.goForward()
  await page.waitForFunction(() => document.querySelector('#page')!.textContent === '2')
  await settled(page)
  t.equal(await page.evaluate(() => scrollY), 1000, 'forward: where page 2 was left (the patch kept the position)')
  await page.goBack()
  await page.waitForFunction(() => document.querySelector('#page')!.textContent === '1' && scrollY === 1000)
  await page.evaluate(() => { scrollTo(0, 1400) })
  await page.waitForFunction(() => scrollY === 1400)
  await drop(page)
  await settled(page)
  t.equal(await page.evaluate(() => scrollY), 1400, 'a reconnect keeps the position')
  t.same(errors, [])
})

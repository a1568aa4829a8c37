// The page rule on pages like a user's, in Chromium with the shipped client: after every
// update the live root equals a fresh parse of the server's last render. A small shop written
// from the README (a select whose options and selection change, field errors, a keyed list
// that grows, shrinks and reorders, counts in several places at once), driven by a seeded
// random sequence of server-side changes and real clicks; and the demo's todos. REAL_STEPS (50;
// the todos get half) runs more.
import t from 'tap'
import type { Browser } from 'playwright-core'
import { LiveView, defineEvents } from '../plugin.js'
import { buildDemo } from '../examples/demo/server.js'
import { fillIn, launchChromium, openLivePage, pageRule, settled } from './chromium.js'
import { buildApp, serverHtml } from './helpers.js'
import { rng } from './fixtures/pages.js'

t.setTimeout(180000)

interface Line { id: number, size: string, qty: number, gift: boolean, note: string }
const SIZES = ['s', 'm', 'l', 'xl']
const NOTES = ['', 'for Ana & Bo', '"quoted"', 'it\'s <b>bold</b>?', 'ünï']

/** The shop: every `step` makes a seeded random change, several places at once. */
class Shop extends LiveView {
  static template = 'shop'
  static events = defineEvents<Shop>({ edit: true, save: true, remove: true, step: true })
  sizes = [...SIZES]
  size = 'm'
  qty = 1
  gift = false
  errors: { size?: string, qty?: string } = {}
  lines: Line[] = []
  unread = 0
  nextId = 1
  r = rng(Number(process.env.REAL_SEED ?? 7))

  edit (params: Record<string, unknown>): void {
    if (typeof params.size === 'string') this.size = params.size
    this.qty = Number(params.qty ?? this.qty)
    this.gift = params.gift === 'yes'
    this.errors = this.qty > 0 ? {} : { qty: 'At least one, please.' }
  }

  save (): void {
    if (this.qty <= 0) { this.errors = { qty: 'At least one, please.' }; return }
    this.lines.push({ id: this.nextId++, size: this.size, qty: this.qty, gift: this.gift, note: '' })
    this.unread++
  }

  remove (params: { id?: string | number }): void {
    this.lines = this.lines.filter((l) => l.id !== Number(params.id))
  }

  step (): void {
    const r = this.r
    const pick = <T>(xs: T[]): T => xs[Math.floor(r() * xs.length)] as T
    for (let k = 1 + Math.floor(r() * 3); k > 0; k--) {
      const what = Math.floor(r() * 9)
      if (what === 0) this.lines.push({ id: this.nextId++, size: pick(SIZES), qty: 1 + Math.floor(r() * 5), gift: r() < 0.3, note: pick(NOTES) })
      if (what === 1 && this.lines.length > 0) this.lines.splice(Math.floor(r() * this.lines.length), 1)
      if (what === 2 && this.lines.length > 1) this.lines.splice(Math.floor(r() * this.lines.length), 0, ...this.lines.splice(Math.floor(r() * this.lines.length), 1))
      if (what === 3) this.lines.reverse()
      if (what === 4 && this.lines.length > 0) { const l = pick(this.lines); l.qty++; l.gift = !l.gift; l.note = pick(NOTES) }
      if (what === 5) this.errors = r() < 0.5 ? {} : { size: r() < 0.5 ? 'Sold out' : undefined, qty: r() < 0.5 ? 'Too many' : undefined }
      if (what === 6) this.sizes = r() < 0.5 ? [...SIZES] : ['xs', ...SIZES.filter(() => r() < 0.7)]
      if (what === 7) this.size = pick(this.sizes)
      if (what === 8) this.unread = r() < 0.3 ? 0 : this.unread + 1
    }
  }

  context (): Record<string, unknown> {
    return { sizes: this.sizes, size: this.size, qty: this.qty, gift: this.gift, errors: this.errors, lines: this.lines, unread: this.unread }
  }
}

let browser: Browser
browser = await launchChromium()
t.teardown(async () => { await browser.close() })

t.test('a shop page: selects, errors, a keyed list and counts change together; the page always equals the render', async (t) => {
  const app = await buildApp(t, { limits: { eventsPerSecond: 1000, eventBurst: 1000 } }, (app) => {
    app.liveView('/shop', Shop)
    app.get('/favicon.ico', async (_req, reply) => await reply.code(204).send())
  })
  const base = await app.listen({ host: '127.0.0.1', port: 0 })
  const { page, errors } = await openLivePage(t, browser, `${base}/shop`)
  // What the server sent: patches, or full HTML.
  const kinds: Record<string, number> = { p: 0, h: 0 }
  page.on('websocket', (ws) => ws.on('framereceived', ({ payload }) => {
    const op = /^\[\d+,"([a-z]+)"/.exec(String(payload))?.[1]
    if (op !== undefined) kinds[op] = (kinds[op] ?? 0) + 1
  }))
  await page.reload()
  await page.waitForSelector('[data-lv-root].lv-connected')
  // Steps through the page's own client (its Refresh button sends `step`), and real user input.
  const STEPS = Number(process.env.REAL_STEPS ?? 50)
  let broken = 0
  for (let i = 0; i < STEPS; i++) {
    if (i % 10 === 3) {
      const options = await page.locator('#size option').count()
      await page.selectOption('#size', { index: i % options })
    } else if (i % 10 === 6) {
      await page.fill('#qty', String(i % 4))
      await page.press('#qty', 'Tab')
    } else if (i % 10 === 8) {
      await page.click('#order button[type="submit"]')
    } else if (i % 10 === 9 && await page.locator('#lines button').count() > 0) {
      await page.locator('#lines button').first().click()
    } else {
      await page.click('#stepper')
    }
    await settled(page)
    const diff = await pageRule(page, serverHtml(app))
    if (diff !== undefined) {
      broken++
      if (broken <= 2) t.fail(`step ${i}: the page differs from the render`, diff)
    }
    // The select shows what the render selects (its selection is form state, not markup).
    const shown = await page.$eval('#size', (s) => (s as HTMLSelectElement).value)
    const wanted = /<option value="([^"]*)" selected>/.exec(serverHtml(app))?.[1] ?? /<option value="([^"]*)"/.exec(serverHtml(app))?.[1]
    if (shown !== wanted && !(i % 10 === 3)) {
      broken++
      if (broken <= 2) t.fail(`step ${i}: the select shows ${shown}, the render selects ${String(wanted)}`)
    }
  }
  t.equal(broken, 0, `${STEPS} steps, the page rule held after each`)
  t.ok((kinds.p ?? 0) > STEPS * 0.8, `the updates were patches (${kinds.p} patches, ${kinds.h} full HTML; ${JSON.stringify(kinds)})`)
  t.same(errors, [], 'no console errors')
})

t.test('the demo todos: add, toggle, delete, filter in any order; the page always equals the render', async (t) => {
  const app = await buildDemo({ logger: false, secret: 'browser-real-pages-secret-long-enough-000' })
  t.teardown(() => app.close())
  const base = await app.listen({ host: '127.0.0.1', port: 0 })
  const { page, errors } = await openLivePage(t, browser, `${base}/todos`)
  const r = rng(11)
  let broken = 0
  const STEPS = Math.ceil(Number(process.env.REAL_STEPS ?? 50) / 2)
  for (let i = 0; i < STEPS; i++) {
    const items = await page.locator('li[id^="todo-"]').count()
    const what = items === 0 ? 0 : Math.floor(r() * 4)
    if (what === 0) {
      await fillIn(page, '#new-todo', `Item ${i} & "more" <${i}>`)
      await page.click('form.add button[type="submit"]')
    } else if (what === 1) {
      await page.locator('li[id^="todo-"] button.toggle').nth(Math.floor(r() * items)).click()
    } else if (what === 2) {
      await page.locator('li[id^="todo-"] button.delete').nth(Math.floor(r() * items)).click()
    } else {
      // Leaving the field sends the debounced filter now; fillIn waits for its reply.
      await fillIn(page, '#filter', r() < 0.5 ? '' : String(Math.floor(r() * 10)))
    }
    await settled(page)
    await page.locator('body').click({ position: { x: 1, y: 1 } })
    const diff = await pageRule(page, serverHtml(app))
    if (diff !== undefined) {
      broken++
      if (broken <= 2) t.fail(`step ${i}: the page differs from the render`, diff)
    }
  }
  t.equal(broken, 0, `${STEPS} steps, the page rule held after each`)
  t.same(errors, [], 'no console errors')
})

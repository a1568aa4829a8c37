// The development loop in Chromium: a template saved broken shows the error overlay over the
// page (the .eta file and line); saved fixed, the overlay goes and the page shows the new
// render with its state; a page that fails to load shows the error page.
import t from 'tap'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Fastify from 'fastify'
import type { Browser } from 'playwright-core'
import liveview, { LiveView, defineEvents } from '../plugin.js'
import { launchChromium, openLivePage, pageRule, settled } from './chromium.js'
import { SECRET, serverHtml } from './helpers.js'

class Count extends LiveView {
  static template = 'count'
  static events = defineEvents<Count>({ inc: true })
  n = 0
  inc (): void { this.n++ }
  context (): object { return { n: this.n } }
}
const COUNT = '<p id="n"><%= it.n %></p>\n<button id="inc" lv-click="inc">+</button>\n'

let browser: Browser
t.before(async () => { browser = await launchChromium() })
t.teardown(() => browser?.close())

t.test('broken template: the overlay names the .eta line; fixed: it goes, the page renders with its state', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'lv-dev-'))
  t.teardown(() => { rmSync(dir, { recursive: true, force: true }) })
  writeFileSync(join(dir, 'count.eta'), COUNT)
  const app = Fastify({ logger: false })
  t.teardown(() => app.close())
  await app.register(liveview, { root: dir, secret: SECRET })
  app.liveView('/count', Count)
  const base = await app.listen({ host: '127.0.0.1', port: 0 })
  const { page, errors } = await openLivePage(t, browser, `${base}/count`)
  await page.click('#inc')
  await page.waitForFunction(() => document.querySelector('#n')!.textContent === '1')

  writeFileSync(join(dir, 'count.eta'), COUNT + '<p><%= it.nope.deeper %></p>\n')
  await page.waitForSelector('#lv-dev-overlay')
  const text = await page.textContent('#lv-dev-overlay')
  t.match(text, 'FST_LIVEVIEW_RENDER_FAILED')
  t.match(text, /count\.eta:3/, 'the file and line')
  t.match(text, />> 3\| <p><%= it\.nope\.deeper %><\/p>/, 'the line itself')
  t.equal(await page.evaluate(() => document.querySelector('#lv-dev-overlay')!.closest('[data-lv-root]')), null, 'outside the live root')
  t.equal(await page.evaluate(() => getComputedStyle(document.querySelector('#lv-dev-overlay')!).pointerEvents), 'none', 'clicks go through it to the page')

  writeFileSync(join(dir, 'count.eta'), COUNT.replace('<p id="n">', '<p id="n" class="fixed">'))
  await page.waitForSelector('#lv-dev-overlay', { state: 'detached' })
  await settled(page)
  t.equal(await page.getAttribute('#n', 'class'), 'fixed', 'the new template')
  t.equal(await page.textContent('#n'), '1', 'the state it had')
  t.equal(await pageRule(page, serverHtml(app)), undefined, 'the page equals the render')
  await page.click('#inc')
  await page.waitForFunction(() => document.querySelector('#n')!.textContent === '2')
  t.same(errors, [])

  // Escape closes the overlay by hand.
  writeFileSync(join(dir, 'count.eta'), '<%= it.nope.deeper %>')
  await page.waitForSelector('#lv-dev-overlay')
  await page.keyboard.press('Escape')
  await page.waitForSelector('#lv-dev-overlay', { state: 'detached' })
  t.pass('Escape closed it')

  // A page that cannot render at all: the error page, with the line.
  const res = await page.goto(`${base}/count`)
  t.equal(res?.status(), 500)
  t.match(await page.textContent('#lv-dev-overlay'), /count\.eta:1/)
})

// Chromium: site navigation lives in layouts. `lv-navigate` and `lv-patch` links in the
// layout, outside the live root, navigate live (no page load) as they do inside it; a plain
// link still loads the page. The layout itself stays as the page load rendered it.
import t from 'tap'
import Fastify from 'fastify'
import type { Browser } from 'playwright-core'
import { launchChromium, openLivePage, pageRule, settled } from './chromium.js'
import liveview, { LiveView, type Params } from '../plugin.js'
import { serverHtml } from './helpers.js'

t.setTimeout(120000)
const browser: Browser = await launchChromium()
t.teardown(async () => { await browser.close() })

class PageA extends LiveView {
  static template = 'page-a'
  static title = 'Page A'
  tab = '1'
  handleParams (params: Params): void { this.tab = String(params.tab ?? '1') }
  context () { return { tab: this.tab } }
}

class PageB extends LiveView {
  static template = 'page-b'
  static title = 'Page B'
  x = ''
  mount (params: Params): void { this.x = String(params.x ?? '') }
  context () { return { x: this.x } }
}

t.test('lv-navigate and lv-patch links in the layout navigate live; a plain one loads the page', async (t) => {
  const app = Fastify({ logger: false })
  t.teardown(() => app.close())
  await app.register(liveview, { root: new URL('./fixtures/layouts/', import.meta.url), secret: 'browser-layout-secret-long-enough-0123456', layout: 'nav-layout' })
  app.liveView('/a', PageA)
  app.liveView('/b', PageB)
  const base = await app.listen({ host: '127.0.0.1', port: 0 })

  const { page, errors } = await openLivePage(t, browser, `${base}/a`)
  await page.evaluate(() => { (window as unknown as { marker: number }).marker = 1 })
  const marker = async (): Promise<unknown> => await page.evaluate(() => (window as unknown as { marker?: number }).marker)

  await page.click('#to-b')
  await page.waitForSelector('#x')
  t.equal(page.url(), `${base}/b?x=1`)
  t.equal(await page.textContent('#x'), '1')
  t.equal(await page.title(), 'Page B')
  t.equal(await marker(), 1, 'lv-navigate from the layout: no page load')
  t.same(await pageRule(page, serverHtml(app)), undefined, 'the page rule after the navigation')

  await page.click('#to-a')
  await page.waitForSelector('#tab')
  await page.click('#tab-2')
  await page.waitForFunction(() => document.querySelector('#tab')?.textContent === '2')
  await settled(page)
  t.equal(page.url(), `${base}/a?tab=2`)
  t.equal(await marker(), 1, 'lv-patch from the layout: handleParams, no page load')
  t.same(await pageRule(page, serverHtml(app)), undefined, 'the page rule after the patch')

  await page.goBack()
  await page.waitForFunction(() => document.querySelector('#tab')?.textContent === '1')
  t.equal(page.url(), `${base}/a`)
  t.equal(await marker(), 1, 'back: live too')

  await page.click('#plain')
  await page.waitForURL(`${base}/b`)
  await page.waitForSelector('[data-lv-root].lv-connected')
  t.equal(await marker(), undefined, 'a link without lv-navigate loads the page')
  t.same(errors, [])
})

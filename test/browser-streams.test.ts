// Streams and async work in Chromium, on the demo's feed and dashboard: scrolling loads more
// (lv-viewport-bottom), a rejoin rebuilds the stream from mount without duplicates, and the
// page rule holds everywhere but the stream container's children; panels load in the
// background, a failed one shows its error while the others render.
import t from 'tap'
import type { Browser, Page } from 'playwright-core'
import { buildDemo } from '../examples/demo/server.js'
import { services, type Panel } from '../examples/demo/dashboard.js'
import { kRuntime, type Runtime } from '../lib/runtime.js'
import type { Session } from '../lib/session/actor.js'
import { launchChromium, openLivePage, pageRule, ruleCheck, settled } from './chromium.js'
import { serverHtml } from './helpers.js'

t.setTimeout(120000)

let browser: Browser
t.before(async () => { browser = await launchChromium() })
t.teardown(() => browser?.close())

const keys = (page: Page): Promise<string[]> => page.$$eval('#posts > li', (els) => els.map((e) => e.getAttribute('lv-key') ?? ''))

t.test('the feed: scrolling loads more, posts and removals apply, a rejoin rebuilds it from mount', async (t) => {
  const app = await buildDemo({ logger: false, secret: 'browser-streams-secret-long-enough-000000' })
  t.teardown(() => app.close())
  const base = await app.listen({ host: '127.0.0.1', port: 0 })
  const { page, errors } = await openLivePage(t, browser, `${base}/feed`)
  const rule = ruleCheck(t, page, () => serverHtml(app))
  await page.waitForFunction(() => document.querySelectorAll('#posts > li').length === 20)
  await rule('joined')
  t.same((await keys(page)).slice(0, 2), ['500', '499'], 'the first page, newest first')
  const html = serverHtml(app)
  t.notMatch(html, /class="post"/, "the server's render holds no post")
  for (let round = 0; round < 3; round++) {
    await page.locator('#posts > li').last().scrollIntoViewIfNeeded()
    await page.waitForFunction((n) => document.querySelectorAll('#posts > li').length >= n, 40 + round * 20)
  }
  await rule('scrolled')
  const scrolled = await keys(page)
  t.ok(scrolled.length >= 80, `scrolling loaded more (${scrolled.length} posts)`)
  t.equal(new Set(scrolled).size, scrolled.length, 'no duplicates')
  t.match(await page.textContent('#feed-status'), new RegExp(`^${scrolled.length} of 500`), 'the rest of the page follows')
  await page.fill('#compose-text', 'Hello <streams> & co')
  await page.click('.compose button[type="submit"]')
  await page.waitForSelector('#posts > li:first-child:has-text("Hello <streams> & co")')
  await page.click('#post-499 button.remove')
  await page.waitForSelector('#post-499', { state: 'detached' })
  await rule('posted and removed')
  // The server cuts the socket (as for a client that fell behind): the client rejoins at once.
  const rt = (app as unknown as Record<symbol, Runtime>)[kRuntime]!
  for (const s of rt.sessions as Set<Session>) s.transport.close(4002, 'FST_LIVEVIEW_SLOW_CLIENT')
  await page.waitForFunction(() => document.querySelectorAll('#posts > li').length === 20 && document.querySelector('[data-lv-root].lv-connected') !== null)
  await rule('rejoined')
  const rebuilt = await keys(page)
  t.same(rebuilt.slice(0, 2), ['500', '499'], "rebuilt from the new session's mount")
  t.equal(new Set(rebuilt).size, 20, 'no duplicates after the rejoin')
  t.same(errors, [], 'no console errors')
})

t.test('the dashboard: panels load in the background; a failed one shows its error, the others their figures', async (t) => {
  // Each service answers when the test says so (no timing).
  const gates = new Map<Panel, () => void>()
  const opened: Panel[] = []
  const wait = services.wait
  services.wait = (panel) => new Promise<void>((resolve) => { opened.push(panel); gates.set(panel, resolve) })
  t.teardown(() => { services.wait = wait })
  const answer = async (panel: Panel): Promise<void> => {
    while (!gates.has(panel)) await new Promise((resolve) => setTimeout(resolve, 10))
    gates.get(panel)!()
    gates.delete(panel)
  }
  const app = await buildDemo({ logger: false, secret: 'browser-streams-secret-long-enough-000000' })
  t.teardown(() => app.close())
  const base = await app.listen({ host: '127.0.0.1', port: 0 })
  const { page, errors } = await openLivePage(t, browser, `${base}/dashboard`)
  t.equal(await page.textContent('#panel-visitors .value'), 'Loading…', 'loading at first')
  await page.click('#ping')
  await page.waitForFunction(() => document.querySelector('#pings')?.textContent === '1')
  t.equal(await page.getAttribute('#panel-visitors', 'aria-busy'), 'true', 'a click ran while every panel was still loading')
  await answer('errors')
  await page.waitForSelector('#panel-errors.failed')
  t.equal(await page.textContent('#panel-errors .value'), 'The metrics service did not answer.')
  t.equal(await page.getAttribute('#panel-sales', 'aria-busy'), 'true', 'the others still load')
  await answer('sales')
  await answer('visitors')
  await page.waitForSelector('#panel-visitors.ok')
  await page.waitForSelector('#panel-sales.ok')
  t.match(await page.textContent('#panel-sales .value'), /^\d+$/)
  t.match(await page.textContent('#panel-visitors .value'), /^\d+$/)
  await settled(page)
  t.equal(await pageRule(page, serverHtml(app)), undefined, 'the page rule holds')
  await page.click('#panel-sales button.reload')
  await page.waitForSelector('#panel-sales.loading')
  t.match(await page.textContent('#panel-sales .value'), /^Loading… \(was \d+\)$/, 'reloading shows the last value')
  await answer('sales')
  await page.waitForSelector('#panel-sales.ok')
  t.same(opened.sort(), ['errors', 'sales', 'sales', 'visitors'], 'each service was asked once per load, none on the HTTP render')
  t.same(errors, [], 'no console errors')
})

// Chromium: a guarded route stays guarded through live navigation and rejoin (issue 10's
// README example): an lv-navigate link from a public page to a hook-guarded /admin loads it
// in full for a stranger (HTTP answers: the login page), mounts it live for an admin, and a
// user logged out everywhere lands on the login page.
import t, { type Test } from 'tap'
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify'
import type { Browser } from 'playwright-core'
import { launchChromium, openLivePage, pageRule, settled } from './chromium.js'
import liveview, { LiveView, defineEvents } from '../plugin.js'
import { serverHtml, viewsRoot } from './helpers.js'

t.setTimeout(120000)
const browser: Browser = await launchChromium()
t.teardown(async () => { await browser.close() })

const cookie = (request: FastifyRequest, name: string): string | undefined => new RegExp(`(?:^|;\\s*)${name}=([^;]*)`).exec(request.headers.cookie ?? '')?.[1]

async function adminOnly (request: FastifyRequest, reply: FastifyReply): Promise<void> {
  if (cookie(request, 'role') !== 'admin') await reply.redirect('/login')
}

class Home extends LiveView {
  static template = 'gate'
  who = ''
  mount (_params: unknown, session: { key?: string }): void { this.who = session.key ?? 'stranger' }
  context () { return { who: this.who } }
}

class Admin extends LiveView {
  static template = 'admin'
  static events = defineEvents<Admin>({ inc: true })
  count = 0
  inc (): void { this.count++ }
  context () { return { count: this.count } }
}

class Login extends LiveView {
  static template = 'login'
  context () { return { bumps: 'Please sign in' } }
}

async function start (t: Test): Promise<{ app: FastifyInstance, base: string }> {
  const app = Fastify({ logger: false })
  await app.register(liveview, { root: viewsRoot, secret: 'browser-auth-secret-that-is-long-enough-01', session: (request) => ({ key: cookie(request, 'user') }) })
  app.liveView('/', Home)
  app.liveView('/login', Login)
  app.liveView('/admin', Admin, { preHandler: adminOnly })
  app.get('/favicon.ico', async (_req, reply) => reply.code(204).send())
  const base = await app.listen({ host: '127.0.0.1', port: 0 })
  t.teardown(() => app.close())
  return { app, base }
}

t.test('a stranger\'s lv-navigate link to the guarded /admin loads it in full: the login page; the admin view never mounts', async (t) => {
  const { base } = await start(t)
  const { page } = await openLivePage(t, browser, `${base}/`)
  await page.click('#to-admin')
  await page.waitForURL(`${base}/login`)
  await page.waitForSelector('[data-lv-root].lv-connected')
  t.equal(await page.textContent('#bumps'), 'Please sign in')
  t.equal(await page.locator('#admin').count(), 0)
})

t.test('an admin\'s link mounts /admin live; logged out everywhere, the page lands on the login page', async (t) => {
  const { app, base } = await start(t)
  const { page, errors } = await openLivePage(t, browser, `${base}/`, () => { document.cookie = 'role=admin'; document.cookie = 'user=ada' })
  t.equal(await page.textContent('#who'), 'ada')
  await page.evaluate(() => { (window as unknown as { marker: number }).marker = 1 })
  await page.click('#to-admin')
  await page.waitForSelector('#admin')
  t.equal(page.url(), `${base}/admin`)
  t.equal(await page.evaluate(() => (window as unknown as { marker?: number }).marker), 1, 'a live navigation: no page load')
  await page.click('#inc')
  await settled(page)
  t.equal(await page.textContent('#count'), '1')
  t.same(await pageRule(page, serverHtml(app)), undefined, 'the page rule after the navigation and a click')
  // Log out: the cookies go, and the app disconnects the user's sessions everywhere.
  await page.context().clearCookies()
  await app.liveViewDisconnect('ada')
  await page.waitForURL(`${base}/login`, { timeout: 20000 })
  await page.waitForSelector('[data-lv-root].lv-connected')
  t.equal(await page.textContent('#bumps'), 'Please sign in')
  t.same(errors.filter((e) => !/WebSocket|status of 4/.test(e)), [], 'no other console errors')
})

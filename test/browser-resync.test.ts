import t, { type Test } from 'tap'
import Fastify, { type FastifyInstance } from 'fastify'
import type { Browser, Page } from 'playwright-core'
import { launchChromium, openLivePage } from './chromium.js'
import liveview from '../plugin.js'
import { Counter } from './fixtures/views.js'
import { SECRET, viewsRoot } from './helpers.js'


t.setTimeout(120000)
let browser: Browser | undefined
t.teardown(async () => { await browser?.close() })
browser = await launchChromium()

async function serve (port = 0, tokenMaxAgeMs?: number): Promise<{ app: FastifyInstance, base: string }> {
  const app = Fastify({ logger: false })
  await app.register(liveview, { root: viewsRoot, secret: SECRET, ...(tokenMaxAgeMs === undefined ? {} : { tokenMaxAgeMs }) })
  app.liveView('/counter', Counter)
  app.get('/favicon.ico', async (_req, reply) => reply.code(204).send())
  const base = await app.listen({ host: '127.0.0.1', port })
  return { app, base }
}

const open = async (t: Test, url: string): Promise<{ page: Page, errors: string[] }> => await openLivePage(t, browser!, url)

t.test('a patch that no longer fits the DOM makes the client resync with full HTML', async (t) => {
  const { app, base } = await serve()
  t.teardown(() => app.close())
  const { page, errors } = await open(t, `${base}/counter?start=1`)
  // Something outside the client's knowledge changes the DOM: the next patch cannot apply.
  await page.evaluate(() => { document.querySelector('main.counter p')!.remove() })
  await page.click('button[lv-click=inc]')
  await page.waitForFunction(() => document.getElementById('count')?.textContent === '2')
  t.ok(await page.$('main.counter p'), 'the full HTML brought the removed paragraph back')
  await page.click('button[lv-click=inc]')
  await page.waitForFunction(() => document.getElementById('count')?.textContent === '3')
  t.same(errors, [], 'no console errors')
})

t.test('a rejoin with an expired token reloads the page, which then works', async (t) => {
  const first = await serve(0, 1500)
  const port = Number(new URL(first.base).port)
  const { page, errors } = await open(t, `${first.base}/counter?start=5`)
  await page.evaluate(() => { (window as unknown as { marker: number }).marker = 1 })
  await first.app.close()
  await page.waitForSelector('[data-lv-root].lv-disconnected')
  await new Promise((resolve) => setTimeout(resolve, 1600))
  const second = await serve(port, 1500)
  t.teardown(() => second.app.close())
  // The client rejoins with its (now expired) token; the server says reload.
  await page.waitForFunction(() => (window as unknown as { marker?: number }).marker === undefined, undefined, { timeout: 20000 })
  await page.waitForSelector('[data-lv-root].lv-connected')
  await page.click('button[lv-click=inc]')
  await page.waitForFunction(() => document.getElementById('count')?.textContent === '6')
  t.same(errors.filter((e) => !/ERR_CONNECTION_REFUSED|WebSocket connection/.test(e)), [], 'only the browser\'s own connection failures while the server was down')
})

// The fallback transport for real: two Fastify processes (Redis for PubSub) behind a
// round-robin balancer that refuses WebSocket upgrades. Chromium's sockets fail, the client
// falls back to long polling, and polls and sends that reach the process without the session
// are relayed to it; events are answered in order and an upload goes through.
import t from 'tap'
import { randomBytes } from 'node:crypto'
import type { Browser } from 'playwright-core'
import { launchChromium, openLivePage, pageRule, settled } from './chromium.js'
import { freePort, startRedis, stopRedis } from './redis-server.js'
import { startProxy } from './proxy.js'
import { ask, startChild, type Child } from './children.js'

t.setTimeout(120000)

const redisPort = await freePort()
const redis = await startRedis(redisPort)
t.teardown(() => stopRedis(redis))

interface State { views: Array<[string, string]>, served: number }
const stateOf = async (c: Child): Promise<State> => await ask<State>(c.proc, { cmd: 'state' })
/** The live root of the one joined session of `view`, wherever it lives. */
const ownerHtml = async (view: string): Promise<string> => {
  const held = (await Promise.all(children.map(stateOf))).flatMap((s) => s.views).filter(([name]) => name === view)
  if (held.length !== 1) throw new Error(`expected one session of ${view} in all: ${held.length}`)
  return held[0]![1]
}
/** Console errors but the browser's own about the refused sockets. */
const own = (errors: string[]): string[] => errors.filter((e) => !/WebSocket connection to .* failed/.test(e))

const children = await Promise.all([1, 2].map(async () => await startChild(t, 'fallback-child', [String(redisPort)])))
const proxy = await startProxy(() => children.map((c) => c.port), 'round-robin', true)
t.teardown(() => proxy.close())

let browser: Browser
t.before(async () => { browser = await launchChromium() })
t.teardown(() => browser?.close())

t.test('WebSockets blocked: the page falls back to long polling, relayed between processes', async (t) => {
  const { page, errors } = await openLivePage(t, browser, `${proxy.url}/tally`)
  t.ok(proxy.refused >= 3, `the balancer refused the socket upgrades (${proxy.refused})`)
  t.ok(await page.evaluate(() => +(sessionStorage.getItem('lv-lp') ?? 0) > Date.now()), 'the fallback is remembered for this tab')
  for (let i = 0; i < 5; i++) await page.click('#inc')
  await page.waitForFunction(() => document.querySelector('#n')!.textContent === '5')
  await settled(page)
  t.equal(await pageRule(page, await ownerHtml('Tally')), undefined, "the page equals the owning process's render")
  const served = (await Promise.all(children.map(stateOf))).map((s) => s.served)
  t.ok(served.every((n) => n > 0), `both processes served long-poll requests (${served.join(', ')}): the relay carried the other's`)
  t.same(own(errors), [], 'no console errors but the refused sockets\'')

  // A reload in the same tab goes straight to long polling (no new refusals).
  const before = proxy.refused
  await page.reload()
  await page.waitForSelector('[data-lv-root].lv-connected')
  t.equal(proxy.refused, before, 'remembered: no socket tried after a reload')
  // The page that left said so (a beacon): its session ended at once, not at its heartbeat.
  for (let i = 0; i < 50 && (await Promise.all(children.map(stateOf))).flatMap((s) => s.views).length > 1; i++) await new Promise((resolve) => setTimeout(resolve, 50))
  t.equal((await Promise.all(children.map(stateOf))).flatMap((s) => s.views).length, 1, 'one session left: the reloaded page\'s')
})

t.test('an upload over the fallback (chunks in base64)', async (t) => {
  const { page, errors } = await openLivePage(t, browser, `${proxy.url}/cards`)
  await page.setInputFiles('#card-2 input', { name: 'two.pdf', mimeType: 'application/pdf', buffer: randomBytes(40_000) })
  await page.waitForSelector('#card-2 .entry')
  await page.click('#card-2 button')
  await page.waitForSelector('#card-2 .saved')
  t.equal(await page.textContent('#card-2 .saved'), 'two.pdf 40000', 'the file arrived whole')
  await settled(page)
  t.equal(await pageRule(page, await ownerHtml('Cards')), undefined)
  t.same(own(errors), [])
})

// State that survives a restart, for real: two Fastify processes sharing a redis-server
// behind a load balancer, a Chromium tab mid-wizard, kill -9 of the process that holds its
// socket; the tab rejoins the other process and goes on at the same step with the same data.
import t from 'tap'
import { WebSocket } from 'ws'
import type { Browser } from 'playwright-core'
import { PROTOCOL_VERSION } from '../plugin.js'
import { RedisStore } from '../redis.js'
import { Persistence, persistSpec } from '../lib/persist.js'
import { Wizard } from './fixtures/wizard.js'
import { SECRET, instanceOf } from './helpers.js'
import { fillIn, launchChromium, pageRule, settled } from './chromium.js'
import { freePort, startRedis, stopRedis } from './redis-server.js'
import { startProxy } from './proxy.js'
import { ask, startChild, type Child } from './children.js'

t.setTimeout(120000)

const redisPort = await freePort()
const redis = await startRedis(redisPort)
t.teardown(() => stopRedis(redis))

const html = async (c: Child): Promise<string> => (await ask<{ html: string }>(c.proc, { cmd: 'html' })).html

const [first, second] = await Promise.all([1, 2].map(async () => await startChild(t, 'persist-child', [String(redisPort)])))
const alive = new Set([first!, second!])
// Failover: the first live process takes every connection (the page and its socket on one
// process, so killing it is what a crash does to a user); the other once it is gone.
const proxy = await startProxy(() => [...alive].map((c) => c.port), 'failover')
t.teardown(() => proxy.close())

let browser: Browser
t.before(async () => { browser = await launchChromium() })
t.teardown(() => browser?.close())

t.test('a tab mid-wizard survives kill -9 of its process: it rejoins the other at the same step with the same data', async (t) => {
  const context = await browser.newContext()
  t.teardown(() => context.close())
  await context.addCookies([{ name: 'user', value: 'ada', url: proxy.url }])
  const page = await context.newPage()
  page.setDefaultTimeout(15000)
  const errors: string[] = []
  page.on('pageerror', (e) => { errors.push(String(e)) })
  await page.goto(`${proxy.url}/wizard?tab=billing`)
  await page.waitForSelector('[data-lv-root].lv-connected')
  await page.click('#next')
  await page.waitForFunction(() => document.querySelector('#step')!.textContent === '2')
  await fillIn(page, '#name-in', 'Ada & co')
  await page.click('#named button')
  await page.waitForFunction(() => document.querySelector('#name')!.textContent === 'Ada & co')
  await settled(page)
  t.match(await html(first!), '<p id="step">2</p><p id="name">Ada &amp; co</p>', 'the first process holds the session')
  t.equal(await html(second!), '0 joined sessions', 'the second none')
  // The save follows the reply: wait until Redis has it (as the processes read it).
  const token = (await page.getAttribute('[data-lv-root]', 'data-lv-token'))!
  const instance = instanceOf(token)
  const store = new RedisStore({ redis: { host: '127.0.0.1', port: redisPort } })
  t.teardown(() => store.close())
  const persistence = new Persistence([SECRET], store, 60000, 65536, Date.now)
  const spec = persistSpec('Wizard', Wizard.persist)!
  for (let i = 0; (await persistence.load('Wizard', 'ada', instance, spec))?.name !== 'Ada & co'; i++) {
    if (i === 100) { t.fail('not saved in Redis within 5 s'); break }
    await new Promise((resolve) => setTimeout(resolve, 50))
  }

  alive.delete(first!)
  first!.proc.kill('SIGKILL')
  await page.waitForSelector('[data-lv-root].lv-disconnected, [data-lv-root]:not(.lv-connected)', { state: 'attached' })
  await page.waitForSelector('[data-lv-root].lv-connected')
  await settled(page)
  t.equal(await page.textContent('#step'), '2', 'the same step')
  t.equal(await page.textContent('#name'), 'Ada & co', 'the same data')
  t.equal(await page.textContent('#tab'), 'billing', 'handleParams ran on the rejoin')
  t.equal(await pageRule(page, await html(second!)), undefined, "the page equals the second process's render")
  await page.click('#next')
  await page.waitForFunction(() => document.querySelector('#step')!.textContent === '3')
  await settled(page)
  t.equal(await pageRule(page, await html(second!)), undefined, 'and it goes on there')
  t.same(errors, [])

  // The page's token with another user's cookie: refused, nothing restored.
  const frames = await joinWith(token, 'bob')
  t.equal(frames[0]?.[1], 'err')
  t.equal((frames[0]?.[2] as { code: string }).code, 'FST_LIVEVIEW_SESSION_MISMATCH', "user A's token with user B's cookie restores nothing")
  const own = await joinWith(token, 'ada')
  t.match((own[0]?.[2] as { html: string }).html, '<p id="step">3</p><p id="name">Ada &amp; co</p>', "with A's own cookie, another socket of the page restores it")
})

/** Joins the wizard over a raw socket through the balancer as `user`; the frames until the join's reply. */
async function joinWith (token: string, user: string): Promise<Array<[number, string, unknown]>> {
  const ws = new WebSocket(`${proxy.url.replace('http', 'ws')}/_live/ws`, { headers: { cookie: `user=${user}`, origin: proxy.url } })
  const frames: Array<[number, string, unknown]> = []
  try {
    await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject) })
    const replied = new Promise<void>((resolve) => {
      ws.on('message', (d) => {
        const f = JSON.parse(d.toString()) as [number, string, unknown]
        frames.push(f)
        if (f[0] === 1) resolve()
      })
    })
    ws.send(JSON.stringify([1, 'join', { v: PROTOCOL_VERSION, token, url: `${proxy.url}/wizard?tab=billing`, pristine: false }]))
    await replied
  } finally {
    ws.terminate()
  }
  return frames.filter((f) => f[0] === 1)
}

import t, { type Test } from 'tap'
import type { LiveHook } from '../client/types.js' // as an app's front-end code gets them
import Fastify, { type FastifyInstance } from 'fastify'
import type { Browser, Page } from 'playwright-core'
import { launchChromium, openLivePage, serverDown } from './chromium.js'
import liveview from '../plugin.js'
import { SECRET, viewsRoot } from './helpers.js'
import { Hooks } from './fixtures/hooks.js'


t.setTimeout(120000)

async function buildApp (): Promise<FastifyInstance> {
  const app = Fastify({ logger: false })
  await app.register(liveview, { root: viewsRoot, secret: SECRET })
  app.liveView('/h', Hooks)
  // Chromium asks for one; a 404 would be a console error.
  app.get('/favicon.ico', async (_req, reply) => reply.code(204).send())
  return app
}

let browser: Browser | undefined
let app = await buildApp()
t.teardown(async () => { await browser?.close(); await app.close() })
const base = await app.listen({ host: '127.0.0.1', port: 0 })
browser = await launchChromium()

/** What a hook's callbacks get as `this` (client/hooks.ts), as this page uses it. */
interface Hook {
  el: Element
  uid: number
  pushEvent: (event: string, params?: Record<string, unknown>) => Promise<unknown>
  handleEvent: (event: string, callback: (payload: unknown) => void) => () => void
}

declare global {
  interface Window {
    hookLog: string[]
    hookOf: Record<string, Hook>
  }
}

// Registered before the client loads, as a page's own script would.
function register (): void {
  let uid = 0
  window.hookLog = []
  window.hookOf = {}
  const log = (s: string): void => { window.hookLog.push(s) }
  const Probe: LiveHook<{ uid: number }> = {
      mounted () {
        this.uid = ++uid
        window.hookOf[this.el.id] = this
        log(`mounted ${this.el.id}`)
        if (this.el.id === 'h1') this.handleEvent('pong', (p) => { log(`pong ${JSON.stringify(p)}`) })
      },
      updated () { log(`updated ${this.el.id}`) },
      destroyed () { log(`destroyed ${this.el.id}`) },
      disconnected () { log(`disconnected ${this.el.id}`) },
      reconnected () { log(`reconnected ${this.el.id}`) }
  }
  window.lvHooks = { Probe }
}

async function open (t: Test, url = base): Promise<{ page: Page, errors: string[], log: () => Promise<string[]>, until: (s: string) => Promise<string[]> }> {
  const { page, errors } = await openLivePage(t, browser!, `${url}/h`, register)
  const log = async (): Promise<string[]> => await page.evaluate(() => window.hookLog)
  /** The log once it holds `s`. */
  const until = async (s: string): Promise<string[]> => {
    await page.waitForFunction((s) => window.hookLog.includes(s), s)
    return await log()
  }
  return { page, errors, log, until }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

t.test('mounted after join, updated on a patch of the element or its subtree, destroyed on removal; keyed items keep their hook', async (t) => {
  const { page, errors, log, until } = await open(t)
  t.same(await log(), ['mounted h1', 'mounted item-1', 'mounted item-2'], 'every hooked element, once, after the join')

  await page.click('#bump')
  await until('updated h1')
  await page.click('#count')
  await page.waitForFunction(() => document.getElementById('count')!.textContent === 'Clicked 1')
  t.same((await log()).slice(3), ['updated h1'], 'a change in its subtree updates it; changes elsewhere (and loading classes) do not')

  const uid2 = await page.evaluate(() => window.hookOf['item-2']!.uid)
  await page.click('#add')
  await until('mounted item-3')
  await page.click('#remove')
  await until('destroyed item-1')
  await page.click('#count')
  await page.waitForFunction(() => document.getElementById('count')!.textContent === 'Clicked 2')
  t.same((await log()).slice(4), ['mounted item-3', 'destroyed item-1'], 'an added item mounts, a removed one is destroyed, the others are left alone')
  t.equal(await page.evaluate(() => window.hookOf['item-2']!.uid), uid2, 'item-2 keeps its hook instance')
  t.same(errors, [], 'no console errors')
})

t.test('a hook registered after the client loaded is used for an element a patch adds', async (t) => {
  const { page, errors, until } = await open(t)
  await page.evaluate(() => {
    window.lvHooks!.Late = { mounted () { window.hookLog.push(`late mounted ${this.el.textContent}`) } }
  })
  await page.click('#show-late')
  await until('late mounted late')
  t.same(errors, [], 'no console errors')
})

t.test('pushEvent resolves with the handler\'s return value, rejects with the error code; handleEvent gets pushed events', async (t) => {
  const { page, errors, until } = await open(t)
  t.same(await page.evaluate(() => window.hookOf.h1!.pushEvent('ask', { n: 21 })), { doubled: 42 })
  t.equal(await page.evaluate(() => window.hookOf.h1!.pushEvent('bump')), undefined, 'no return value: undefined')
  const err = await page.evaluate(() => window.hookOf.h1!.pushEvent('fail').then(() => null, (e: { code: string, message: string }) => e))
  t.equal(err?.code, 'FST_LIVEVIEW_HANDLER_FAILED')
  t.type(err?.message, 'string')

  await page.click('#ping')
  const log = await until('pong {"n":1}')
  t.equal(log.filter((s) => s.startsWith('pong')).length, 1, 'one listener (on h1), called once')
  t.same(errors, [], 'no console errors')
})

t.test('a handler that throws: lv-error on the root, and the page keeps working', async (t) => {
  const { page, errors } = await open(t)
  const seen = page.evaluate(() => new Promise((resolve) => {
    document.querySelector('[data-lv-root]')!.addEventListener('lv:error', (e) => { resolve((e as CustomEvent<{ code: string }>).detail.code) }, { once: true })
  }))
  await page.click('#fail')
  await page.waitForSelector('[data-lv-root].lv-error')
  t.equal(await seen, 'FST_LIVEVIEW_HANDLER_FAILED', 'lv:error with the code')
  await page.click('#count')
  await page.waitForFunction(() => document.getElementById('count')!.textContent === 'Clicked 1')
  t.ok(await page.locator('[data-lv-root].lv-connected').count(), 'still connected')
  t.same(errors, [], 'no console errors')
})

t.test('server restart mid-session: disconnected, reconnected, and a half-filled form is recovered', async (t) => {
  const port = new URL(base).port
  const { page, errors, log, until } = await open(t)
  // Leaving the name sends its change; the email is typed into, not left: the server never sees it.
  await page.locator('#name').pressSequentially('Ada')
  await page.keyboard.press('Tab')
  await page.waitForFunction(() => document.getElementById('echo')!.textContent === 'gen 1: Ada /  / name')
  await page.keyboard.type('ada@example.test')
  await sleep(100)
  t.equal(await page.textContent('#echo'), 'gen 1: Ada /  / name', 'no change event while typing')

  const old = app
  await old.close()
  await page.waitForSelector('[data-lv-root].lv-disconnected')
  await until('disconnected item-2')
  t.same((await log()).filter((s) => s.startsWith('disconnected')), ['disconnected h1', 'disconnected item-1', 'disconnected item-2'])
  const down = await page.evaluate(() => window.hookOf.h1!.pushEvent('bump').then(() => null, (e: { code: string }) => e.code))
  t.equal(down, 'FST_LIVEVIEW_DISCONNECTED', 'pushEvent while disconnected rejects')
  // Long enough for the client to try (and fail) at least once.
  await sleep(700)

  Hooks.generation = 2
  app = await buildApp()
  await app.listen({ host: '127.0.0.1', port: Number(port) })
  await page.waitForSelector('[data-lv-root].lv-connected', { timeout: 20000 })
  await until('reconnected item-2')
  await page.waitForFunction(() => document.getElementById('echo')!.textContent!.startsWith('gen 2: Ada'), undefined, { timeout: 5000 }).catch(async () => {
    t.fail(`echo: ${await page.textContent('#echo')}; log: ${(await log()).join(', ')}; errors: ${errors.join(' | ')}`)
  })
  t.equal(await page.textContent('#echo'), 'gen 2: Ada / ada@example.test / name', 'the new session got the form, _target the first field')
  t.equal(await page.inputValue('#name'), 'Ada', 'typed values stay in the fields')
  t.equal(await page.inputValue('#email'), 'ada@example.test')
  const after = (await log()).slice(3)
  t.same(after.filter((s) => !s.startsWith('updated')), [
    'disconnected h1', 'disconnected item-1', 'disconnected item-2',
    'reconnected h1', 'reconnected item-1', 'reconnected item-2'
  ], 'no hook is mounted or destroyed again')

  // The page works on the new server.
  await page.click('#count')
  await page.waitForFunction(() => document.getElementById('count')!.textContent === 'Clicked 1')
  t.same(errors.filter((s) => !serverDown(s)), [], 'no console errors but the refused connections')
})

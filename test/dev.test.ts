// The development loop: a template saved under the views root re-renders open pages over
// their sockets with their state; a failed render is said to the page (its overlay), with the
// .eta line; a failed page load in a browser is an error page; none of it in production.
import t, { type Test } from 'tap'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { FastifyInstance } from 'fastify'
import { LiveComponent, LiveView, defineEvents, type LiveViewOptions } from '../plugin.js'
import { live } from '../testing.js'
import { buildApp } from './helpers.js'
import { kRuntime, type Runtime } from '../lib/runtime.js'

class Badge extends LiveComponent<{ n: number }> {
  static template = 'badge'
  context (): object { return { n: this.props.n } }
}

class Count extends LiveView {
  static template = 'count'
  static events = defineEvents<Count>({ inc: true })
  static components = { badge: Badge }
  n = 0
  inc (): void { this.n++ }
  context (): object { return { n: this.n } }
}

const COUNT = '<p id="n"><%= it.n %></p><button lv-click="inc">+</button><%~ it.component(\'badge\', { id: 1, n: it.n }) %>'

/** A views root of its own (its files are edited), removed when the test ends. */
function viewsDir (t: Test): string {
  const dir = mkdtempSync(join(tmpdir(), 'lv-dev-'))
  t.teardown(() => { rmSync(dir, { recursive: true, force: true }) })
  writeFileSync(join(dir, 'count.eta'), COUNT)
  writeFileSync(join(dir, 'badge.eta'), '<span id="badge"><%= it.n %></span>')
  return dir
}

async function appOn (t: Test, dir: string, options: LiveViewOptions = {}): Promise<FastifyInstance> {
  return await buildApp(t, { root: dir, ...options }, (app) => { app.liveView('/count', Count) })
}

/** Settles the page until `check` holds or 5 s pass. */
async function until (page: { settle: () => Promise<unknown> }, check: () => boolean): Promise<void> {
  for (let i = 0; i < 250 && !check(); i++) {
    await page.settle()
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

t.test('an edited template re-renders open pages, state kept; a component\'s too', async (t) => {
  const dir = viewsDir(t)
  const app = await appOn(t, dir)
  const page = await live(app, '/count')
  t.teardown(() => page.close())
  await page.click('button')
  await page.click('button')
  t.equal(page.text('#n'), '2')
  writeFileSync(join(dir, 'count.eta'), COUNT.replace('<p id="n">', '<p id="n" class="edited">Count: '))
  await until(page, () => page.html.includes('class="edited"'))
  t.match(page.html, '<p id="n" class="edited">Count: 2</p>', 'the new template, with the state the page had')
  writeFileSync(join(dir, 'badge.eta'), '<span id="badge">#<%= it.n %></span>')
  await until(page, () => page.text('#badge') === '#2')
  t.equal(page.text('#badge'), '#2', "a component's template too")
  await page.click('button')
  t.equal(page.text('#n'), 'Count: 3', 'and the page goes on')
})

t.test('a template saved broken: the page is told, with the .eta file and line; fixed, it renders', async (t) => {
  const dir = viewsDir(t)
  const app = await appOn(t, dir)
  const page = await live(app, '/count')
  t.teardown(() => page.close())
  writeFileSync(join(dir, 'count.eta'), '<p id="n"><%= it.n %></p>\n<button lv-click="inc">+</button>\n<%= it.missing.field %>\n')
  // Said to the page as an error frame of a server-initiated update (the overlay shows it).
  await until(page, () => page.updates.some((u) => u.error !== undefined))
  const err = page.updates.find((u) => u.error !== undefined)?.error
  t.equal(err?.code, 'FST_LIVEVIEW_RENDER_FAILED')
  t.match(err?.message, /count\.eta:3/, 'names the file and line')
  t.match(err?.message, />> 3\| <%= it\.missing\.field %>/, 'with the line itself')
  writeFileSync(join(dir, 'count.eta'), COUNT.replace('<p id="n">', '<p id="n" class="fixed">'))
  await until(page, () => page.html.includes('class="fixed"'))
  t.match(page.html, '<p id="n" class="fixed">0</p>')
})

t.test('a page that fails to render answers a browser with an error page in development', async (t) => {
  const dir = viewsDir(t)
  writeFileSync(join(dir, 'count.eta'), '<p>\n<%= it.missing.field %>\n</p>')
  const app = await appOn(t, dir)
  const rt = (app as unknown as Record<symbol, Runtime>)[kRuntime]!
  t.equal((await app.inject(rt.client.dev.url)).statusCode, 200, 'the overlay script is served in development')
  const html = await app.inject({ url: '/count', headers: { accept: 'text/html' } })
  t.equal(html.statusCode, 500)
  t.match(html.headers['content-type'], /^text\/html/)
  t.match(html.body, /<div id="lv-dev-overlay" role="alert"/)
  t.match(html.body, /count\.eta:2/, 'the .eta line')
  t.match(html.body, /&gt;&gt; 2\| &lt;%= it\.missing\.field %&gt;/, 'escaped')
  const json = await app.inject({ url: '/count' })
  t.equal(json.statusCode, 500)
  t.match(json.headers['content-type'], /json/, 'a client that does not ask for HTML gets the error as before')
})

t.test('nothing of it in production: no watcher, no overlay script, no details', async (t) => {
  const dir = viewsDir(t)
  const app = await appOn(t, dir, { production: true })
  const res = await app.inject('/count')
  t.notMatch(res.body, /\/_live\/dev\./, 'no overlay script on the page')
  const rt = (app as unknown as Record<symbol, Runtime>)[kRuntime]!
  t.equal((await app.inject(rt.client.dev.url)).statusCode, 404, 'nor is it served')
  const page = await live(app, '/count')
  t.teardown(() => page.close())
  writeFileSync(join(dir, 'count.eta'), COUNT.replace('<p id="n">', '<p id="n" class="edited">'))
  await new Promise((resolve) => setTimeout(resolve, 300))
  await page.settle()
  t.notMatch(page.html, 'edited', 'the page did not change')
  writeFileSync(join(dir, 'count.eta'), '<p>\n<%= it.missing.field %>\n</p>')
  const failed = await app.inject({ url: '/count?again=1', headers: { accept: 'text/html' } })
  t.equal(failed.statusCode, 200, 'templates are cached: the broken file is not read')
  await t.rejects(appOn(t, viewsDir(t), { production: true, watch: true }), { code: 'FST_LIVEVIEW_OPTIONS_INVALID', message: /never watched in production/ })
})

import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import type { FastifyInstance } from 'fastify'
import t, { type Test } from 'tap'
import { buildDemo } from '../examples/demo/server.js'
import { SECRET, connect, type Frame, type WireClient } from './helpers.js'

async function demo (t: Test): Promise<FastifyInstance> {
  const app = await buildDemo({ logger: false, secret: SECRET })
  t.teardown(() => app.close())
  await app.ready()
  return app
}

/** The view's whole HTML as the server holds it now (a `sync` answers with full HTML). */
async function current (client: WireClient): Promise<string> {
  const ref = client.nextRef()
  client.send([ref, 'sync'])
  const reply = await client.reply(ref)
  if (reply[1] !== 'h') throw new Error(`sync answered ${JSON.stringify(reply)}`)
  return reply[3] as string
}

/** Error code of an `err` reply. */
function codeOf (reply: Frame): string | undefined {
  return reply[1] === 'err' ? (reply[2] as { code: string }).code : undefined
}

const changed = (reply: Frame): boolean => reply[1] === 'p' || reply[1] === 'h'

t.test('every page is complete HTML, never cached', async (t) => {
  const app = await demo(t)
  const pages = [
    ['/', 'fastify-liveview demos', false],
    ['/counter', 'Counter', true],
    ['/form', 'Sign up', true],
    ['/todos', 'Todos', true]
  ] as const
  for (const [url, heading, live] of pages) {
    const res = await app.inject({ url })
    t.equal(res.statusCode, 200, url)
    t.match(res.headers['content-type'], /^text\/html; charset=utf-8/, url)
    t.equal(res.headers['cache-control'], 'no-store', url)
    t.match(res.body, /^<!DOCTYPE html>\s*<html lang="en">/, url)
    t.match(res.body, /<\/body>\s*<\/html>\s*$/, url)
    t.match(res.body, /<title>[^<]+ · fastify-liveview demo<\/title>/, url)
    t.ok(res.body.includes(`<h1>${heading}</h1>`), `${url} has its heading`)
    t.ok(res.body.includes('<a href="/">'), `${url} links home`)
    t.equal(res.body.includes('data-lv-root'), live, `${url} live root`)
    t.equal(/<script src="\/_live\/client\.[\w-]+\.js" defer><\/script>/.test(res.body), live, `${url} client script`)
  }

  const index = (await app.inject({ url: '/' })).body
  for (const href of ['/counter', '/form', '/todos']) t.ok(index.includes(`<a href="${href}">`), `index links ${href}`)

  const counter = (await app.inject({ url: '/counter' })).body
  const script = /<script src="([^"]+)"/.exec(counter)?.[1] as string
  const js = await app.inject({ url: script })
  t.equal(js.statusCode, 200, 'the page\'s client script is served')
})

t.test('counter: starts from ?start, +, − and reset', async (t) => {
  const app = await demo(t)
  const { client, html, join } = await connect(t, app, '/counter?start=7')
  t.match(html, /<strong id="count">7<\/strong>/)
  t.same(join, [1, 'ok', 0], 'the connected render matches the page')

  t.ok(changed(await client.event('add', { by: '1' })))
  t.match(await current(client), /<strong id="count">8<\/strong>/)
  await client.event('add', { by: '-1' })
  await client.event('add', { by: '-1' })
  t.match(await current(client), /<strong id="count">6<\/strong>/)
  t.ok(changed(await client.event('reset')))
  t.match(await current(client), /<strong id="count">7<\/strong>/)

  t.equal(codeOf(await client.event('add', { by: 'lots' })), 'FST_LIVEVIEW_PARAMS_INVALID')
  t.equal(codeOf(await client.event('add', { by: '1000' })), 'FST_LIVEVIEW_PARAMS_INVALID')
  t.match(await current(client), /<strong id="count">7<\/strong>/, 'refused events change nothing')

  const bad = await app.inject({ url: '/counter?start=abc' })
  t.match(bad.body, /<strong id="count">0<\/strong>/, 'a start that is not a number counts from 0')
})

t.test('form: validates on change, succeeds on a valid submit', async (t) => {
  const app = await demo(t)
  const { client, html, join } = await connect(t, app, '/form')
  t.same(join, [1, 'ok', 0])
  for (const field of ['name', 'email', 'age', 'terms']) {
    t.match(html, new RegExp(`<label for="${field}">`), `${field} has a label`)
    t.match(html, new RegExp(`<p class="error" id="${field}-error"></p>`), `${field} has no error yet`)
  }

  t.ok(changed(await client.event('validate', { name: 'Ada', email: 'ada-at-example', age: '', _target: 'email' })))
  let page = await current(client)
  t.match(page, /<p class="error" id="email-error">Please enter an email address/)
  t.match(page, /id="email"[^>]*aria-invalid="true"/)
  t.match(page, /id="email"[^>]*value="ada-at-example"/, 'the typed value is kept')
  t.match(page, /<p class="error" id="age-error"><\/p>/, 'an untouched field shows no error')

  await client.event('validate', { name: 'Ada', email: 'ada@example.com', age: '', _target: 'email' })
  page = await current(client)
  t.match(page, /<p class="error" id="email-error"><\/p>/, 'the error goes once the email is fixed')
  t.match(page, /id="email"[^>]*aria-invalid="false"/)

  await client.event('save', { name: 'Ada', email: 'ada@example.com', age: '9' })
  page = await current(client)
  t.match(page, /id="age-error">You must be at least 13/)
  t.match(page, /id="terms-error">Please accept the terms/, 'an unticked box is absent from the params')
  t.notMatch(page, /Thanks/)

  t.ok(changed(await client.event('save', { name: ' Ada <Lovelace> ', email: 'ada@example.com', age: '36', terms: 'yes' })))
  page = await current(client)
  t.match(page, /role="status"/)
  t.match(page, /Thanks, <strong>Ada &lt;Lovelace&gt;<\/strong>! You are signed up as ada@example.com\./)
  t.notMatch(page, /<form/)

  await client.event('restart')
  page = await current(client)
  t.match(page, /<form lv-change="validate" lv-submit="save"/)
  t.match(page, /id="name"[^>]*value=""/)
})

t.test('todos: add, toggle, delete', async (t) => {
  const app = await demo(t)
  const { client, html, join } = await connect(t, app, '/todos')
  t.same(join, [1, 'ok', 0])
  t.match(html, /<li id="todo-1" class="done">/)
  t.match(html, /<li id="todo-2" class="open">/)
  t.match(html, /<strong id="open-count">1<\/strong> open of 2/)

  await client.event('edit', { text: 'Buy milk', _target: 'text' })
  t.match(await current(client), /id="new-todo"[^>]*value="Buy milk"/)
  t.ok(changed(await client.event('add', { text: 'Buy milk' })))
  let page = await current(client)
  t.match(page, /<li id="todo-3" class="open">[\s\S]*?<span class="text" id="todo-3-text">Buy milk<\/span>/)
  t.match(page, /<strong id="open-count">2<\/strong> open of 3/)
  t.match(page, /id="new-todo"[^>]*value=""/, 'the field is cleared after an add')

  t.ok(changed(await client.event('toggle', { id: '3' })))
  page = await current(client)
  t.match(page, /<li id="todo-3" class="done">[\s\S]*?aria-pressed="true"/)
  t.match(page, /<strong id="open-count">1<\/strong> open of 3/)
  await client.event('toggle', { id: '3' })
  t.match(await current(client), /<li id="todo-3" class="open">/)

  t.ok(changed(await client.event('remove', { id: '1' })))
  page = await current(client)
  t.notMatch(page, /id="todo-1"/)
  t.match(page, /id="todo-2"[\s\S]*id="todo-3"/)
  t.match(page, /<strong id="open-count">2<\/strong> open of 2/)

  await client.event('add', { text: '   ' })
  t.match(await current(client), /<p class="error" id="new-todo-error">Please type/)
  t.equal(codeOf(await client.event('toggle', { id: 'three' })), 'FST_LIVEVIEW_PARAMS_INVALID')
  t.equal(codeOf(await client.event('add', { text: 'x'.repeat(201) })), 'FST_LIVEVIEW_PARAMS_INVALID')

  await client.event('remove', { id: '2' })
  await client.event('remove', { id: '3' })
  page = await current(client)
  t.notMatch(page, /<li /)
  t.match(page, /Nothing to do/)
})

/** Runs the demo's source as `npm start` runs its build: as the main module, with tap's loaders. */
function startDemo (t: Test, env: Record<string, string>) {
  const server = fileURLToPath(new URL('../examples/demo/server.ts', import.meta.url))
  // tap's TypeScript loader only: tap's coverage hooks into spawned children by itself
  // (passing its --import a second time loses the coverage of a child that exits on a signal).
  const execArgv = process.execArgv.filter((a) => !a.startsWith('--import') || a.includes('@tapjs/typescript'))
  const child = spawn(process.execPath, [...execArgv, server], {
    env: { ...process.env, NODE_ENV: 'development', ...env },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  t.teardown(() => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL') })
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => { stdout += chunk })
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => { stderr += chunk })
  const exited = once(child, 'exit') as Promise<[number | null, string | null]>
  /** Resolves with the address the server logs once it listens. */
  const listening = new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => { reject(new Error(`not listening after 20 s; stdout: ${stdout} stderr: ${stderr}`)) }, 20000)
    const look = (): void => {
      const m = /"msg":"Server listening at (http:\/\/[^"]+)"/.exec(stdout)
      if (m !== null) { clearTimeout(timer); resolve(m[1] as string) }
    }
    child.stdout.on('data', look)
    void exited.then(() => { clearTimeout(timer); reject(new Error(`exited before listening; stderr: ${stderr}`)) })
  })
  listening.catch(() => {})
  return { child, exited, listening, output: () => ({ stdout, stderr }) }
}

t.test('as the main module: listens on 127.0.0.1:$PORT, logs, stops on SIGTERM', async (t) => {
  const { child, exited, listening, output } = startDemo(t, { PORT: '0', LV_SECRET: '' })
  const address = await listening
  t.match(address, /^http:\/\/127\.0\.0\.1:\d+$/)
  const res = await fetch(`${address}/counter?start=2`)
  t.equal(res.status, 200)
  t.match(await res.text(), /<strong id="count">2<\/strong>/)
  t.match(output().stdout, /no `secret` given, using a random one/, 'without LV_SECRET the plugin makes one up, and says so')
  child.kill('SIGTERM')
  const [code] = await exited
  t.equal(code, 0)
  t.match(output().stdout, /"signal":"SIGTERM"/)
})

t.test('as the main module: a bad PORT fails at once', async (t) => {
  const { exited, output } = startDemo(t, { PORT: 'eighty' })
  const [code] = await exited
  t.equal(code, 1)
  t.match(output().stderr, /PORT must be a port number, got 'eighty'/)
})

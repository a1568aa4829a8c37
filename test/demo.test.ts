import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import type { FastifyInstance } from 'fastify'
import t, { type Test } from 'tap'
import { buildDemo } from '../examples/demo/server.js'
import { live, type LivePage } from '../testing.js'
import { SECRET } from './helpers.js'

async function demo (t: Test): Promise<FastifyInstance> {
  const app = await buildDemo({ logger: false, secret: SECRET })
  t.teardown(() => app.close())
  await app.ready()
  return app
}

/** True when `selector` matches one element with nothing at all inside (CSS `.error:empty` hides it). */
function emptyAt (page: LivePage, selector: string): boolean {
  const found = page.all(selector)
  return found.length === 1 && found[0]?.children.length === 0
}

/** The todo list as a person reads it: each item's id, state and text, in order. */
function todoList (page: LivePage): string[] {
  return page.all('ul.todo-list > li').map((li) => `${li.attribs.id} ${li.attribs.class}: ${page.text(`#${li.attribs.id}-text`)}`)
}

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
    t.match(res.body, /<title>[^<]+<\/title>/, url)
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
  const page = await live(app, '/counter?start=5')
  t.teardown(() => page.close())
  t.equal(page.joined.kind, 'ok', 'the connected render matches the page: the join is a bare ack')
  page.assertText('#count', '5')
  page.assertText('button[lv-click=reset]', 'Reset to 5')

  ;(await page.click('button[aria-label="Increase by one"]')).assertChanged()
  page.assertText('#count', '6')
  await page.click('button[aria-label="Decrease by one"]')
  await page.click('button[aria-label="Decrease by one"]')
  page.assertText('#count', '4')
  ;(await page.click('button[lv-click=reset]')).assertChanged()
  page.assertText('#count', '5')

  const version = page.version
  ;(await page.event('add', { by: 'lots' })).assertError('FST_LIVEVIEW_PARAMS_INVALID')
  ;(await page.event('add', { by: '1000' })).assertError('FST_LIVEVIEW_PARAMS_INVALID')
  page.assertText('#count', '5')
  t.equal(page.version, version, 'refused events change nothing')

  const bad = await live(app, '/counter?start=abc')
  t.teardown(() => bad.close())
  t.equal(bad.text('#count'), '0', 'a start that is not a number counts from 0')
})

t.test('form: validates on change, succeeds on a valid submit', async (t) => {
  const app = await demo(t)
  const page = await live(app, '/form')
  t.teardown(() => page.close())
  t.equal(page.joined.kind, 'ok', 'the connected render matches the page: the join is a bare ack')
  for (const field of ['name', 'email', 'age', 'terms']) {
    t.ok(page.has(`label[for="${field}"]`), `${field} has a label`)
    t.ok(emptyAt(page, `p.error#${field}-error`), `${field} has no error yet`)
  }

  await page.change('form', { name: 'Ada' })
  ;(await page.change('form', { email: 'ada-at-example' })).assertChanged()
  page.assertText('p.error#email-error', 'Please enter an email address like ada@example.com.')
  t.ok(page.has('#email[aria-invalid="true"]'))
  t.ok(page.has('#email[value="ada-at-example"]'), 'the typed value is kept')
  t.ok(emptyAt(page, 'p.error#name-error'), 'a touched field that is fine shows no error')
  t.ok(emptyAt(page, 'p.error#age-error'), 'an untouched field shows no error')
  t.ok(emptyAt(page, 'p.error#terms-error'), 'an untouched box shows no error')

  await page.change('form', { email: 'ada@example.com' })
  t.ok(emptyAt(page, 'p.error#email-error'), 'the error goes once the email is fixed')
  t.ok(page.has('#email[aria-invalid="false"]'))

  ;(await page.submit('form', { name: ' ', email: 'nope', age: 'old' })).assertChanged()
  page.assertText('#name-error', 'Please enter your name.')
  page.assertText('#email-error', 'Please enter an email address like ada@example.com.')
  page.assertText('#age-error', 'Age must be a whole number.')
  page.assertText('#terms-error', 'Please accept the terms to sign up.')
  t.equal(page.all('input[aria-invalid="true"]').length, 4, 'a bad submit marks every field')

  await page.submit('form', { name: 'Ada', email: 'ada@example.com', age: '9' })
  page.assertText('#age-error', 'You must be at least 13 to sign up.')
  t.equal(page.text('#terms-error'), 'Please accept the terms to sign up.', 'an unticked box is absent from the params')
  t.ok(emptyAt(page, 'p.error#name-error'))
  t.ok(emptyAt(page, 'p.error#email-error'))
  t.notOk(page.has('[role=status]'))
  t.notMatch(page.html, /Thanks/)

  // The plan menu and the terms dialog open in the browser (commands); the plan goes to the server.
  t.same(page.js('#plan-button').map(([name]) => name), ['toggle', 'toggleAttribute'], 'the menu opens without a round trip')
  t.same(page.js('#terms-open').map(([name]) => name), ['pushFocus', 'show', 'focusFirst'], 'so does the terms dialog')
  ;(await page.click('#plan-menu button[lv-value-plan=team]')).assertChanged()
  page.assertText('#plan-button', 'Plan: team ▾')

  ;(await page.submit('form', { name: ' Ada <Lovelace> ', email: 'ada@example.com', age: '36', terms: 'yes' })).assertChanged()
  page.assertText('.success[role=status] p', 'Thanks, Ada <Lovelace>! You are signed up as ada@example.com (team plan).')
  page.assertText('.success strong', 'Ada <Lovelace>')
  t.match(page.html, /Thanks, <strong>Ada &lt;Lovelace&gt;<\/strong>! You are signed up as ada@example.com \(team plan\)\./, 'the name is escaped')
  t.notOk(page.has('form'))

  ;(await page.click('button[lv-click=restart]')).assertChanged()
  t.ok(page.has('form[lv-change=validate][lv-submit=save]'))
  t.ok(page.has('#name[value=""]'))
  t.notOk(page.has('[role=status]'))
})

t.test('todos: add, toggle, delete', async (t) => {
  const app = await demo(t)
  const page = await live(app, '/todos')
  t.teardown(() => page.close())
  t.equal(page.joined.kind, 'ok', 'the connected render matches the page: the join is a bare ack')
  t.same(todoList(page), ['todo-1 done: Read the README', 'todo-2 open: Try the counter'])
  page.assertText('#open-count', '1')
  page.assertText('p[aria-live]', '1 open of 2')

  await page.change('#new-todo', { text: 'Buy milk' })
  t.ok(page.has('#new-todo[value="Buy milk"]'))
  ;(await page.submit('form.add')).assertChanged()
  t.same(todoList(page), ['todo-1 done: Read the README', 'todo-2 open: Try the counter', 'todo-3 open: Buy milk'])
  page.assertText('#open-count', '2')
  page.assertText('p[aria-live]', '2 open of 3')
  t.ok(page.has('#new-todo[value=""]'), 'the field is cleared after an add')

  ;(await page.click('#todo-3 button.toggle')).assertChanged()
  t.same(todoList(page), ['todo-1 done: Read the README', 'todo-2 open: Try the counter', 'todo-3 done: Buy milk'])
  t.ok(page.has('#todo-3 button.toggle[aria-pressed="true"]'))
  page.assertText('#open-count', '1')
  page.assertText('p[aria-live]', '1 open of 3')
  await page.click('#todo-3 button.toggle')
  t.ok(page.has('li#todo-3[class="open"]'))
  t.ok(page.has('#todo-3 button.toggle[aria-pressed="false"]'))

  ;(await page.click('#todo-1 button.delete')).assertChanged()
  t.notOk(page.has('#todo-1'))
  t.same(todoList(page), ['todo-2 open: Try the counter', 'todo-3 open: Buy milk'])
  page.assertText('#open-count', '2')
  page.assertText('p[aria-live]', '2 open of 2')

  await page.submit('form.add', { text: '   ' })
  page.assertText('#new-todo-error', 'Please type what there is to do.')
  t.equal(todoList(page).length, 2, 'a blank todo is not added')
  ;(await page.event('toggle', { id: 'three' })).assertError('FST_LIVEVIEW_PARAMS_INVALID')
  ;(await page.submit('form.add', { text: 'x'.repeat(201) })).assertError('FST_LIVEVIEW_PARAMS_INVALID')
  t.equal(todoList(page).length, 2)

  await page.click('#todo-2 button.delete')
  await page.click('#todo-3 button.delete')
  t.notOk(page.has('li'))
  page.assertText('p.muted', /Nothing to do/)
  page.assertText('p[aria-live]', '0 open of 0')
})

/** Runs the demo's source as `npm start` runs its build: as the main module, with tap's loaders. */
t.test('keys and filters: ↑/↓ on the counter, the todo filter as one types', async (t) => {
  const app = await demo(t)
  const counter = await live(app, '/counter?start=5')
  t.teardown(() => counter.close())
  t.equal((await counter.windowKeydown('ArrowUp')).length, 1)
  counter.assertText('#count', '6')
  await counter.windowKeydown('ArrowDown')
  await counter.windowKeydown('ArrowDown')
  counter.assertText('#count', '4')
  t.same(await counter.windowKeydown('x'), [], 'other keys do nothing')

  const todos = await live(app, '/todos')
  t.teardown(() => todos.close())
  ;(await todos.input('#filter', { query: 'READ' })).assertChanged()
  t.same(todos.texts('ul.todo-list .text'), ['Read the README'], 'case-insensitive')
  todos.assertText('#open-count', '1', 'the count is of all items, not the shown ones')
  await todos.input('#filter', { query: 'nothing like it' })
  t.match(todos.text('.todos'), /No item contains “nothing like it”/)
  await todos.submit('form.filter', { query: '' })
  t.equal(todos.all('ul.todo-list > li').length, 2, 'an empty filter shows everything')
})

t.test('chat: a message sent in one page appears in the other; the clock ticks', async (t) => {
  const app = await demo(t)
  const a = await live(app, '/chat')
  const b = await live(app, '/chat')
  t.teardown(() => a.close())
  t.teardown(() => b.close())
  ;(await a.submit('form.send', { name: 'Ada', text: 'Hello, Bob' })).assertChanged()
  t.same(a.texts('.messages .text'), ['Hello, Bob'])
  t.equal((await b.settle()).length, 1, 'the other page got one update')
  t.same(b.texts('.messages strong'), ['Ada'])
  t.same(b.texts('.messages .text'), ['Hello, Bob'])
  t.equal(a.all('#text')[0]?.attribs.value, '', 'the message field is rendered empty again')
  t.equal(a.all('#name')[0]?.attribs.value, 'Ada', 'the name stays')
  ;(await a.submit('form.send', { text: 'x'.repeat(501) })).assertError('FST_LIVEVIEW_PARAMS_INVALID')
  const late = await live(app, '/chat')
  t.teardown(() => late.close())
  t.same(late.texts('.messages .text'), ['Hello, Bob'], 'a new page shows the history')

  const clock = await live(app, '/clock')
  t.teardown(() => clock.close())
  t.match(clock.text('#time'), /^\d\d:\d\d:\d\d$/)
  await new Promise((resolve) => setTimeout(resolve, 1100))
  const ticks = await clock.fireTimers()
  t.ok(ticks.length >= 1, 'a tick a second later changes the time')
})

t.test('catalog: the URL pages and filters the list (handleParams), links patch it', async (t) => {
  const app = await demo(t)
  const page = await live(app, '/catalog?letter=b&page=1')
  t.teardown(() => page.close())
  t.same(page.texts('.items li'), ['Banana', 'Blackberry', 'Blueberry'])
  t.equal(page.title, 'Catalog · B · page 1')
  await page.click('.letters a[href="/catalog?page=1"]')
  t.equal(page.url, 'http://localhost/catalog?page=1')
  t.equal(page.all('.items li').length, 8)
  page.assertText('#where', 'Page 1 of 5')
  await page.click('#next')
  page.assertText('#where', 'Page 2 of 5')
  t.equal(page.title, 'Catalog · page 2')
  t.notOk(page.has('#next') && page.text('#where') === 'Page 5 of 5')
  await page.patch('/catalog?page=99')
  page.assertText('#where', 'Page 5 of 5', 'a page past the end shows the last')
  const nav = await page.click('#to-counter')
  t.equal(nav.kind, 'html', 'lv-navigate mounts the counter on the same socket')
  page.assertText('#count', '0')
})

function startDemo (t: Test, env: Record<string, string>) {
  // Beside this file: server.ts from the sources, server.js in the compiled suite (.unit/).
  const server = fileURLToPath(new URL(`../examples/demo/server${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url))
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

import t, { type Test } from 'tap'
import type { Browser, Page } from 'playwright-core'
import { fillIn, launchChromium, openLivePage, settled } from './chromium.js'
import { buildDemo } from '../examples/demo/server.js'


t.setTimeout(120000)

let browser: Browser
let base: string
const app = await buildDemo({ logger: false, secret: 'browser-test-secret-that-is-long-enough-01' })
t.teardown(async () => { await browser?.close(); await app.close() })
base = await app.listen({ host: '127.0.0.1', port: 0 })
browser = await launchChromium()

const open = async (t: Test, path: string): Promise<{ page: Page, errors: string[] }> => await openLivePage(t, browser, base + path)

t.test('the demo counter: click, and the count changes in place (read once every reply is in, never a count shown on the way)', async (t) => {
  const { page, errors } = await open(t, '/counter?start=5')
  t.equal(await page.textContent('#count'), '5')
  // Mark the element: a patch keeps it, a page reload or innerHTML swap would not.
  await page.evaluate(() => { (document.getElementById('count') as HTMLElement & { mark?: number }).mark = 1 })
  await page.click('button[aria-label="Increase by one"]')
  await page.waitForFunction(() => document.getElementById('count')?.textContent === '6')
  await page.click('button[aria-label="Increase by one"]')
  await page.click('button[aria-label="Decrease by one"]')
  await page.click('button[aria-label="Increase by one"]')
  // Every reply in, not a count the page shows on the way (7 after the first of the three).
  await settled(page)
  t.equal(await page.textContent('#count'), '7')
  t.equal(await page.evaluate(() => (document.getElementById('count') as HTMLElement & { mark?: number }).mark), 1, 'the same element, patched in place')
  t.notOk(await page.evaluate(() => document.querySelector('[data-lv-root]')!.classList.contains('lv-loading')), 'no loading class once replies are in')
  await page.keyboard.press('ArrowUp')
  await page.waitForFunction(() => document.getElementById('count')?.textContent === '8')
  t.same(errors, [], 'no console errors')
})

t.test('the demo form: live validation on change, success on submit', async (t) => {
  const { page, errors } = await open(t, '/form')
  await page.fill('input[name="email"]', 'not-an-email')
  await page.press('input[name="email"]', 'Tab')
  await page.waitForSelector('#email-error:not(:empty)')
  t.match(await page.textContent('#email-error'), /email/i)
  t.equal(await page.textContent('#age-error'), '', 'a field not used yet shows no error')
  // The plan menu and the terms dialog: client-side commands, no round trip.
  await page.click('#plan-button')
  await page.waitForSelector('#plan-menu', { state: 'visible' })
  t.equal(await page.getAttribute('#plan-button', 'aria-expanded'), 'true')
  await page.click('h1')
  await page.waitForSelector('#plan-menu', { state: 'hidden' })
  t.pass('a click away closes the menu')
  await page.click('#plan-button')
  await page.click('#plan-menu button[lv-value-plan="team"]')
  await page.waitForFunction(() => document.querySelector('#plan-button')!.textContent!.includes('team'))
  await page.waitForSelector('#plan-menu', { state: 'hidden' })
  await page.click('#terms-open')
  await page.waitForFunction(() => document.activeElement?.id === 'terms-close')
  await page.keyboard.press('Tab')
  t.equal(await page.evaluate(() => document.activeElement?.id), 'terms-close', 'the dialog keeps the focus (one button: Tab wraps to it)')
  await page.keyboard.press('Escape')
  await page.waitForSelector('#terms-dialog', { state: 'hidden' })
  t.equal(await page.evaluate(() => document.activeElement?.id), 'terms-open', 'Escape closes it, the focus goes back')
  // Each field's reply shows or clears an error line above the next ones and the button.
  await fillIn(page, 'input[name="name"]', 'Ada')
  await fillIn(page, 'input[name="email"]', 'ada@example.com')
  await fillIn(page, 'input[name="age"]', '36')
  await page.check('input[name="terms"]')
  await settled(page)
  await page.click('button[type="submit"]')
  await page.waitForSelector('.success')
  t.match(await page.textContent('.success'), /Ada.*team plan/)
  t.same(errors, [], 'no console errors')
})

t.test('the demo todos: add, toggle, delete', async (t) => {
  const { page, errors } = await open(t, '/todos')
  const before = await page.locator('li[id^="todo-"]').count()
  await page.fill('input[name="text"]', 'Write the tests')
  await page.click('form[lv-submit] button[type="submit"]')
  await page.waitForFunction((n) => document.querySelectorAll('li[id^="todo-"]').length === n + 1, before)
  const item = page.locator('li[id^="todo-"]', { hasText: 'Write the tests' })
  await item.locator('button.toggle').click()
  await page.waitForFunction(() => [...document.querySelectorAll('li[id^="todo-"]')].some((li) => li.textContent!.includes('Write the tests') && li.querySelector('[aria-pressed="true"]')))
  await item.locator('button.delete').click()
  await page.waitForFunction((n) => document.querySelectorAll('li[id^="todo-"]').length === n, before)

  // Enter submits before any change event: the field still clears, as the view renders it empty.
  await page.fill('input[name="text"]', 'Typed and entered')
  await page.press('input[name="text"]', 'Enter')
  await page.waitForFunction((n) => document.querySelectorAll('li[id^="todo-"]').length === n + 1, before)
  t.equal(await page.inputValue('input[name="text"]'), '', 'the submitted field is cleared')
  t.equal(await page.evaluate(() => document.activeElement?.getAttribute('name')), 'text', 'and keeps focus')

  // The filter narrows the list as one types (lv-input, debounced).
  await page.fill('#filter', 'readme')
  await page.waitForFunction(() => document.querySelectorAll('ul.todo-list > li').length === 1)
  t.equal(await page.inputValue('#filter'), 'readme', 'nothing typed is lost')
  t.same(errors, [], 'no console errors')
})

t.test('two tabs chatting: a message sent in one shows in both', async (t) => {
  const one = await open(t, '/chat')
  const two = await open(t, '/chat')
  await one.page.fill('#name', 'Ada')
  await one.page.fill('#text', 'Hello from one')
  await one.page.press('#text', 'Enter')
  await two.page.waitForFunction(() => [...document.querySelectorAll('.messages .text')].some((e) => e.textContent === 'Hello from one'))
  await one.page.waitForFunction(() => [...document.querySelectorAll('.messages .text')].some((e) => e.textContent === 'Hello from one'))
  t.equal(await one.page.inputValue('#text'), '', 'the sender\'s field is cleared')
  await two.page.fill('#text', 'Hi back')
  await two.page.click('form.send button')
  await one.page.waitForFunction(() => [...document.querySelectorAll('.messages .text')].some((e) => e.textContent === 'Hi back'))
  t.same(one.errors, [], 'no console errors in the first tab')
  t.same(two.errors, [], 'no console errors in the second tab')
})

t.test('back and forward across patched and navigated URLs, with no page load', async (t) => {
  const { page, errors } = await open(t, '/catalog?page=1')
  await page.evaluate(() => { (window as unknown as { marker: number }).marker = 1 })
  await page.click('#next')
  await page.waitForFunction(() => document.getElementById('where')?.textContent === 'Page 2 of 5')
  t.match(page.url(), /\/catalog\?page=2$/, 'lv-patch pushed the URL')
  t.equal(await page.title(), 'Catalog · page 2')
  await page.click('#to-counter')
  await page.waitForSelector('#count')
  t.match(page.url(), /\/counter$/, 'lv-navigate pushed the URL')
  await page.click('button[aria-label="Increase by one"]')
  await page.waitForFunction(() => document.getElementById('count')?.textContent === '1')
  await page.goBack()
  await page.waitForFunction(() => document.getElementById('where')?.textContent === 'Page 2 of 5')
  t.match(page.url(), /\/catalog\?page=2$/)
  await page.goBack()
  await page.waitForFunction(() => document.getElementById('where')?.textContent === 'Page 1 of 5')
  await page.goForward()
  await page.waitForFunction(() => document.getElementById('where')?.textContent === 'Page 2 of 5')
  await page.goForward()
  await page.waitForSelector('#count')
  t.equal(await page.evaluate(() => (window as unknown as { marker?: number }).marker), 1, 'all of it without a page load')
  await page.waitForSelector('[data-lv-root].lv-connected')
  await page.click('button[aria-label="Increase by one"]')
  await page.waitForFunction(() => document.getElementById('count')?.textContent === '1')
  t.notOk(await page.$('#where'), 'the counter is showing')
  t.same(errors, [], 'no console errors')
})

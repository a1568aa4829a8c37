import t, { type Test } from 'tap'
import Fastify from 'fastify'
import type { Browser, Page } from 'playwright-core'
import { launchChromium, openLivePage } from './chromium.js'
import liveview from '../plugin.js'
import { SECRET, viewsRoot } from './helpers.js'
import { Bindings } from './fixtures/bindings.js'


t.setTimeout(120000)

const app = Fastify({ logger: false })
await app.register(liveview, { root: viewsRoot, secret: SECRET })
app.liveView('/b', Bindings)
// Chromium asks for one; a 404 would be a console error.
app.get('/favicon.ico', async (_req, reply) => reply.code(204).send())
let browser: Browser | undefined
t.teardown(async () => { await browser?.close(); await app.close() })
const base = await app.listen({ host: '127.0.0.1', port: 0 })
browser = await launchChromium()

interface Logged { name: string, params: Record<string, unknown> }

async function open (t: Test, show: string): Promise<{ page: Page, errors: string[], log: () => Promise<Logged[]>, until: (n: number, name?: string) => Promise<Logged[]> }> {
  const { page, errors } = await openLivePage(t, browser!, `${base}/b?show=${show}`)
  const log = async (): Promise<Logged[]> => (await page.locator('#log li').allTextContents()).map((s) => {
    const at = s.indexOf(' ')
    return { name: s.slice(0, at), params: JSON.parse(s.slice(at + 1)) as Record<string, unknown> }
  })
  /** The log once it holds `n` entries (named `name`, if given). */
  const until = async (n: number, name?: string): Promise<Logged[]> => {
    await page.waitForFunction(([n, name]) => [...document.querySelectorAll('#log li')]
      .filter((li) => name === undefined || li.textContent!.startsWith(name + ' ')).length >= (n as number), [n, name] as const)
    return await log()
  }
  return { page, errors, log, until }
}

const named = (log: Logged[], name: string): Array<Record<string, unknown>> => log.filter((e) => e.name === name).map((e) => e.params)
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

t.test('lv-input with lv-debounce: typing fast never loses a character', async (t) => {
  const { page, errors, log } = await open(t, 'input')
  const text = 'The quick brown fox jumps over the lazy dog, 0123456789!'
  await page.locator('#q').pressSequentially(text, { delay: 5 })
  await page.waitForFunction((text) => document.getElementById('value')!.textContent === text, text)
  const typed = named(await log(), 'typed')
  t.equal(typed.at(-1)!.q, text, 'the last event carries everything typed')
  t.equal(typed.at(-1)!._target, 'q', 'and names the field')
  t.ok(typed.length < text.length / 2, `debounced: ${typed.length} events for ${text.length} keystrokes`)
  t.equal(await page.inputValue('#q'), text, 'the field shows what was typed')
  // Keep typing while replies (which re-render the value attribute) come in.
  // Pauses around the debounce period (150 ms): some keystrokes land while a reply is in flight.
  for (const [i, ch] of [...' and more'].entries()) {
    await page.keyboard.type(ch)
    await sleep(40 + (i * 73) % 200)
  }
  await page.waitForFunction((text) => document.getElementById('value')!.textContent === text, text + ' and more')
  t.equal(await page.inputValue('#q'), text + ' and more')
  t.same(errors, [], 'no console errors')
})

t.test('the focused field keeps its value, caret and selection while the server patches it', async (t) => {
  const { page, errors, until } = await open(t, 'input')
  await page.click('#q')
  await page.keyboard.type('hello world')
  await page.evaluate(() => { (document.getElementById('q') as HTMLInputElement).setSelectionRange(2, 5) })
  // The debounced input reaches the server, which renders value="hello world" back: a patch
  // to the attribute of the field the user is in.
  await until(1, 'typed')
  await page.waitForFunction(() => document.getElementById('value')?.textContent === 'hello world')
  t.equal(await page.getAttribute('#q', 'value'), 'hello world', 'the attribute follows the server')
  const state = await page.evaluate(() => {
    const q = document.getElementById('q') as HTMLInputElement
    return { focused: document.activeElement === q, value: q.value, start: q.selectionStart, end: q.selectionEnd }
  })
  t.same(state, { focused: true, value: 'hello world', start: 2, end: 5 }, 'focus, value, caret and selection kept')
  await page.keyboard.type('XY')
  t.equal(await page.inputValue('#q'), 'heXY world', 'typing replaces the selection, as it was')
  t.same(errors, [], 'no console errors')
})

t.test('the focused field keeps its value, caret and selection through a full-HTML resync', async (t) => {
  const { page, errors } = await open(t, 'input')
  await page.click('#q')
  await page.keyboard.type('full html')
  await page.evaluate(() => {
    (document.getElementById('q') as HTMLInputElement).setSelectionRange(1, 4)
    // The patch for the echo will not fit: the client resyncs with full HTML and morphs it in.
    document.getElementById('value')!.remove()
  })
  await page.waitForFunction(() => document.getElementById('value')?.textContent === 'full html')
  const state = await page.evaluate(() => {
    const q = document.getElementById('q') as HTMLInputElement
    return { focused: document.activeElement === q, value: q.value, start: q.selectionStart, end: q.selectionEnd }
  })
  t.same(state, { focused: true, value: 'full html', start: 1, end: 4 }, 'focus, value, caret and selection kept')
  t.same(errors, [], 'no console errors')
})

t.test('lv-input on a form: every keystroke sends the form with _target; lv-debounce="blur" waits for Tab', async (t) => {
  const { page, errors, log, until } = await open(t, 'input')
  await page.locator('#a').pressSequentially('hi')
  let entries = await until(2, 'formTyped')
  t.same(named(entries, 'formTyped'), [{ a: 'h', b: '', _target: 'a' }, { a: 'hi', b: '', _target: 'a' }])

  await page.locator('#b').pressSequentially('later')
  await sleep(300)
  t.equal(named(await log(), 'formTyped').length, 2, 'nothing sent while the field has focus')
  await page.keyboard.press('Tab')
  entries = await until(3, 'formTyped')
  t.same(named(entries, 'formTyped')[2], { a: 'hi', b: 'later', _target: 'b' }, 'one event on blur, with the last value')

  // A held event is sent before the submit of its form.
  await page.focus('#b')
  await page.keyboard.press('End')
  await page.keyboard.type('!')
  await page.keyboard.press('Enter')
  entries = await until(1, 'save')
  t.same(entries.slice(-2), [
    { name: 'formTyped', params: { a: 'hi', b: 'later!', _target: 'b' } },
    { name: 'save', params: { a: 'hi', b: 'later!' } }
  ], 'the held input first, then the submit')
  t.same(errors, [], 'no console errors')
})

t.test('lv-change with a long lv-debounce: sent when the field loses focus', async (t) => {
  const { page, errors, until } = await open(t, 'input')
  await page.fill('#c', 'done')
  const started = Date.now()
  await page.keyboard.press('Tab')
  const entries = await until(1, 'changed')
  t.ok(Date.now() - started < 2000, 'well before the 5 s debounce')
  t.same(named(entries, 'changed'), [{ c: 'done', _target: 'c' }])
  t.same(errors, [], 'no console errors')
})

t.test('lv-throttle on lv-input: few events, and the last value still arrives', async (t) => {
  const { page, errors, log } = await open(t, 'input')
  const text = 'throttled typing here'
  const started = Date.now()
  await page.locator('#th').pressSequentially(text, { delay: 20 })
  const elapsed = Date.now() - started
  await page.waitForFunction((text) => [...document.querySelectorAll('#log li')].some((li) => li.textContent!.includes(`"th":"${text}"`)), text)
  const typed = named(await log(), 'typed')
  t.ok(typed.length <= Math.ceil(elapsed / 300) + 2, `${typed.length} events in ${elapsed} ms at one per 300 ms`)
  // Typing speed is the machine's (a loaded one takes ~175 ms a key): the bound above is the
  // rule; this says the throttle dropped some, whatever the speed under 300 ms a key.
  t.ok(typed.length < text.length, `fewer events than keystrokes (${text.length} keys in ${elapsed} ms)`)
  t.equal(typed.at(-1)!.th, text, 'the trailing event has the final value')
  t.same(errors, [], 'no console errors')
})

t.test('lv-focus, lv-blur, lv-keydown with lv-key, lv-keyup', async (t) => {
  const { page, errors, log, until } = await open(t, 'keys')
  await page.click('#k')
  let entries = await until(1, 'focused')
  t.same(named(entries, 'focused'), [{ value: '', x: '1' }], 'focus: the value and lv-value-*')
  await page.keyboard.type('ab')
  await page.keyboard.press('Enter')
  entries = await until(1, 'down')
  t.same(named(entries, 'down'), [{ value: 'ab', x: '1', key: 'Enter' }], 'keydown: only Enter (lv-key), with the key and value')
  await page.keyboard.press('Tab')
  entries = await until(1, 'blurred')
  t.same(named(entries, 'blurred'), [{ value: 'ab', x: '1' }], 'blur on Tab')
  t.equal(await page.evaluate(() => document.activeElement?.id), 'u')
  await page.keyboard.type('z')
  entries = await until(2, 'up')
  // The Tab that moved focus here is released here.
  t.same(named(entries, 'up'), [{ value: '', key: 'Tab' }, { value: 'z', key: 'z' }], 'keyup without lv-key: every key')
  await page.keyboard.press('Enter')
  entries = await until(3, 'up')
  t.same(named(entries, 'up')[2], { value: 'z', key: 'Enter' })
  t.equal(named(await log(), 'down').length, 1, 'keys in another field do not reach lv-keydown')
  t.same(errors, [], 'no console errors')
})

t.test('lv-window-keydown / lv-window-keyup: keys anywhere, filtered by lv-key (any case)', async (t) => {
  const { page, errors, log, until } = await open(t, 'keys')
  await page.click('#other')
  await page.keyboard.press('a')
  await page.keyboard.press('Escape')
  let entries = await until(1, 'winDown')
  t.same(named(entries, 'winDown'), [{ key: 'Escape' }])
  // Focus outside any field: the body.
  await page.evaluate(() => { (document.activeElement as HTMLElement).blur() })
  await page.keyboard.press('Shift+K')
  entries = await until(1, 'winUp')
  t.same(named(entries, 'winUp'), [{ w: 'yes', key: 'K' }], 'lv-key="k" matches K')
  await page.keyboard.press('Escape')
  await until(2, 'winDown')
  t.equal(named(await log(), 'winUp').length, 1, 'other keys are filtered out')
  t.same(errors, [], 'no console errors')
})

t.test('lv-window-resize (debounced): the server gets the new viewport size', async (t) => {
  const { page, errors, log, until } = await open(t, 'keys')
  await page.setViewportSize({ width: 700, height: 500 })
  await page.setViewportSize({ width: 640, height: 480 })
  await until(1, 'resized')
  // Wait for the final size, not a fixed time: two resizes spaced out by a slow machine send two.
  let resized = named(await log(), 'resized')
  for (const end = Date.now() + 5000; resized.at(-1)?.width !== '640' && Date.now() < end; resized = named(await log(), 'resized')) await sleep(50)
  // Debounced by 300 ms: one event when the two resizes come close together, at most one
  // each on a machine slow enough to space them out; the last has the final size.
  t.ok(resized.length >= 1 && resized.length <= 2, `${resized.length} event(s) for two resizes`)
  t.same([resized.at(-1)?.width, resized.at(-1)?.height], ['640', '480'], 'strings, as every binding sends')
  t.same(errors, [], 'no console errors')
})

t.test('lv-click-away: clicks outside the element fire it, clicks inside do not', async (t) => {
  const { page, errors, log, until } = await open(t, 'clicks')
  await page.click('#inside')
  await until(1, 'clicked')
  t.equal(named(await log(), 'away').length, 0, 'a click inside is not away')
  await page.click('#outside')
  let entries = await until(1, 'away')
  t.same(named(entries, 'away'), [{}])
  // Outside the live root too.
  await page.mouse.click(2, 2)
  entries = await until(2, 'away')
  t.equal(named(entries, 'away').length, 2)
  t.same(errors, [], 'no console errors')
})

t.test('lv-throttle on lv-click: one event per period', async (t) => {
  const { page, errors, log, until } = await open(t, 'clicks')
  const started = Date.now()
  for (let i = 0; i < 10; i++) await page.click('#throttled', { delay: 0 })
  const elapsed = Date.now() - started
  await until(1, 'clicked')
  await sleep(700)
  const clicked = named(await log(), 'clicked')
  t.ok(clicked.length >= 1 && clicked.length <= 1 + Math.floor(elapsed / 500), `${clicked.length} events for 10 clicks in ${elapsed} ms`)
  t.same(clicked[0], { n: 't' })
  t.same(errors, [], 'no console errors')
})

/**
 * Records each state element `id` passes through (disabled, text, loading classes), from
 * now on: the test reads what happened while an event was pending, however late it looks
 * (a look after the click can come after the reply on a busy machine).
 */
async function recordStates (page: Page, id: string): Promise<() => Promise<Array<{ disabled: boolean, text: string | null, loading: boolean }>>> {
  await page.evaluate((id) => {
    const el = document.getElementById(id) as HTMLButtonElement
    const states: unknown[] = ((window as unknown as { states: Record<string, unknown[]> }).states ??= {})[id] = []
    new MutationObserver(() => {
      states.push({ disabled: el.disabled, text: el.textContent, loading: el.classList.contains('lv-loading') && el.classList.contains('lv-click-loading') })
    }).observe(el, { attributes: true, childList: true, subtree: true, characterData: true })
  }, id)
  return async () => await page.evaluate((id) => (window as unknown as { states: Record<string, Array<{ disabled: boolean, text: string | null, loading: boolean }>> }).states[id]!, id)
}

t.test('lv-disable-with: disabled with its text while pending, restored on reply and on error', async (t) => {
  const { page, errors, until } = await open(t, 'clicks')
  const slow = await recordStates(page, 'slow')
  await page.click('#slow')
  await until(1, 'slow')
  await page.waitForFunction(() => !(document.getElementById('slow') as HTMLButtonElement).disabled)
  const pending = (await slow()).find((s) => s.disabled)
  t.ok(pending !== undefined, 'disabled while pending')
  t.equal(pending?.text, 'Saving…')
  t.ok(pending?.loading, 'and loading (lv-loading, lv-click-loading)')
  t.equal(await page.innerHTML('#slow'), 'Save <b>now</b>', 'its content is back')

  // A submit button.
  await page.fill('input[name="s"]', 'x')
  const sb = await recordStates(page, 'sb')
  await page.click('#sb')
  const entries = await until(2, 'slow')
  t.same(entries.at(-1), { name: 'slow', params: { s: 'x' } }, 'the form was sent')
  await page.waitForFunction(() => !(document.getElementById('sb') as HTMLButtonElement).disabled)
  const sending = (await sb()).find((s) => s.disabled)
  t.ok(sending !== undefined, 'the submit button is disabled while pending')
  t.equal(sending?.text, 'Sending…')
  t.equal(await page.textContent('#sb'), 'Send')

  // An error reply restores it too. (lv-error may be gone again by the time we look: the
  // next successful reply clears it, so wait for the event.)
  const failed = page.evaluate(() => new Promise((resolve) => {
    document.querySelector('[data-lv-root]')!.addEventListener('lv:error', (e) => { resolve((e as CustomEvent<{ code: string }>).detail.code) }, { once: true })
  }))
  await page.click('#fail')
  t.equal(await failed, 'FST_LIVEVIEW_HANDLER_FAILED')
  await page.waitForFunction(() => !(document.getElementById('fail') as HTMLButtonElement).disabled)
  t.equal(await page.textContent('#fail'), 'Try')
  t.same(errors, [], 'no console errors')
})

t.test('lv-confirm: dismissed sends nothing, accepted sends', async (t) => {
  const { page, errors, log, until } = await open(t, 'clicks')
  const asked: string[] = []
  page.once('dialog', (d) => { asked.push(d.message()); void d.dismiss() })
  await page.click('#sure')
  // An event after it: once its reply is in, a sent confirm event would be too.
  await page.click('#inside')
  await until(1, 'clicked')
  t.same(named(await log(), 'clicked'), [{ n: 'in' }], 'nothing sent on cancel')
  page.once('dialog', (d) => { asked.push(d.message()); void d.accept() })
  await page.click('#sure')
  const entries = await until(2, 'clicked')
  t.same(named(entries, 'clicked')[1], { n: 'c' }, 'sent on OK')
  t.same(asked, ['Sure?', 'Sure?'])
  t.same(errors, [], 'no console errors')
})

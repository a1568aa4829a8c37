// Live components in Chromium, on the demo's board (examples/demo/board.ts): lv-target sends
// an event to the component around the binding, which re-renders alone (a small patch); the
// board re-renders when they tell it something; and after every step the live root equals a
// fresh parse of the server's render (the page rule), through a seeded random sequence.
import t, { type Test } from 'tap'
import type { Browser, Page } from 'playwright-core'
import type { FastifyInstance } from 'fastify'
import { buildDemo } from '../examples/demo/server.js'
import { fillIn, launchChromium, openLivePage, pageRule, ruleCheck, settled } from './chromium.js'
import { buildApp, serverHtml } from './helpers.js'
import { List, componentsRoot } from './fixtures/component-classes.js'
import { rng } from './fixtures/pages.js'

t.setTimeout(180000)

let browser: Browser
t.before(async () => { browser = await launchChromium() })
t.teardown(() => browser?.close())

/** Frames the page's socket sends and receives from now on, as text (through the DevTools protocol). */
async function frames (page: Page): Promise<{ sent: string[], got: string[] }> {
  const sent: string[] = []
  const got: string[] = []
  const cdp = await page.context().newCDPSession(page)
  await cdp.send('Network.enable')
  cdp.on('Network.webSocketFrameSent', (e: { response: { payloadData: string } }) => { sent.push(e.response.payloadData) })
  cdp.on('Network.webSocketFrameReceived', (e: { response: { payloadData: string } }) => { got.push(e.response.payloadData) })
  return { sent, got }
}

/**
 * Waits (up to 2 s) until the page equals the server's render: a card's reply comes first,
 * the board's update after its handleInfo (a message of its own, which no lv-loading shows).
 */
async function converged (page: Page, app: FastifyInstance): Promise<void> {
  for (const until = Date.now() + 2000; Date.now() < until;) {
    await settled(page)
    if (await pageRule(page, serverHtml(app)) === undefined) return
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
}

async function board (t: Test) {
  const app = await buildDemo({ logger: false, secret: 'browser-components-secret-long-enough-0000' })
  t.teardown(() => app.close())
  const base = await app.listen({ host: '127.0.0.1', port: 0 })
  const { page, errors } = await openLivePage(t, browser, `${base}/board`)
  const { sent, got: received } = await frames(page)
  const rule = ruleCheck(t, page, () => serverHtml(app))
  return { app, page, errors, sent, received, rule }
}

t.test('a card edits itself: lv-target="@myself" reaches the card, which validates and re-renders alone', async (t) => {
  const { page, errors, rule } = await board(t)
  await rule('at load')
  await page.click('#card-1 button.edit')
  await rule('editing')
  t.equal(await page.locator('#card-1 form.edit-form').count(), 1, 'card 1 shows its editor')
  t.equal(await page.locator('form.edit-form').count(), 1, 'no other card does')
  await page.fill('#title-1', '')
  await page.press('#title-1', 'Tab')
  await rule('an empty title')
  t.equal(await page.textContent('#title-1-error'), 'A card needs a title.')
  await fillIn(page, '#title-1', 'Write the components section')
  await page.click('#card-1 button[type="submit"]')
  // The card's reply shows its old title (its props); the board's, after its handleInfo
  // (a message of its own, no lv-loading), passes the new one.
  await page.waitForSelector('#card-1 .title:text-is("Write the components section")')
  await rule('saved')
  t.equal(await page.textContent('#card-1 .title'), 'Write the components section', 'the board renamed it (sendParent) and passed the new props')
  t.same(errors, [], 'no console errors')
})

t.test('component events travel with the cid of the component around the binding, and answer with small patches', async (t) => {
  const { app, page, rule, sent, received: got } = await board(t)
  const cid = await page.getAttribute('#card-2', 'lv-cid')
  await page.click('#card-2 button.edit')
  await rule('editing card 2')
  const edit = sent.find((f) => f.includes('"edit"'))
  t.ok(edit !== undefined, 'the edit event was sent')
  t.equal(JSON.parse(edit!).at(-1), Number(cid), "its last field is card 2's cid")
  const reply = got.find((f) => f.startsWith(`[${JSON.parse(edit!)[0] as number},`))
  t.ok(reply !== undefined && reply.startsWith(`[${JSON.parse(edit!)[0] as number},"p"`), 'answered with a patch')
  t.ok(reply!.length < serverHtml(app).length / 4, `a patch of the card only (${reply!.length} B, page ${serverHtml(app).length} B)`)
  await page.click('#card-2 button[lv-click="cancel"]')
  await rule('cancelled')
})

t.test('columns add cards, cards move, the modal opens from an untargeted binding', async (t) => {
  const { page, errors, rule } = await board(t)
  await page.click('#column-doing button.add-card')
  await rule('the add form')
  await page.fill('#new-doing', 'x'.repeat(61))
  await page.press('#new-doing', 'Tab')
  await rule('a long title')
  t.match(await page.textContent('#new-doing-error'), /under 60 characters/)
  await fillIn(page, '#new-doing', 'Pair on the modal')
  await page.click('#column-doing button[type="submit"]')
  await page.waitForSelector('#column-doing li:has-text("Pair on the modal")')
  await rule('added')
  t.equal(await page.textContent('#column-doing .badge'), '2', "the column's count follows")
  await page.selectOption('#move-3', 'done')
  await page.waitForSelector('#column-done #card-3')
  await rule('moved')
  t.equal(await page.textContent('#column-done .badge'), '2')
  t.equal(await page.textContent('#column-doing .badge'), '1')
  await page.click('#card-2 button.details')
  await page.waitForSelector('#card-modal')
  await rule('the modal')
  await fillIn(page, '#notes', 'Remember the <b>tests</b> & docs')
  await page.click('#notes-form button[type="submit"]')
  await page.waitForSelector('#card-modal', { state: 'detached' })
  await rule('notes saved')
  t.equal(await page.textContent('.flash'), 'Notes saved.')
  t.same(errors, [], 'no console errors')
})

t.test('a seeded random walk over the board: the page rule holds after every step', async (t) => {
  const { app, page, errors, rule, received } = await board(t)
  const r = rng(13)
  const STEPS = Number(process.env.REAL_STEPS ?? 50)
  for (let i = 0; i < STEPS; i++) {
    const cards = await page.locator('li.card').count()
    const what = Math.floor(r() * 6)
    const nth = Math.floor(r() * Math.max(cards, 1))
    const card = page.locator('li.card').nth(nth)
    if (what === 0 && await card.locator('button.edit').count() > 0) {
      await card.locator('button.edit').click()
    } else if (what === 1 && await card.locator('form.edit-form').count() > 0) {
      await fillIn(page, card.locator('input[name="title"]'), r() < 0.3 ? '' : `Card ${i} & <${i}>`)
      await card.locator('button[type="submit"]').click()
    } else if (what === 2 && await card.locator('select').count() > 0) {
      await card.locator('select').selectOption(['todo', 'doing', 'done'][Math.floor(r() * 3)]!)
    } else if (what === 3) {
      const column = page.locator('section.column').nth(Math.floor(r() * 3))
      if (await column.locator('button.add-card').count() > 0) await column.locator('button.add-card').click()
      else {
        await fillIn(page, column.locator('input[name="title"]'), `New ${i}`)
        await column.locator('button[type="submit"]').click()
      }
    } else if (what === 4 && await card.locator('button.details').count() > 0) {
      await card.locator('button.details').click()
      await page.waitForSelector('#card-modal')
      await rule(`step ${i}: modal`)
      await page.click('#card-modal button.close')
    } else if (await page.locator('form button[lv-click="cancel"]').count() > 0) {
      await page.locator('form button[lv-click="cancel"]').first().click()
    }
    await converged(page, app)
    await rule(`step ${i}`)
  }
  const patches = received.filter((f) => /^\[\d+,"p"/.test(f)).length
  const full = received.filter((f) => /^\[\d+,"h"/.test(f)).length
  t.ok(patches > 0 && full === 0, `updates were patches (${patches} patches, ${full} full HTML)`)
  t.same(errors, [], 'no console errors')
})

t.test('the client resolves lv-target: @myself, a CSS selector, an lv-cid; a target that matches nothing is a coded error', async (t) => {
  const app = await buildApp(t, { root: componentsRoot }, (app) => { app.liveView('/list', List) })
  const base = await app.listen({ host: '127.0.0.1', port: 0 })
  const { page, errors } = await openLivePage(t, browser, `${base}/list`)
  const rule = ruleCheck(t, page, () => serverHtml(app))
  await page.click('#row-1 button.inc')
  await rule('@myself')
  t.equal(await page.textContent('#row-1 .n'), '1', '@myself: the row around the button')
  await page.click('#inc-two')
  await rule('a selector')
  t.equal(await page.textContent('#row-2 .n'), '1', 'lv-target="#row-2": the component around the match')
  await page.click('#inc-cid-one')
  await rule('a cid')
  t.equal(await page.textContent('#row-1 .n'), '2', 'lv-target="1": lv-cid 1')
  const failed = page.evaluate(() => new Promise<string>((resolve) => {
    document.querySelector('[data-lv-root]')!.addEventListener('lv:error', (e) => { resolve((e as CustomEvent<{ code: string }>).detail.code) }, { once: true })
  }))
  await page.click('#inc-none')
  t.equal(await failed, 'FST_LIVEVIEW_TARGET_UNKNOWN', 'lv:error with the code')
  await page.click('#row-2 button.fail')
  await rule('a failing component handler')
  t.equal(await page.textContent('#row-2 .n'), '1', 'rolled back: the page still shows 1')
  await page.click('#row-2 button.remove')
  await page.waitForSelector('#row-2', { state: 'detached' })
  await rule('a row removed')
  t.same(errors.filter((e) => !/FST_LIVEVIEW_(TARGET_UNKNOWN|HANDLER_FAILED)/.test(e)), [], 'no other console errors')
})

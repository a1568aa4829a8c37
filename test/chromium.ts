import type { Test } from 'tap'
import { chromium, type Browser, type Locator, type Page } from 'playwright-core'

// Debian's chromium (`npm test` installs it when missing), with the flags that keep it off
// the network (see ../shared/FINDINGS.md). Browser tests never skip.
export const CHROMIUM = process.env.LV_CHROMIUM_PATH ?? '/usr/bin/chromium'
export const FLAGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'
]

/**
 * Headless Chromium for a test file: under `npm test`, a connection to the one browser the
 * whole run shares (scripts/tap-chromium.mjs sets LV_CHROMIUM_WS; closing it disconnects
 * and closes this file's contexts); alone (`npx tap test/x.test.ts`), a browser of its own.
 */
export async function launchChromium (): Promise<Browser> {
  const shared = process.env.LV_CHROMIUM_WS
  if (shared !== undefined && shared !== '') return await chromium.connect(shared)
  return await chromium.launch({ executablePath: CHROMIUM, args: FLAGS })
}

/**
 * Opens `url` in a fresh browser context (closed when the test ends), collecting console
 * errors and page errors, and waits until the live root has joined.
 */
export async function openLivePage (t: Test, browser: Browser, url: string, init?: () => void): Promise<{ page: Page, errors: string[] }> {
  const context = await browser.newContext()
  t.teardown(() => context.close())
  if (init !== undefined) await context.addInitScript(init)
  const page = await context.newPage()
  // Shorter than Playwright's 30 s: a wait that hangs fails sooner, naming what it waited for.
  page.setDefaultTimeout(15000)
  const errors: string[] = []
  // A failed load names its URL, so a test (and its failure) can tell which it was.
  page.on('console', (m) => {
    if (m.type() !== 'error') return
    const url = m.location().url
    errors.push(m.text().startsWith('Failed to load resource') && url !== '' ? `${m.text()} ${url}` : m.text())
  })
  page.on('pageerror', (e) => { errors.push(String(e)) })
  await page.goto(url)
  await page.waitForSelector('[data-lv-root].lv-connected')
  return { page, errors }
}

/**
 * The browser's own reports while a server restarts, expected then: refused connections,
 * failed sockets, and the 503 fastify answers a request on a kept-alive connection while it
 * closes (a request of the client's under /_live/, such as a lazy chunk, may meet it; seen
 * in CI when a page's reconnects still fell back to long polling).
 */
export const serverDown = (s: string): boolean =>
  /ERR_CONNECTION_REFUSED|WebSocket connection to .* failed|status of 503 \(Service Unavailable\) http:\/\/127\.0\.0\.1:\d+\/_live\//.test(s)

/** Waits until the page has no event waiting for its reply (no `lv-loading` on the root). */
export async function settled (page: Page): Promise<void> {
  await page.waitForSelector('[data-lv-root].lv-connected:not(.lv-loading)')
}

/**
 * Fills a field and leaves it, then waits for the reply to the `change` that sends (when its
 * form has `lv-change`). Filling and clicking a button straight away can lose the click: the
 * mouse going down on the button takes the focus, the `change` goes, and when its reply shows
 * or clears an error line above the button, the button moves before the mouse comes up where
 * it was, and the browser sends no click, to a test as to a person (seen in CI).
 */
export async function fillIn (page: Page, field: string | Locator, value: string): Promise<void> {
  const at = typeof field === 'string' ? page.locator(field) : field
  await at.fill(value)
  await at.blur()
  await settled(page)
}

/**
 * The page rule: the live root's DOM equals a fresh parse of `html` (the server's last
 * render), but for the root element's own attributes, the children of stream containers and
 * the `src` of upload previews. Returns undefined when it holds,
 * else both sides serialised.
 */
export async function pageRule (page: Page, html: string): Promise<{ live: string, fresh: string } | undefined> {
  return await page.evaluate((html) => {
    const root = document.querySelector('[data-lv-root]')!
    const live = document.createElement('div')
    for (const n of root.childNodes) live.appendChild(n.cloneNode(true))
    const fresh = document.createElement('div')
    fresh.innerHTML = html
    // The rule's exceptions (README, "The page rule"): a stream container's children are the
    // client's, and so is the `src` of an upload preview (an object URL the browser makes).
    for (const side of [live, fresh]) {
      for (const c of side.querySelectorAll('[lv-stream]')) c.replaceChildren()
      for (const img of side.querySelectorAll('img[lv-preview]')) img.removeAttribute('src')
    }
    return live.isEqualNode(fresh) ? undefined : { live: live.innerHTML, fresh: fresh.innerHTML }
  }, html)
}

/**
 * A check of the page rule for one page: once the page has settled, its live root must
 * equal a fresh parse of `html()` (the server's last render), else the test fails, naming
 * `what` and showing both sides.
 */
export function ruleCheck (t: Test, page: Page, html: () => string): (what: string) => Promise<void> {
  return async (what) => {
    await settled(page)
    const diff = await pageRule(page, html())
    if (diff !== undefined) t.fail(`${what}: the page differs from the render`, diff)
  }
}

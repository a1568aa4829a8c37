// Runs tap (its arguments passed on) with one headless Chromium shared by every browser test
// file: each connects to it (LV_CHROMIUM_WS, see test/chromium.ts) instead of launching and
// closing a browser of its own, about 1.5 s a file. The flags are the tests' own (the
// compiled test/chromium.js: npm test builds it first). The browser ends with the run.
import { spawn } from 'node:child_process'
import { chromium } from 'playwright-core'

const { CHROMIUM, FLAGS } = await import(new URL('../.unit/test/chromium.js', import.meta.url).href)
const server = await chromium.launchServer({ executablePath: CHROMIUM, args: FLAGS })
const tap = new URL('../node_modules/tap/dist/esm/run.mjs', import.meta.url).pathname
const child = spawn(process.execPath, [tap, ...process.argv.slice(2)], { stdio: 'inherit', env: { ...process.env, LV_CHROMIUM_WS: server.wsEndpoint() } })
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => { child.kill(signal) })
const code = await new Promise((resolve) => { child.on('exit', (c, s) => { resolve(c ?? (s === null ? 1 : 128)) }) })
await server.close()
process.exit(code)

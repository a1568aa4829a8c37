// Runs tap (its arguments passed on) with one headless Chromium shared by every browser test
// file: each connects to it (LV_CHROMIUM_WS, see test/chromium.ts) instead of launching and
// closing a browser of its own, about 1.5 s a file. The flags are the tests' own (the
// compiled test/chromium.js: npm test builds it first). The browser ends with the run.
import { spawn, spawnSync } from 'node:child_process'
import { chromium } from 'playwright-core'

const { CHROMIUM, FLAGS } = await import(new URL('../.unit/test/chromium.js', import.meta.url).href)
const server = await chromium.launchServer({ executablePath: CHROMIUM, args: FLAGS })
const tap = new URL('../node_modules/tap/dist/esm/run.mjs', import.meta.url).pathname

// .taprc drops tap's TypeScript loader and mock plugins (the suite is compiled JavaScript): about
// a second less per test process. tap rebuilds its Test class when the plugins it was built
// with are not the configured ones, but the run that rebuilds still starts its test processes
// with the old loaders: so a fresh install builds first.
const { TapConfig } = await import('@tapjs/config')
const { signature } = await import('@tapjs/test')
if ((await TapConfig.load()).pluginSignature !== signature) {
  const built = spawnSync(process.execPath, [tap, 'build'], { stdio: 'inherit' })
  if (built.status !== 0) throw new Error(`tap build failed (${built.status ?? built.signal})`)
}
const child = spawn(process.execPath, [tap, ...process.argv.slice(2)], { stdio: 'inherit', env: { ...process.env, LV_CHROMIUM_WS: server.wsEndpoint() } })
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => { child.kill(signal) })
const code = await new Promise((resolve) => { child.on('exit', (c, s) => { resolve(c ?? (s === null ? 1 : 128)) }) })
await server.close()
process.exit(code)

// Mount-and-click through the testing API: `live(app, '/counter')` then one click.
// Run: npm run build && node dist/bench/testing-api.js
import Fastify from 'fastify'
import liveview, { LiveView, defineEvents } from '../plugin.js'
import { live } from '../testing.js'
import { fileURLToPath } from 'node:url'
import { join } from 'node:path'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'

const root = mkdtempSync(join(tmpdir(), 'lv-bench-'))
writeFileSync(join(root, 'counter.eta'), `<main>
  <h1>Counter</h1>
  <p>Count: <strong id="count"><%= it.count %></strong></p>
  <button lv-click="inc">+</button>
</main>
`)
class Counter extends LiveView {
  static template = 'counter'
  static events = defineEvents<Counter>({ inc: true })
  count = 0
  inc (): void { this.count++ }
  context () { return { count: this.count } }
}
const app = Fastify()
await app.register(liveview, { root, secret: 'bench-secret-that-is-long-enough-0123456789', production: true })
app.liveView('/counter', Counter)
await app.ready()

async function once (): Promise<number> {
  const start = process.hrtime.bigint()
  const page = await live(app, '/counter')
  await page.click('button[lv-click=inc]')
  const us = Number(process.hrtime.bigint() - start) / 1000
  await page.close()
  return us
}
for (let i = 0; i < 500; i++) await once()
const samples: number[] = []
for (let i = 0; i < 2000; i++) samples.push(await once())
samples.sort((a, b) => a - b)
console.log(`testing_mount_click: p50 ${samples[1000]!.toFixed(1)} µs, p99 ${samples[1980]!.toFixed(1)} µs (n=2000)`)
await app.close()
void fileURLToPath

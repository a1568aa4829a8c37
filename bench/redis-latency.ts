// Latency of a broadcast across processes through Redis: this process broadcasts "ping";
// a live session in another process gets it and broadcasts "pong"; a session here gets the
// pong. Half the round trip is the one-way latency (handler, render and diff included).
// Run: npm run build && node dist/bench/redis-latency.js   (needs redis-server on the PATH)
import { fork, spawn } from 'node:child_process'
import { createServer } from 'node:net'
import { fileURLToPath } from 'node:url'
import Fastify from 'fastify'
import liveview, { LiveView } from '../plugin.js'
import { RedisPubSub } from '../redis.js'
import { live } from '../testing.js'
import { viewsRoot } from './scenarios.js'

const SECRET = 'redis-latency-bench-secret-0123456789abcdef'

class Echo extends LiveView {
  static template = 'echo'
  count = 0
  mount (): void { if (this.connected) this.subscribe(process.env.LV_ECHO === '1' ? 'ping' : 'pong') }
  handleInfo (msg: { n: number }): void {
    this.count = msg.n
    if (process.env.LV_ECHO === '1') void this.broadcast('pong', msg)
  }

  context () { return { count: this.count } }
}

async function app (port: number) {
  const a = Fastify({ logger: false })
  await a.register(liveview, { root: viewsRoot, secret: SECRET, production: true, pubsub: new RedisPubSub({ redis: { host: '127.0.0.1', port } }) })
  a.liveView('/echo', Echo)
  await a.ready()
  return a
}

if (process.env.LV_ECHO === '1') {
  const a = await app(Number(process.argv[2]))
  const page = await live(a, '/echo')
  process.send!('ready')
  process.on('message', () => { void page.close().then(() => a.close()).then(() => process.exit(0)) })
} else {
  const port = await new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => { const p = (s.address() as { port: number }).port; s.close(() => { resolve(p) }) })
  })
  const redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'ignore'] })
  await new Promise<void>((resolve) => { redis.stdout!.on('data', (c: Buffer) => { if (c.toString().includes('Ready to accept')) resolve() }) })
  const echo = fork(fileURLToPath(import.meta.url), [String(port)], { env: { ...process.env, LV_ECHO: '1' } })
  await new Promise((resolve) => echo.once('message', resolve))
  const a = await app(port)
  const page = await live(a, '/echo')
  await new Promise((resolve) => setTimeout(resolve, 300))
  const rtt: number[] = []
  const N = Number(process.env.LV_N ?? 1000)
  for (let n = 1; n <= N + 100; n++) {
    const start = performance.now()
    await a.liveViewBroadcast('ping', { n })
    while (page.text('#count') !== String(n)) await page.settle()
    if (n > 100) rtt.push(performance.now() - start)
  }
  rtt.sort((x, y) => x - y)
  const q = (p: number) => (rtt[Math.floor(rtt.length * p)]! / 2 * 1000).toFixed(0)
  console.log(`cross-process broadcast through Redis, one way (half the round trip), ${N} messages after 100 warm-up:`)
  console.log(`  p50 ${q(0.5)} µs, p99 ${q(0.99)} µs`)
  echo.send('exit')
  await page.close()
  await a.close()
  redis.kill()
}

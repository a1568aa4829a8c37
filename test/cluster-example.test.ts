// examples/cluster runs: two workers sharing a real redis-server behind node's cluster; a page
// and its socket work through it, an event is answered, and SIGTERM ends every process.
import t from 'tap'
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { WebSocket } from 'ws'
import { PROTOCOL_VERSION } from '../plugin.js'
import { freePort, startRedis, stopRedis } from './redis-server.js'
import { tokenOf } from './helpers.js'

t.setTimeout(60000)

t.test('the cluster example serves pages and sockets on two workers, and stops on SIGTERM', async (t) => {
  const redisPort = await freePort()
  const redis = await startRedis(redisPort)
  t.teardown(() => stopRedis(redis))
  const port = await freePort()
  // Beside this file: the .ts from the sources (through tap's loader), the .js in the compiled suite.
  const script = new URL(`../examples/cluster/server${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url)
  const proc = spawn(process.execPath, [...process.execArgv, script.pathname], {
    env: { ...process.env, PORT: String(port), WORKERS: '2', REDIS_URL: `redis://127.0.0.1:${redisPort}`, LV_SECRET: randomBytes(32).toString('base64url') },
    stdio: ['ignore', 'pipe', 'inherit']
  })
  t.teardown(() => { if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL') })
  await new Promise<void>((resolve, reject) => {
    proc.stdout!.on('data', (d: Buffer) => { if (d.toString().includes('with 2 workers')) resolve() })
    proc.once('exit', (code) => { reject(new Error(`exited ${String(code)}`)) })
  })
  const base = `http://127.0.0.1:${port}`
  for (let i = 0; i < 4; i++) {
    const page = await fetch(`${base}/counter?start=${i}`)
    t.equal(page.status, 200)
    const ws = new WebSocket(`ws://127.0.0.1:${port}/_live/ws`)
    const frames: unknown[][] = []
    ws.on('message', (d) => { frames.push(JSON.parse(d.toString()) as unknown[]) })
    await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject) })
    ws.send(JSON.stringify([1, 'join', { v: PROTOCOL_VERSION, token: tokenOf(await page.text()), url: `${base}/counter?start=${i}`, pristine: true }]))
    ws.send(JSON.stringify([2, 'e', 1, 'add', { by: '2' }]))
    for (let j = 0; j < 100 && !frames.some((f) => f[0] === 2); j++) await new Promise((resolve) => setTimeout(resolve, 20))
    t.equal(frames.find((f) => f[0] === 1)?.[1], 'mount', `page ${i}: joined (any worker can take the socket)`)
    t.equal(frames.find((f) => f[0] === 2)?.[1], 'p', `page ${i}: the event answered with a patch`)
    ws.terminate()
  }
  const exited = new Promise<number | null>((resolve) => proc.once('exit', resolve))
  proc.kill('SIGTERM')
  t.equal(await exited, 0, 'SIGTERM: the workers close, the primary exits')
})

// The multi-process load report: the demo on 1, then 2, worker processes (examples/cluster:
// node's cluster, round robin, Redis for PubSub and the store), and the bench's load client
// looping the counter's `add` event on each connection (one in flight). A report, not a
// target: this machine's cores are shared by the workers, Redis and the load client.
//
// Run: npm run build && node dist/bench/cluster.js [--workers 1,2] [--connections 64] [--seconds 5]
//      (needs redis-server: apt-get install -y redis-server)
import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { createServer } from 'node:net'
import { availableParallelism } from 'node:os'
import { Child, sleep } from './procs.js'
import { CLIENT_SCRIPT, type LoadLevel } from './load.js'

const arg = (name: string, fallback: string): string => {
  const i = process.argv.indexOf(`--${name}`)
  return i > 0 ? process.argv[i + 1] ?? fallback : fallback
}
const WORKERS = arg('workers', '1,2').split(',').map(Number)
const CONNECTIONS = Number(arg('connections', '64'))
const SECONDS = Number(arg('seconds', '5'))

async function freePort (): Promise<number> {
  return await new Promise((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => { const { port } = s.address() as { port: number }; s.close(() => { resolve(port) }) })
  })
}

/** Spawns `cmd` and resolves once a line of its output matches `ready`. */
async function started (cmd: string, args: string[], env: NodeJS.ProcessEnv, ready: RegExp): Promise<ChildProcess> {
  const proc = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => { reject(new Error(`${cmd} did not start`)) }, 20000)
    const seen = (chunk: Buffer): void => { if (ready.test(chunk.toString())) { clearTimeout(timer); resolve() } }
    proc.stdout!.on('data', seen)
    proc.stderr!.on('data', (chunk: Buffer) => { process.stderr.write(chunk); seen(chunk) })
    proc.once('error', (err) => { clearTimeout(timer); reject(err) })
    proc.once('exit', (code) => { clearTimeout(timer); reject(new Error(`${cmd} exited (${String(code)})`)) })
  })
  return proc
}

async function stop (proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return
  const gone = new Promise((resolve) => proc.once('exit', resolve))
  proc.kill('SIGTERM')
  await gone
}

const redisPort = await freePort()
let redis: ChildProcess
try {
  redis = await started('redis-server', ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {}, /Ready to accept connections/)
} catch (err) {
  console.error(`bench:cluster needs redis-server (apt-get install -y redis-server): ${String(err)}`)
  process.exit(1)
}

const rows: Array<{ workers: number } & LoadLevel> = []
const client = new Child('load client', CLIENT_SCRIPT)
try {
  for (const workers of WORKERS) {
    const port = await freePort()
    process.stderr.write(`cluster: ${workers} worker(s), ${CONNECTIONS} connections, ${SECONDS} s\n`)
    const server = await started(process.execPath, [new URL('../examples/cluster/server.js', import.meta.url).pathname], {
      PORT: String(port), WORKERS: String(workers), REDIS_URL: `redis://127.0.0.1:${redisPort}`, LV_SECRET: randomBytes(32).toString('base64url'), NODE_ENV: 'production',
      LV_LIMITS: JSON.stringify({ eventsPerSecond: 1_000_000, eventBurst: 1_000_000 })
    }, /listening on/)
    try {
      await client.request('connect', { port, n: CONNECTIONS, path: '/counter' }, 120000)
      const r = await client.request<LoadLevel>('run', { warmupMs: 2000, measureMs: SECONDS * 1000, event: 'add', params: { by: 1 } }, SECONDS * 1000 + 60000)
      await client.request('closeAll', {}, 60000)
      if (r.replies.error > 0 || r.closed_early > 0) throw new Error(`${workers} workers: replies ${JSON.stringify(r.replies)}, ${r.closed_early} closed early`)
      rows.push({ workers, ...r })
    } finally {
      await stop(server)
    }
    await sleep(500)
  }
} finally {
  await client.kill()
  await stop(redis)
}

console.log(`\nThe demo's counter, ${CONNECTIONS} connections each looping one event, ${SECONDS} s measured (${availableParallelism()} cores, shared with Redis and the load client)\n`)
console.log('workers   events/s   p50 ms   p99 ms   client CPU %')
for (const r of rows) {
  console.log(`${String(r.workers).padStart(7)}   ${String(Math.round(r.events_per_s)).padStart(8)}   ${r.p50_ms.toFixed(2).padStart(6)}   ${r.p99_ms.toFixed(2).padStart(6)}   ${String(Math.round(r.client_cpu_pct)).padStart(12)}`)
}

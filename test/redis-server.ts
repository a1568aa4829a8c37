// A real redis-server (Debian's package; `npm test` installs it when missing) on a free
// loopback port, for the Redis tests.
import { spawn, type ChildProcess } from 'node:child_process'
import { createServer } from 'node:net'

export async function freePort (): Promise<number> {
  return await new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => { resolve(port) })
    })
  })
}

export async function startRedis (port: number): Promise<ChildProcess> {
  const redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'pipe'] })
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => { reject(new Error('redis-server did not start')) }, 10000)
    redis.stdout!.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('Ready to accept connections')) { clearTimeout(timer); resolve() }
    })
    redis.once('exit', (code) => { clearTimeout(timer); reject(new Error(`redis-server exited (${String(code)})`)) })
  })
  return redis
}

export async function stopRedis (redis: ChildProcess): Promise<void> {
  if (redis.exitCode !== null) return
  const exited = new Promise((resolve) => redis.once('exit', resolve))
  redis.kill('SIGCONT') // a frozen server (SIGSTOP) acts on SIGTERM only once it runs again
  redis.kill('SIGTERM')
  await exited
}

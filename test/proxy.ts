// A TCP load balancer for multi-process tests: each connection goes to the next backend
// (round robin) or to the first that accepts (failover); a backend that refuses is skipped.
import { connect, createServer, type Socket } from 'node:net'

export interface Proxy {
  url: string
  /** Backend port of each connection so far, in order. */
  routed: number[]
  close: () => Promise<void>
}

export async function startProxy (ports: () => number[], mode: 'round-robin' | 'failover'): Promise<Proxy> {
  const open = new Set<Socket>()
  const routed: number[] = []
  let turn = 0
  const server = createServer((down) => {
    open.add(down)
    down.on('close', () => open.delete(down))
    down.on('error', () => {})
    down.pause()
    const list = ports()
    const start = mode === 'round-robin' ? turn++ : 0
    const attempt = (i: number): void => {
      if (i >= list.length) return void down.destroy()
      const port = list[(start + i) % list.length]!
      const up = connect(port, '127.0.0.1')
      let connected = false
      up.on('error', () => { if (connected) down.destroy(); else attempt(i + 1) })
      up.once('connect', () => {
        connected = true
        routed.push(port)
        open.add(up)
        up.on('close', () => { open.delete(up); down.destroy() })
        down.on('close', () => up.destroy())
        down.pipe(up).pipe(down)
        down.resume()
      })
    }
    attempt(0)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  return {
    url: `http://127.0.0.1:${port}`,
    routed,
    close: async () => {
      for (const s of open) s.destroy()
      await new Promise<void>((resolve) => server.close(() => { resolve() }))
    }
  }
}

// A TCP load balancer for multi-process tests: each connection goes to the next backend
// (round robin) or to the first that accepts (failover); a backend that refuses is skipped.
import { connect, createServer, type Socket } from 'node:net'

export interface Proxy {
  url: string
  /** Backend port of each connection so far, in order. */
  routed: number[]
  close: () => Promise<void>
}

/**
 * `blockUpgrades`: a connection whose first request asks for a WebSocket upgrade is answered
 * 403 (as a proxy that blocks WebSockets does); the refusals are counted in `refused`.
 */
export async function startProxy (ports: () => number[], mode: 'round-robin' | 'failover', blockUpgrades = false): Promise<Proxy & { refused: number }> {
  const open = new Set<Socket>()
  const routed: number[] = []
  let turn = 0
  let refused = 0
  const server = createServer((down) => {
    open.add(down)
    down.on('close', () => open.delete(down))
    down.on('error', () => {})
    down.once('data', (first: Buffer) => {
      down.pause()
      if (blockUpgrades && /^upgrade:\s*websocket/im.test(first.toString('latin1'))) {
        refused++
        return void down.end('HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n')
      }
      route(down, first)
    })
  })
  const route = (down: Socket, first: Buffer): void => {
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
        up.write(first)
        down.pipe(up).pipe(down)
        down.resume()
      })
    }
    attempt(0)
  }
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  return {
    url: `http://127.0.0.1:${port}`,
    routed,
    get refused () { return refused },
    close: async () => {
      for (const s of open) s.destroy()
      await new Promise<void>((resolve) => server.close(() => { resolve() }))
    }
  }
}

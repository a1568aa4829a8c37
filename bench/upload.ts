// upload (issue 15), in a process of its own (run with --expose-gc): one file of UPLOAD_MB
// MB (default 100) sent by a client in another process (bench/upload-client.ts) in real
// chunk frames over loopback; the view streams it to a temporary file when the form is
// submitted. Measures the throughput (file size / time from the first chunk to the last
// acknowledgement) and the peak growth of `heapUsed + arrayBuffers` in this process
// (sampled every 2 ms during the upload and the submit, over a baseline taken after gc()):
// streaming, not buffering. The same client sends the same frames to a bare ws server in
// this process too (it acknowledges each, and drops it): Node and ws alone leave ~33 MB of
// socket buffers to the garbage collector at that rate, so the plugin's share is the
// difference (same run). Prints one JSON line.
import { spawn } from 'node:child_process'
import { createWriteStream } from 'node:fs'
import { mkdtemp, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pipeline } from 'node:stream/promises'
import { fileURLToPath } from 'node:url'
import Fastify from 'fastify'
import { WebSocketServer } from 'ws'
import liveview, { LiveView, defineEvents } from '../plugin.js'
import { round } from './report.js'
import { viewsRoot } from './scenarios.js'

const MB = Number(process.env.UPLOAD_MB ?? 100)
const dir = await mkdtemp(join(tmpdir(), 'lv-bench-upload-'))

class Upload extends LiveView {
  static template = 'upload'
  static events = defineEvents<Upload>({ save: true })
  saved = 0
  mount (): void { this.allowUpload('file', { maxFileSize: 1024 * 1024 * 1024, autoUpload: true }) }
  async save (): Promise<number> {
    await this.consumeUploads('file', async (entry) => {
      const file = join(dir, 'saved.bin')
      await pipeline(entry.stream!, createWriteStream(file))
      this.saved += (await stat(file)).size
    })
    return this.saved
  }

  context () { return { saved: this.saved } }
}

const app = Fastify({ logger: false })
await app.register(liveview, { root: viewsRoot, layout: false, secret: 'bench-upload-secret-long-enough-000000000' })
app.liveView('/upload', Upload)
const address = await app.listen({ host: '127.0.0.1', port: 0 })
const port = Number(new URL(address).port)

// The bare server: a plain ws route that acknowledges each chunk frame's bytes and drops it.
const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, path: '/bare', perMessageDeflate: false, maxPayload: 65536 })
await new Promise((resolve) => wss.once('listening', resolve))
wss.on('connection', (ws) => {
  let got = 0
  // A chunk frame's header is 14 bytes with the ref 'bare'.
  ws.on('message', (data: Buffer) => { got += data.length - 14; ws.send(`[0,"ua","bare",${got}]`) })
})
const barePort = (wss.address() as { port: number }).port

/** Runs the client for a file of `mb` MB; resolves with its timings. */
async function upload (mb: number, bare = false): Promise<{ upload_ms: number, submit_ms: number }> {
  const client = spawn(process.execPath, [fileURLToPath(new URL('./upload-client.js', import.meta.url)), String(bare ? barePort : port), String(mb), bare ? 'bare' : 'live'], { stdio: ['ignore', 'pipe', 'inherit'] })
  let out = ''
  client.stdout.setEncoding('utf8').on('data', (c: string) => { out += c })
  const code = await new Promise<number | null>((resolve) => client.on('close', resolve))
  if (code !== 0) throw new Error(`the upload client failed (${String(code)})`)
  return JSON.parse(out.trim().split('\n').at(-1)!) as { upload_ms: number, submit_ms: number }
}

// A first small upload to each: what runs once (template compiles, lazy code) is not counted.
await upload(1)
await upload(1, true)
const used = (): number => { const m = process.memoryUsage(); return m.heapUsed + m.arrayBuffers }

/** The peak growth of heapUsed + arrayBuffers while `work` runs, over a baseline after gc(). */
async function peakOf<T> (work: () => Promise<T>): Promise<[T, number]> {
  ;(globalThis as { gc?: () => void }).gc?.()
  const base = used()
  let peak = base
  const sampler = setInterval(() => { peak = Math.max(peak, used()) }, 2)
  const result = await work()
  clearInterval(sampler)
  return [result, peak - base]
}

const [, bareGrowth] = await peakOf(() => upload(MB, true))
const [r, growth] = await peakOf(() => upload(MB))
wss.close()
await app.close()
await rm(dir, { recursive: true, force: true })
console.log(JSON.stringify({
  file_mb: MB,
  upload_ms: round(r.upload_ms, 0),
  submit_ms: round(r.submit_ms, 0),
  mb_per_s: round(MB * 1.048576 / (r.upload_ms / 1000), 1),
  peak_growth_mb: round(growth / 1e6, 1),
  bare_peak_growth_mb: round(bareGrowth / 1e6, 1),
  plugin_share_mb: round((growth - bareGrowth) / 1e6, 1)
}))

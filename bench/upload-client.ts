// The client process of the `upload` section (bench/upload.ts): opens the page on
// 127.0.0.1, joins, declares one file of UPLOAD_MB MB, sends it in real binary chunk
// frames (never more than the window unacknowledged, as the browser client does), then
// submits the form (the view streams the file to a temporary file). Prints one JSON line:
// the upload's milliseconds (first chunk to last acknowledgement) and the submit's.
import { get } from 'node:http'
import { randomBytes } from 'node:crypto'
import { performance } from 'node:perf_hooks'
import WebSocket from 'ws'
import { encodeChunk } from '../lib/frames.js'
import { PROTOCOL_VERSION, type UploadGrant } from '../lib/protocol.js'

const port = Number(process.argv[2])
const size = Number(process.argv[3]) * 1024 * 1024
/** Against the bare server: the same chunk frames, no page, no join, no declaration. */
const bare = process.argv[4] === 'bare'

const body = bare ? 'data-lv-token="-"' : await new Promise<string>((resolve, reject) => {
  get({ host: '127.0.0.1', port, path: '/upload' }, (res) => {
    let b = ''
    res.setEncoding('utf8')
    res.on('data', (c: string) => { b += c })
    res.on('end', () => { resolve(b) })
  }).on('error', reject)
})
const token = /data-lv-token="([^"]+)"/.exec(body)![1]!
const ws = new WebSocket(`ws://127.0.0.1:${port}${bare ? '/bare' : '/_live/ws'}`, { perMessageDeflate: false })
const waiting = new Map<number, (frame: unknown[]) => void>()
let onAck: (ref: string, received: number) => void = () => {}
ws.on('message', (data: Buffer) => {
  const frame = JSON.parse(data.toString()) as unknown[]
  if (frame[1] === 'ua') return onAck(frame[2] as string, frame[3] as number)
  waiting.get(frame[0] as number)?.(frame)
})
const request = async (frame: unknown[]): Promise<unknown[]> => await new Promise((resolve) => {
  waiting.set(frame[0] as number, resolve)
  ws.send(JSON.stringify(frame))
})
await new Promise((resolve) => ws.once('open', resolve))
const mounted = bare ? [1, 'mount', { id: 0 }] : await request([1, 'join', { v: PROTOCOL_VERSION, token, url: `http://127.0.0.1:${port}/upload`, pristine: true }])
const mount = (mounted[2] as { id: number }).id
const declared = bare ? [2, 'ok', 0, { entries: [['bare', true, 0]], chunk: 64000, window: 524288, auto: true }] : await request([2, 'u', mount, 'file', [['big.bin', 'application/octet-stream', size]]])
const grant = declared.at(-1) as UploadGrant
const [ref, ok] = grant.entries[0]!
if (!ok) throw new Error(`declaration refused: ${JSON.stringify(declared)}`)
// The bytes: one random megabyte, over and over (made once: the client's cost is not measured).
const block = randomBytes(1024 * 1024)
let sent = 0
let acked = 0
const t0 = performance.now()
await new Promise<void>((resolve, reject) => {
  const pump = (): void => {
    while (sent < size && sent - acked + grant.chunk <= grant.window) {
      const n = Math.min(grant.chunk, size - sent)
      const at = sent % block.length
      const data = at + n <= block.length ? block.subarray(at, at + n) : Buffer.concat([block.subarray(at), block.subarray(0, at + n - block.length)])
      ws.send(encodeChunk(ref, sent, data))
      sent += n
    }
  }
  onAck = (_ref, received) => {
    if (received < 0) return reject(new Error('the server dropped the upload'))
    acked = received
    if (acked === size) resolve()
    else pump()
  }
  pump()
})
const uploadMs = performance.now() - t0
const t1 = performance.now()
const saved = bare ? [] : await request([3, 'e', mount, 'save', {}])
const submitMs = performance.now() - t1
if (saved[1] === 'err') throw new Error(`save failed: ${JSON.stringify(saved)}`)
ws.close()
console.log(JSON.stringify({ upload_ms: uploadMs, submit_ms: submitMs }))

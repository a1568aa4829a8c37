import { encodeClient, encodeChunk } from '../frames.js'
import { OP_UPLOAD, OP_UPLOAD_PROGRESS, type UploadGrant } from '../protocol.js'
import type { Session } from '../session/actor.js'
import { LiveTestError, Reply } from './reply.js'
import type { TestTransport } from './transport.js'

/** A file for `page.upload`: its name, MIME type and bytes. */
export interface TestFile {
  name: string
  /** Default: application/octet-stream */
  type?: string | undefined
  content: string | Uint8Array
}

export interface UploadTestOptions {
  /** Send at most this many bytes of each file (an upload left part-way: progress, cancel). Default: all */
  bytes?: number | undefined
}

/** What `page.upload` did: the declaration's reply (its render shows the entries), and each file's entry. */
export interface UploadResult {
  readonly reply: Reply
  /** Per file, in order: its ref, whether the server took it, and the bytes it holds now. */
  readonly entries: ReadonlyArray<{ ref: string, ok: boolean, received: number }>
}

/**
 * Drives the real upload path in-process: the declaration frame, then binary chunk frames
 * (within the window, waiting for acknowledgements), or, for an external upload, a real
 * request to the signed URL and the completion report; then the progress render.
 */
export async function driveUpload (session: Session, transport: TestTransport, nextRef: () => number, name: string, files: readonly TestFile[], options: UploadTestOptions, cid?: number): Promise<UploadResult> {
  const bytes = files.map((f) => typeof f.content === 'string' ? Buffer.from(f.content) : f.content)
  const list = files.map((f, i) => [f.name, f.type ?? 'application/octet-stream', bytes[i]!.byteLength])
  const reply = await request(session, transport, nextRef(), (ref) => cid === undefined ? [ref, OP_UPLOAD, transport.mount, name, list] : [ref, OP_UPLOAD, transport.mount, name, list, cid])
  if (reply.error !== undefined) return { reply, entries: [] }
  const grant = reply.value as UploadGrant
  const entries: Array<{ ref: string, ok: boolean, received: number }> = []
  for (const [i, [ref, ok, received, target]] of grant.entries.entries()) {
    const data = bytes[i]!
    const limit = Math.min(data.byteLength, options.bytes ?? Infinity)
    if (!ok) {
      entries.push({ ref, ok, received: 0 })
      continue
    }
    if (target !== undefined) {
      let status = 0
      try {
        status = (await fetch(target.url, { method: target.method ?? 'PUT', headers: target.headers, body: new Uint8Array(data) })).status
      } catch {}
      const done = await request(session, transport, nextRef(), (r) => [r, OP_UPLOAD_PROGRESS, transport.mount, ref, status >= 200 && status < 300 ? 100 : -1])
      if (done.error !== undefined) throw new LiveTestError(`upload progress refused: ${done.error.code}`, { code: done.error.code })
      entries.push({ ref, ok, received: data.byteLength })
      continue
    }
    let sent = received
    while ((transport.acks.get(ref) ?? received) < limit) {
      const acked = transport.acks.get(ref) ?? received
      if (acked < 0) break
      const end = Math.min(sent + grant.chunk, limit)
      if (sent < limit && sent - acked + (end - sent) <= grant.window) {
        session.receiveBinary(encodeChunk(ref, sent, data.subarray(sent, end)))
        sent = end
        continue
      }
      await new Promise<void>((resolve) => { transport.onAck = resolve })
      if (session.closed) break
    }
    entries.push({ ref, ok, received: Math.max(0, transport.acks.get(ref) ?? received) })
  }
  // The progress render, now rather than after its coalescing delay.
  await session.idle()
  session.mounted?.uploads?.flush()
  await session.idle()
  return { reply, entries }
}

async function request (session: Session, transport: TestTransport, ref: number, frame: (ref: number) => unknown[]): Promise<Reply> {
  const reply = new Promise<Reply>((resolve) => { transport.waiting.set(ref, (f) => { resolve(new Reply(f)) }) })
  session.receive(encodeClient(frame(ref) as never))
  const answered = await reply
  await session.idle()
  return answered
}

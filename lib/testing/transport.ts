import { decodeServer, refOf } from '../frames.js'
import { OP_ERROR, OP_MOUNT, OP_PUSH, OP_REDIRECT, OP_STREAM, OP_TITLE, OP_UPLOAD_ACK, OP_URL, type ErrorPayload, type MountPayload, type StreamOp } from '../protocol.js'
import type { Transport } from '../session/actor.js'
import { applyStreamOp } from '../streams.js'
import { Reply, type PushedEvent } from './reply.js'

/**
 * The testing API's transport: what a browser page would keep of the frames it receives
 * (its URL, title, mount, the events pushed to it, where it was sent), and the replies to
 * the messages a test waits for.
 */
export class TestTransport implements Transport {
  readonly waiting = new Map<number, (frame: string) => void>()
  readonly updates: Reply[] = []
  readonly pushed: PushedEvent[] = []
  closed: { code: number, reason: string } | undefined
  url = ''
  title: string | undefined
  /** The mount the page shows: events name it. */
  mount = 0
  redirectedTo: string | undefined
  /** The signed flash a redirect carried (what the browser keeps as a cookie for the next page). */
  flash: string | undefined
  /** Each stream's items as the browser would show them: key and HTML, in order. */
  readonly streams = new Map<string, Array<[string, string]>>()
  /** Upload bytes the server acknowledged, by entry ref (-1: it dropped the entry). */
  readonly acks = new Map<string, number>()
  /** Called on each acknowledgement (the upload driver waits on it). */
  onAck: (() => void) | undefined

  send (frame: string): void {
    const ref = refOf(frame)
    const parsed = decodeServer(frame) as unknown[]
    const op = parsed[1]
    if (op === OP_MOUNT) this.#mounted(parsed[2] as MountPayload)
    // An error with a URL: the browser would load that URL in full.
    if (op === OP_ERROR && (parsed[2] as ErrorPayload).url !== undefined) this.#leave((parsed[2] as ErrorPayload).url!)
    if (ref === 0) {
      if (op === OP_STREAM) return this.#stream(parsed[2] as StreamOp[])
      if (op === OP_UPLOAD_ACK) {
        this.acks.set(parsed[2] as string, parsed[3] as number)
        return this.onAck?.()
      }
      if (op === OP_PUSH) return void this.pushed.push({ event: parsed[2] as string, payload: parsed[3] })
      if (op === OP_URL) return void (this.url = parsed[2] as string)
      if (op === OP_TITLE) return void (this.title = parsed[2] as string)
      if (op === OP_REDIRECT) return this.#leave(parsed[2] as string, parsed[3] as string | undefined)
    }
    const resolve = this.waiting.get(ref)
    if (resolve !== undefined) {
      this.waiting.delete(ref)
      resolve(frame)
    } else {
      this.updates.push(new Reply(frame))
    }
  }

  backlog (): number { return 0 }

  close (code: number, reason: string): void {
    this.closed ??= { code, reason }
    // Nothing more will answer: what waits gets the close as an error.
    for (const [ref, resolve] of [...this.waiting]) {
      this.waiting.delete(ref)
      resolve(JSON.stringify([ref, OP_ERROR, { code: reason, message: `socket closed (${code})` }]))
    }
  }

  /** As the browser client applies them (client/streams.ts). */
  #stream (ops: StreamOp[]): void {
    for (const op of ops) applyStreamOp(this.streams, op)
  }

  #mounted (m: MountPayload): void {
    // A mount streams its items again.
    this.streams.clear()
    if (m.streams !== undefined) this.#stream(m.streams)
    this.mount = m.id
    this.title = m.title
    if (m.url !== undefined) this.url = m.url
  }

  #leave (url: string, flash?: string): void {
    this.redirectedTo = url
    this.flash = flash
  }
}

import { randomBytes } from 'node:crypto'
import { publish, type PubSub } from './pubsub.js'

// Requests from one process to another over the PubSub adapter, for the long-poll transport:
// a poll or send that reaches a process other than the session's is handed to the owner on
// its own topic, and the answer comes back on the asker's. No sticky sessions needed.

const TOPIC = 'fastify-liveview:relay:'

/** How long the owner has to say it got a request (a process that is gone says nothing). */
const ACK_MS = 2000

interface Ask { t: 'q', id: string, from: string, body: unknown }
interface Answer { t: 'r', id: string, res: unknown }
interface Got { t: 'k', id: string }

/** One process's end of the relay: answers what others ask it, asks others. */
export class Relay {
  readonly #pubsub: PubSub
  readonly #node: string
  readonly #handle: (body: unknown) => Promise<unknown>
  readonly #onError: (err: unknown) => void
  readonly #waiting = new Map<string, (res: unknown) => void>()
  readonly #acked = new Map<string, () => void>()
  #off: (() => void) | undefined

  constructor (pubsub: PubSub, node: string, handle: (body: unknown) => Promise<unknown>, onError: (err: unknown) => void) {
    this.#pubsub = pubsub
    this.#node = node
    this.#handle = handle
    this.#onError = onError
  }

  start (): void {
    this.#off = this.#pubsub.subscribe(TOPIC + this.#node, (m) => { this.#receive(m as Ask | Answer) })
  }

  stop (): void {
    this.#off?.()
    for (const done of [...this.#waiting.values()]) done(undefined)
  }

  /**
   * Asks process `node`; resolves with its answer, or undefined when it did not say it got
   * the request within ACK_MS (it is gone) or did not answer within `timeoutMs`.
   */
  async ask (node: string, body: unknown, timeoutMs: number): Promise<unknown> {
    const id = randomBytes(9).toString('base64url')
    return await new Promise((resolve) => {
      const done = (res: unknown): void => {
        clearTimeout(timer)
        clearTimeout(ack)
        this.#waiting.delete(id)
        this.#acked.delete(id)
        resolve(res)
      }
      const timer = setTimeout(done, timeoutMs)
      const ack = setTimeout(done, Math.min(ACK_MS, timeoutMs))
      this.#waiting.set(id, done)
      this.#acked.set(id, () => { clearTimeout(ack) })
      this.#publish(TOPIC + node, { t: 'q', id, from: this.#node, body } satisfies Ask)
    })
  }

  #receive (m: Ask | Answer | Got): void {
    if (m?.t === 'r') return this.#waiting.get(m.id)?.(m.res)
    if (m?.t === 'k') return this.#acked.get(m.id)?.()
    if (m?.t !== 'q') return
    this.#publish(TOPIC + m.from, { t: 'k', id: m.id } satisfies Got)
    this.#handle(m.body).then(
      (res) => { this.#publish(TOPIC + m.from, { t: 'r', id: m.id, res } satisfies Answer) },
      this.#onError
    )
  }

  #publish (topic: string, msg: unknown): void { publish(this.#pubsub, topic, msg, this.#onError) }
}

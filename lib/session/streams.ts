import type { FastifyBaseLogger } from 'fastify'
import { describe, errors } from '../errors.js'
import { ESCAPED_STREAM_MARK, STREAM_MARKS } from '../mark.js'
import { notOneRoot, withRootAttr } from '../one-root.js'
import { ATTR_STREAM, KEY_ATTR, type StreamOp } from '../protocol.js'
import { applyStreamOp, type StreamEntry, type StreamInsertOptions, type StreamOptions } from '../streams.js'
import type { Templates } from '../templates.js'

/** What a view's streams ask of it (the mounted view). */
export interface StreamHost {
  readonly templates: Templates
  readonly connected: boolean
  readonly viewName: string
  readonly production: boolean
  readonly log: FastifyBaseLogger
  readonly streamEntries: Map<string, StreamEntry>
  /** Holds ops (or a start) until the running message succeeds; false when no message runs. */
  deferOps: (ops: StreamOp[]) => boolean
  defer: (start: () => void) => boolean
  /** Sends ops now (a page of an async iterable); false when the view is gone. */
  sendOps: (ops: StreamOp[]) => boolean
  /** Resolves once the client has read what is queued (or the view ended). */
  drained: (signal: AbortSignal) => Promise<void>
}

/** Items of an async iterable go out in pages of this many. */
export const STREAM_PAGE = 50

/**
 * The streams of one mounted view. The server keeps no item: each operation renders its
 * item now and goes to the client (after the message that made it, or in pages for an
 * async iterable), which owns the container's children. The view's render has the
 * containers empty, except the HTTP render, which shows the items `mount` streamed.
 */
export class Streams {
  readonly #host: StreamHost
  /** The HTTP render: the items of each stream, as the page shows them. */
  #http: Map<string, Array<[string, string]>> | undefined
  /** Async iterables being sent, by stream: a new `stream()` of that name stops the one before. */
  readonly #feeds = new Map<string, AbortController>()

  constructor (host: StreamHost) { this.#host = host }

  stream (name: string, items: Iterable<unknown> | AsyncIterable<unknown>, options: StreamOptions = {}): void {
    const entry = this.#entry(name)
    const iterable = items !== null && typeof items === 'object' && Symbol.asyncIterator in items
    // A reset, or another async iterable, stops the one being sent (once the message succeeds).
    const running = this.#feeds.get(name)
    if (running !== undefined && (iterable || options.reset === true)) {
      const stop = (): void => { running.abort() }
      if (!this.#host.defer(stop)) stop()
    }
    const ops: StreamOp[] = options.reset === true ? [[name, 'r']] : []
    if (iterable) {
      if (!this.#host.connected) throw new errors.STREAM_INVALID(name, 'an async iterable cannot be streamed on the HTTP render: stream it when connected (`if (this.connected)`), or pass an array')
      this.#emit(ops)
      const feed = new AbortController()
      this.#feeds.set(name, feed)
      const run = (): void => { void this.#feed(entry, items, options, feed.signal) }
      if (!this.#host.defer(run)) run()
      return
    }
    for (const item of items as Iterable<unknown>) ops.push(this.#insert(entry, item, options))
    this.#emit(ops)
  }

  insert (name: string, item: unknown, options: StreamInsertOptions = {}): void {
    this.#emit([this.#insert(this.#entry(name), item, options)])
  }

  delete (name: string, itemOrKey: unknown): void {
    const entry = this.#entry(name)
    const key = typeof itemOrKey === 'string' || typeof itemOrKey === 'number' ? String(itemOrKey) : entry.key(itemOrKey)
    this.#emit([[name, 'd', key]])
  }

  /**
   * The view's render with its stream marks replaced: by the items on the HTTP render, else
   * by nothing. Each mark must be the only content of its container, once per page.
   */
  fill (html: string): string {
    if (html.includes(ESCAPED_STREAM_MARK)) throw new errors.STREAM_INVALID(/&#xE000;lvs[^:]*:([^&]*)&#xE000;/.exec(html)?.[1] ?? '', 'its template outputs it.streams with <%= %>: use <%~ it.streams.name %> (raw)')
    const seen = new Set<string>()
    const out = html.replace(STREAM_MARKS, (mark: string, name: string, at: number) => {
      if (seen.has(name)) throw new errors.STREAM_INVALID(name, 'its template outputs it.streams.' + name + ' twice: one container per stream')
      seen.add(name)
      const open = html.lastIndexOf('<', at)
      const tag = html.slice(open, html.indexOf('>', open) + 1)
      const next = html.indexOf('<', at + mark.length)
      const inside = html.slice(open + tag.length, at) + html.slice(at + mark.length, next)
      if (!tag.includes(`${ATTR_STREAM}="${name}"`) || inside.trim() !== '' || !html.startsWith('</', next)) {
        throw new errors.STREAM_INVALID(name, `output <%~ it.streams.${name} %> as the only content of its container, the element with ${ATTR_STREAM}="${name}"`)
      }
      return this.#http?.get(name)?.map(([, h]) => h).join('') ?? ''
    })
    // What the connected render of this page is (its containers empty): the page token's hash.
    if (!this.#host.connected) this.connectedHtml = html.replace(STREAM_MARKS, '')
    return out
  }

  /** On the HTTP render: the page as a connected render shows it (stream containers empty). */
  connectedHtml: string | undefined

  /** Async iterables being sent (the testing API waits for them). */
  get feeding (): number { return this.#feeds.size }

  /** The view ended: async iterables stop. */
  dispose (): void {
    for (const feed of this.#feeds.values()) feed.abort()
    this.#feeds.clear()
  }

  #entry (name: string): StreamEntry {
    const entry = this.#host.streamEntries.get(name)
    if (entry === undefined) throw new errors.STREAM_INVALID(name, `${this.#host.viewName} declares no such stream (\`static streams\`: ${[...this.#host.streamEntries.keys()].join(', ') || 'none'})`)
    return entry
  }

  #insert (entry: StreamEntry, item: unknown, options: StreamInsertOptions): StreamOp {
    const key = entry.key(item)
    let html: string
    try {
      html = this.#host.templates.render(entry.template, { item, key }).trim()
    } catch (err) {
      throw new errors.RENDER_FAILED(`${this.#host.viewName} (stream ${entry.name})`, describe(err))
    }
    const keyed = withRootAttr(html, KEY_ATTR, key)
    if (keyed === undefined) throw new errors.STREAM_INVALID(entry.name, `its item template must render one element, not ${JSON.stringify(html.slice(0, 20))}`)
    // One root (the client keeps only the first element): checked in development, where it costs a scan per item.
    const why = this.#host.production ? undefined : notOneRoot(html)
    if (why !== undefined) throw new errors.STREAM_INVALID(entry.name, `its item template must render exactly one root element: ${why}`)
    return [entry.name, 'i', key, keyed, options.at ?? -1, options.limit ?? 0]
  }

  #emit (ops: StreamOp[]): void {
    if (ops.length === 0) return
    if (!this.#host.connected) {
      for (const op of ops) applyStreamOp(this.#http ??= new Map(), op)
      return
    }
    if (!this.#host.deferOps(ops)) this.#host.sendOps(ops)
  }

  /**
   * Sends an async iterable in pages of up to STREAM_PAGE items, each once the client has
   * read what is queued; a page goes out early when the next item is not ready at once (a
   * slow source). On abort the iterator is closed (`return()`), so its source can let go.
   */
  async #feed (entry: StreamEntry, items: AsyncIterable<unknown>, options: StreamInsertOptions, signal: AbortSignal): Promise<void> {
    const it = items[Symbol.asyncIterator]()
    const close = (): void => { void Promise.resolve(it.return?.()).catch(() => {}) }
    signal.addEventListener('abort', close, { once: true })
    let page: StreamOp[] = []
    const send = async (): Promise<boolean> => {
      await this.#host.drained(signal)
      const ok = !signal.aborted && this.#host.sendOps(page)
      page = []
      return ok
    }
    try {
      for (;;) {
        const next = it.next()
        if (page.length > 0 && !await Promise.race([next.then(() => true, () => true), new Promise<boolean>((resolve) => { setImmediate(resolve, false) })])) {
          if (!await send()) return
        }
        const r = await next
        if (r.done === true || signal.aborted) break
        page.push(this.#insert(entry, r.value, options))
        if (page.length === STREAM_PAGE && !await send()) return
      }
      if (page.length > 0) await send()
    } catch (err) {
      // The page keeps what it got: later items are not sent.
      if (!signal.aborted) this.#host.log.error({ err, view: this.#host.viewName, stream: entry.name }, 'live view stream failed: its later items were not sent')
    } finally {
      signal.removeEventListener('abort', close)
      if (this.#feeds.get(entry.name)?.signal === signal) this.#feeds.delete(entry.name)
    }
  }

}

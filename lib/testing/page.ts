import { AssertionError } from 'node:assert'
import type { FastifyInstance } from 'fastify'
import { encodeClient } from '../frames.js'
import type { ComponentId, LiveComponent, LiveComponentClass } from '../component.js'
import { CID_ATTR, FLASH_COOKIE, OP_EVENT, OP_PATCH_URL } from '../protocol.js'
import type { Session } from '../session/actor.js'
import type { LiveView } from '../view.js'
import { Dom, closestWith, describeElement, fieldOwn, formOf, formParams, readText, valueParams, type Element, type Params } from './dom.js'
import { LiveComponentHandle } from './component.js'
import { live } from './live.js'
import { LiveTestError, Reply, type PushedEvent } from './reply.js'
import type { TestTransport } from './transport.js'
import { UsedForms } from './used.js'
import { driveUpload, type TestFile, type UploadResult, type UploadTestOptions } from './upload.js'

/**
 * A live page in a test: the real session runtime of the app, joined with the token of the
 * real HTTP render, driven in-process (no socket, no port).
 */
export class LivePage {
  readonly #session: Session
  readonly #transport: TestTransport
  readonly #onClose: (() => Promise<void>) | undefined
  readonly #app: FastifyInstance
  readonly #headers: Record<string, string>
  #ref = 1
  #settled = 0
  #dom: { html: string, dom: Dom } | undefined
  readonly #used = new UsedForms()
  /** The join's reply: `ok` when the connected render equals the served page, `html` when not. */
  readonly joined: Reply

  /** @internal Use `live()` or `mountView()`. */
  constructor (app: FastifyInstance, headers: Record<string, string>, session: Session, transport: TestTransport, joined: Reply, onClose?: () => Promise<void>) {
    this.#app = app
    this.#headers = headers
    this.#session = session
    this.#transport = transport
    this.joined = joined
    this.#onClose = onClose
  }

  /** The live root's inner HTML, as the browser has it now (stream containers hold their items). */
  get html (): string {
    const html = this.#session.html ?? ''
    const streams = this.#transport.streams
    if (streams.size === 0) return html
    // Each container's items after its start tag (the server's render has it empty).
    return html.replace(/<[a-zA-Z][^>]*\slv-stream="([^"]*)"[^>]*>/g, (tag, name: string) => tag + (streams.get(name)?.map(([, h]) => h).join('') ?? ''))
  }

  /** A stream's items as the browser shows them: each item's key and its HTML, in order. */
  stream (name: string): Array<{ key: string, html: string }> {
    return (this.#transport.streams.get(name) ?? []).map(([key, html]) => ({ key, html }))
  }

  /** The page version (updates since join). */
  get version (): number { return this.#session.version }

  /** The view instance behind the page, for white-box checks. */
  get view (): LiveView { return this.#session.view! }

  /** The session id the view sees as `this.sessionId`. */
  get sessionId (): string { return this.#session.id }

  /** Server-initiated updates received so far (from `sendInfo`, timers, …), oldest first. */
  get updates (): readonly Reply[] { return this.#transport.updates }

  /** The page's URL now: where it was opened, then every patch (lv-patch links, pushPatch). */
  get url (): string { return this.#transport.url }

  /** The page title now (the layout's `<title>`, then what the view set). */
  get title (): string | undefined { return this.#transport.title }

  /** The view's flash messages now, by kind. */
  get flash (): Readonly<Record<string, string>> { return this.#session.view?.flash ?? {} }

  /**
   * Where the page was sent, if it was: the view's `redirect(url)`, or a URL the browser
   * would load in full (a navigation whose new view failed to mount).
   */
  get redirectedTo (): string | undefined { return this.#transport.redirectedTo }

  /**
   * Follows the redirect, as the browser would: opens `redirectedTo` with the same headers,
   * carrying the flash the view set (the next page shows it). Throws when there was none.
   */
  async followRedirect (): Promise<LivePage> {
    const to = this.#transport.redirectedTo
    if (to === undefined) throw new LiveTestError('the page was not redirected')
    const headers = { ...this.#headers }
    if (this.#transport.flash !== undefined) headers.cookie = [headers.cookie, `${FLASH_COOKIE}=${this.#transport.flash}`].filter((c) => c !== undefined).join('; ')
    return await live(this.#app, new URL(to, this.url).href.replace(/^https?:\/\/[^/]+/, ''), { headers })
  }

  /**
   * Changes the URL within the page's route, as an `lv-patch` link, back or forward would:
   * the view's `handleParams` runs. A URL of another route is refused with
   * FST_LIVEVIEW_PATCH_REFUSED (a browser would do a full load).
   */
  async patch (url: string): Promise<Reply> {
    const absolute = new URL(url, this.url).href
    const ref = ++this.#ref
    const reply = new Promise<Reply>((resolve) => { this.#transport.waiting.set(ref, (frame) => { resolve(new Reply(frame)) }) })
    this.#session.receive(encodeClient([ref, OP_PATCH_URL, absolute]))
    const answered = await reply
    await this.#session.idle()
    if (answered.error === undefined) this.#transport.url = absolute
    return answered
  }

  /** Events the view pushed to the page's hooks (`pushEvent`), oldest first. */
  get pushed (): readonly PushedEvent[] { return this.#transport.pushed }

  /** Every element matching a CSS selector, in document order. */
  all (selector: string): Element[] {
    if (this.#dom?.html !== this.html) this.#dom = { html: this.html, dom: new Dom(this.html) }
    return this.#dom.dom.all(selector)
  }

  /** True when some element matches. */
  has (selector: string): boolean { return this.all(selector).length > 0 }

  /** The text of the first element matching `selector` (white space folded); throws when none does. */
  text (selector: string): string { return readText(this.#one(selector)) }

  /** The texts of every element matching `selector`, in document order. */
  texts (selector: string): string[] { return this.all(selector).map((el) => readText(el)) }

  /** Throws unless the text of `selector` is `expected` (or matches it); `message` prefixes the error. */
  assertText (selector: string, expected: string | RegExp, message?: string): this {
    const actual = this.text(selector)
    if (typeof expected === 'string' ? actual !== expected : !expected.test(actual)) {
      const detail = `text of '${selector}' is ${JSON.stringify(actual)}, expected ${String(typeof expected === 'string' ? JSON.stringify(expected) : expected)}`
      throw new AssertionError({ message: message === undefined ? detail : `${message}: ${detail}`, actual, expected, operator: 'assertText' })
    }
    return this
  }

  /**
   * Sends an event by name, as a binding would, to the view (or to the component with wire
   * id `cid`, as `lv-target` does), with the fields a form's event says are `used`;
   * resolves with its reply.
   */
  async event (name: string, params: Params = {}, cid?: number, used?: string[]): Promise<Reply> {
    const ref = ++this.#ref
    const reply = new Promise<Reply>((resolve) => { this.#transport.waiting.set(ref, (frame) => { resolve(new Reply(frame)) }) })
    const mount = this.#transport.mount
    this.#session.receive(encodeClient(used !== undefined ? [ref, OP_EVENT, mount, name, params, cid ?? null, used] : cid === undefined ? [ref, OP_EVENT, mount, name, params] : [ref, OP_EVENT, mount, name, params, cid]))
    const answered = await reply
    // What the message pushed (pushEvent) follows its reply: wait for the message to finish.
    await this.#session.idle()
    return answered
  }

  /**
   * Clicks the element matching `selector`: follows an `lv-patch` or `lv-navigate` link (see `patch`), or
   * sends the `lv-click` of it (or of its nearest ancestor that has one) with its `lv-value-*`.
   */
  click (selector: string): Promise<Reply> {
    const el = this.#one(selector)
    const link = closestWith(el, 'lv-patch') ?? closestWith(el, 'lv-navigate')
    if (link !== undefined && link.name === 'a' && link.attribs.href !== undefined) return this.patch(link.attribs.href)
    const bound = closestWith(el, 'lv-click')
    if (bound === undefined) throw new LiveTestError(`${describeElement(el)} (matched by '${selector}') has no lv-click binding, nor has any element around it`)
    return this.event(bound.attribs['lv-click'] as string, valueParams(bound), this.#target(bound))
  }

  /**
   * Changes fields of a form, as typing then leaving a field would: sends the `lv-change` of
   * the field or its form with the form's fields, `values` typed over them, and `_target`
   * (the first name in `values`, or the field's own name).
   */
  change (selector: string, values: Params = {}): Promise<Reply> {
    return this.#fieldEvent('change', selector, values)
  }

  /**
   * Types into a field, as `input` events would: sends the `lv-input` of the field or its form,
   * like `change` does for `lv-change` (rate limits such as lv-debounce are the browser's and
   * do not apply here: every call sends).
   */
  input (selector: string, values: Params = {}): Promise<Reply> {
    return this.#fieldEvent('input', selector, values)
  }

  /** Focuses an element: sends its `lv-focus` with its `lv-value-*` (and `value`, for a field). */
  focus (selector: string): Promise<Reply> { return this.#own('focus', selector) }

  /** Leaves an element: sends its `lv-blur` with its `lv-value-*` (and `value`, for a field). */
  blur (selector: string): Promise<Reply> { return this.#own('blur', selector) }

  /** Presses a key in an element: sends the `lv-keydown` of it or around it, if its `lv-key` (if any) matches. */
  keydown (selector: string, key: string): Promise<Reply> { return this.#key('keydown', selector, key) }

  /** Releases a key in an element: sends the `lv-keyup` of it or around it, if its `lv-key` (if any) matches. */
  keyup (selector: string, key: string): Promise<Reply> { return this.#key('keyup', selector, key) }

  /** Presses a key anywhere: sends every `lv-window-keydown` of the page whose `lv-key` (if any) matches, in page order. */
  windowKeydown (key: string): Promise<Reply[]> { return this.#windowKey('keydown', key) }

  /** Releases a key anywhere: sends every matching `lv-window-keyup`. */
  windowKeyup (key: string): Promise<Reply[]> { return this.#windowKey('keyup', key) }

  /** Clicks outside the element matching `selector`: sends its `lv-click-away`. */
  clickAway (selector: string): Promise<Reply> {
    const el = this.#one(selector)
    const name = el.attribs['lv-click-away']
    if (name === undefined) throw new LiveTestError(`${describeElement(el)} (matched by '${selector}') has no lv-click-away binding`)
    return this.event(name, valueParams(el), this.#target(el))
  }

  /**
   * Picks `files` for the upload bound to the element matching `selector` (its `lv-upload`
   * or `lv-drop`) and sends them over the real chunked path (all bytes, or `options.bytes`
   * of each), as the browser sends them once the upload starts; resolves once the server
   * has acknowledged them and rendered the progress. Submit the form after, as a user would.
   */
  async upload (selector: string, files: readonly TestFile[], options: UploadTestOptions = {}): Promise<UploadResult> {
    const el = this.#one(selector)
    const name = el.attribs['lv-upload'] ?? el.attribs['lv-drop']
    if (name === undefined) throw new LiveTestError(`${describeElement(el)} (matched by '${selector}') has no lv-upload or lv-drop binding`)
    // A component's upload: the input is inside its root.
    const cid = closestWith(el, CID_ATTR)?.attribs[CID_ATTR]
    return await driveUpload(this.#session, this.#transport, () => ++this.#ref, name, files, options, cid === undefined ? undefined : Number(cid))
  }

  #fieldEvent (type: 'input' | 'change', selector: string, values: Params): Promise<Reply> {
    const attr = `lv-${type}`
    const el = this.#one(selector)
    const form = formOf(el)
    const bound = el.attribs[attr] !== undefined ? el : form?.attribs[attr] !== undefined ? form : undefined
    if (bound === undefined) throw new LiveTestError(`${describeElement(el)} (matched by '${selector}') has no ${attr} binding, nor has its form`)
    const target = Object.keys(values)[0] ?? el.attribs.name
    const params = bound === el && el.name !== 'form'
      ? { [el.attribs.name ?? '']: values[el.attribs.name ?? ''] ?? el.attribs.value ?? '' }
      : formParams(bound, values)
    if (target !== undefined) params._target = target
    // A form's events say which fields the user has used: those this test typed into.
    const used = bound.name === 'form' ? this.#used.use(bound, target === undefined ? [] : Object.keys(values).concat(target)) : undefined
    return this.event(bound.attribs[attr] as string, valueParams(bound, params), this.#target(bound), used)
  }

  #own (type: 'focus' | 'blur', selector: string): Promise<Reply> {
    const el = this.#one(selector)
    const name = el.attribs[`lv-${type}`]
    if (name === undefined) throw new LiveTestError(`${describeElement(el)} (matched by '${selector}') has no lv-${type} binding`)
    return this.event(name, valueParams(el, fieldOwn(el)), this.#target(el))
  }

  #key (type: 'keydown' | 'keyup', selector: string, key: string): Promise<Reply> {
    const el = this.#one(selector)
    const bound = closestWith(el, `lv-${type}`)
    if (bound === undefined) throw new LiveTestError(`${describeElement(el)} (matched by '${selector}') has no lv-${type} binding, nor has any element around it`)
    const want = bound.attribs['lv-key']
    if (want !== undefined && want.toLowerCase() !== key.toLowerCase()) {
      throw new LiveTestError(`${describeElement(bound)} listens for lv-key="${want}" only, not '${key}'`)
    }
    return this.event(bound.attribs[`lv-${type}`] as string, valueParams(bound, { ...fieldOwn(bound), key }), this.#target(bound))
  }

  async #windowKey (type: 'keydown' | 'keyup', key: string): Promise<Reply[]> {
    const replies: Reply[] = []
    for (const el of this.all(`[lv-window-${type}]`)) {
      const want = el.attribs['lv-key']
      if (want !== undefined && want.toLowerCase() !== key.toLowerCase()) continue
      replies.push(await this.event(el.attribs[`lv-window-${type}`] as string, valueParams(el, { ...fieldOwn(el), key }), this.#target(el)))
    }
    return replies
  }

  /** Submits the form matching `selector` (or around it): sends its `lv-submit` with its fields and `values` typed over them. */
  submit (selector: string, values: Params = {}): Promise<Reply> {
    const el = this.#one(selector)
    const form = formOf(el)
    if (form === undefined || form.attribs['lv-submit'] === undefined) {
      throw new LiveTestError(`${describeElement(el)} (matched by '${selector}') is not in a form with an lv-submit binding`)
    }
    return this.event(form.attribs['lv-submit'] as string, valueParams(form, formParams(form, values)), this.#target(form), this.#used.use(form))
  }

  /**
   * Sends the view a server-originated message (its `handleInfo`), waits until the session
   * has handled it, and returns the update it sent, if any.
   */
  async info (msg: unknown): Promise<Reply | undefined> {
    const before = this.#transport.updates.length
    if (!this.#session.info(msg)) throw new LiveTestError('the session did not take the message (closed, or its mailbox is full)')
    await this.#session.idle()
    return this.#transport.updates.length > before ? this.#transport.updates.at(-1) : undefined
  }

  /**
   * Runs every timer the view started (`every`, `after`) once now, waits until the session
   * has handled their messages, and returns the updates they caused.
   */
  async fireTimers (): Promise<Reply[]> {
    this.#session.fireTimers()
    return await this.settle()
  }

  /**
   * Waits until the session has handled everything sent to it so far (a broadcast from
   * `app.liveViewBroadcast`, a message from a job), and returns the server-initiated updates
   * received since the last `settle` or `fireTimers`.
   */
  async settle (): Promise<Reply[]> {
    await new Promise((resolve) => setImmediate(resolve))
    // Upload progress renders now, not after its coalescing delay.
    this.#session.mounted?.uploads?.flush()
    await this.#session.idle()
    const fresh = this.#transport.updates.slice(this.#settled)
    this.#settled = this.#transport.updates.length
    return fresh
  }

  /**
   * Waits until the view's async work (`assignAsync`, `startAsync`, async iterables being
   * streamed) has settled and its
   * results are rendered, and returns the server-initiated updates since the last `settle`.
   * Work still running after `timeout` ms (default 5,000) fails the test with a
   * LiveTestError naming it, instead of hanging it.
   */
  async settleAsync (options: { timeout?: number } = {}): Promise<Reply[]> {
    const timeout = options.timeout ?? 5000
    const deadline = performance.now() + timeout
    for (;;) {
      await this.#session.idle()
      const running = [...this.#session.mounted?.tasks?.keys ?? [], ...(this.#session.mounted?.streams?.feeding ? ['an async iterable being streamed'] : [])]
      if (running.length === 0) return await this.settle()
      if (performance.now() >= deadline) throw new LiveTestError(`async work still running after ${timeout} ms: ${running.join(', ')}`)
      await new Promise((resolve) => setTimeout(resolve, 1))
    }
  }

  /** Ends the session (the view's `terminate('closed')` runs). */
  async close (): Promise<void> {
    await this.#session.close('closed')
    await this.#onClose?.()
  }

  /**
   * A component of the page, by class and id: its subtree, and events sent to it (selectors
   * are matched inside its root element). Throws when it is not on the page.
   */
  component<C extends LiveComponent<any>> (Component: LiveComponentClass<C>, id: ComponentId): LiveComponentHandle<C> {
    const inst = this.#session.mounted?.components?.findByClass(Component, id)
    if (inst === undefined) throw new LiveTestError(`no ${Component.name} with id ${JSON.stringify(id)} is on the page`)
    return new LiveComponentHandle<C>(this, this.#session, inst)
  }

  /** The component an event from `el` goes to (its `lv-target`, as the browser client reads it). */
  #target (el: Element): number | undefined {
    const t = el.attribs['lv-target'] ?? formOf(el)?.attribs['lv-target']
    if (t === undefined) return undefined
    if (/^\d+$/.test(t)) return Number(t)
    const at = t === '@myself' ? el : this.all(t)[0]
    const root = at === undefined ? undefined : closestWith(at, CID_ATTR)
    return root === undefined ? 0 : Number(root.attribs[CID_ATTR])
  }

  #one (selector: string): Element {
    const found = this.all(selector)
    if (found.length === 0) {
      const excerpt = this.html.length > 300 ? `${this.html.slice(0, 300)}…` : this.html
      throw new LiveTestError(`no element matches '${selector}' in the page: ${excerpt.replace(/\s+/g, ' ').trim()}`)
    }
    return found[0] as Element
  }
}


import type { FastifyInstance } from 'fastify'
import { encodeClient } from '../frames.js'
import type { ComponentId, LiveComponent, LiveComponentClass } from '../component.js'
import { CID_ATTR, FLASH_COOKIE, OP_EVENT, OP_PATCH_URL } from '../protocol.js'
import type { Session } from '../session/actor.js'
import type { LiveView } from '../view.js'
import { closestWith, commandsOf, describeElement, fieldOwn, formOf, formParams, targetOf, valueParams, type Element, type Params } from './dom.js'
import { PageDom } from './page-dom.js'
import type { Command } from '../js.js'
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
export class LivePage extends PageDom {
  readonly #session: Session
  readonly #transport: TestTransport
  readonly #onClose: (() => Promise<void>) | undefined
  readonly #app: FastifyInstance
  readonly #headers: Record<string, string>
  #ref = 1
  #settled = 0
  readonly #used = new UsedForms()
  /** The join's reply: `ok` when the connected render equals the served page, `html` when not. */
  readonly joined: Reply

  /** @internal Use `live()` or `mountView()`. */
  constructor (app: FastifyInstance, headers: Record<string, string>, session: Session, transport: TestTransport, joined: Reply, onClose?: () => Promise<void>) {
    super()
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
   * What a binding of the element matching `selector` (or of its nearest ancestor with one)
   * runs, as commands: a command list (`JS.show('#menu').push('opened')`) as it is, an event
   * name as its `push`. `binding`: `click` (default), `submit`, `change`…
   */
  js (selector: string, binding = 'click'): Command[] {
    const el = this.one(selector)
    const bound = closestWith(el, `lv-${binding}`)
    if (bound === undefined) throw new LiveTestError(`${describeElement(el)} (matched by '${selector}') has no lv-${binding} binding, nor has any element around it`)
    return commandsOf(bound, binding)
  }

  /**
   * Sends what binding `binding` of `el` sends with `params`: its event, or the `push`
   * commands of its command list (each with its `value` and `target`; the other commands run
   * in the browser, not here: read them with `js()`). Resolves with the last reply.
   */
  async #fire (el: Element, binding: string, params: Params, used?: string[]): Promise<Reply> {
    // An element of a form sends the form's used fields, as the browser does.
    const form = formOf(el)
    used ??= form === undefined ? undefined : this.#used.peek(form)
    const pushes = commandsOf(el, binding).filter(([name]) => name === 'push')
    if (pushes.length === 0) throw new LiveTestError(`${describeElement(el)}: its lv-${binding} runs commands in the browser only (none pushes an event): read them with page.js()`)
    let last: Reply | undefined
    for (const [, a] of pushes) last = await this.event(String(a.event), { ...params, ...a.value as Params }, this.#target(el, a.target as string | number | undefined), used)
    return last!
  }

  /**
   * Clicks the element matching `selector`: follows an `lv-patch` or `lv-navigate` link (see `patch`), or
   * sends the `lv-click` of it (or of its nearest ancestor that has one) with its `lv-value-*`.
   */
  click (selector: string): Promise<Reply> {
    const el = this.one(selector)
    const link = closestWith(el, 'lv-patch') ?? closestWith(el, 'lv-navigate')
    if (link !== undefined && link.name === 'a' && link.attribs.href !== undefined) return this.patch(link.attribs.href)
    const bound = closestWith(el, 'lv-click')
    if (bound === undefined) throw new LiveTestError(`${describeElement(el)} (matched by '${selector}') has no lv-click binding, nor has any element around it`)
    return this.#fire(bound, 'click', valueParams(bound))
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
    const el = this.one(selector)
    if (el.attribs['lv-click-away'] === undefined) throw new LiveTestError(`${describeElement(el)} (matched by '${selector}') has no lv-click-away binding`)
    return this.#fire(el, 'click-away', valueParams(el))
  }

  /**
   * Picks `files` for the upload bound to the element matching `selector` (its `lv-upload`
   * or `lv-drop`) and sends them over the real chunked path (all bytes, or `options.bytes`
   * of each), as the browser sends them once the upload starts; resolves once the server
   * has acknowledged them and rendered the progress. Submit the form after, as a user would.
   */
  async upload (selector: string, files: readonly TestFile[], options: UploadTestOptions = {}): Promise<UploadResult> {
    const el = this.one(selector)
    const name = el.attribs['lv-upload'] ?? el.attribs['lv-drop']
    if (name === undefined) throw new LiveTestError(`${describeElement(el)} (matched by '${selector}') has no lv-upload or lv-drop binding`)
    // A component's upload: the input is inside its root.
    const cid = closestWith(el, CID_ATTR)?.attribs[CID_ATTR]
    return await driveUpload(this.#session, this.#transport, () => ++this.#ref, name, files, options, cid === undefined ? undefined : Number(cid))
  }

  #fieldEvent (type: 'input' | 'change', selector: string, values: Params): Promise<Reply> {
    const attr = `lv-${type}`
    const el = this.one(selector)
    const form = formOf(el)
    const bound = el.attribs[attr] !== undefined ? el : form?.attribs[attr] !== undefined ? form : undefined
    if (bound === undefined) throw new LiveTestError(`${describeElement(el)} (matched by '${selector}') has no ${attr} binding, nor has its form`)
    const target = Object.keys(values)[0] ?? el.attribs.name
    const params = bound === el && el.name !== 'form'
      ? { [el.attribs.name ?? '']: values[el.attribs.name ?? ''] ?? el.attribs.value ?? '' }
      : formParams(bound, values)
    if (target !== undefined) params._target = target
    // A form's events (and its fields') say which fields the user has used: those this test typed into.
    const used = form === undefined ? undefined : this.#used.use(form, target === undefined ? [] : Object.keys(values).concat(target))
    return this.#fire(bound, type, valueParams(bound, params), used)
  }

  #own (type: 'focus' | 'blur', selector: string): Promise<Reply> {
    const el = this.one(selector)
    if (el.attribs[`lv-${type}`] === undefined) throw new LiveTestError(`${describeElement(el)} (matched by '${selector}') has no lv-${type} binding`)
    return this.#fire(el, type, valueParams(el, fieldOwn(el)))
  }

  #key (type: 'keydown' | 'keyup', selector: string, key: string): Promise<Reply> {
    const el = this.one(selector)
    const bound = closestWith(el, `lv-${type}`)
    if (bound === undefined) throw new LiveTestError(`${describeElement(el)} (matched by '${selector}') has no lv-${type} binding, nor has any element around it`)
    const want = bound.attribs['lv-key']
    if (want !== undefined && want.toLowerCase() !== key.toLowerCase()) {
      throw new LiveTestError(`${describeElement(bound)} listens for lv-key="${want}" only, not '${key}'`)
    }
    return this.#fire(bound, type, valueParams(bound, { ...fieldOwn(bound), key }))
  }

  async #windowKey (type: 'keydown' | 'keyup', key: string): Promise<Reply[]> {
    const replies: Reply[] = []
    for (const el of this.all(`[lv-window-${type}]`)) {
      const want = el.attribs['lv-key']
      if (want !== undefined && want.toLowerCase() !== key.toLowerCase()) continue
      replies.push(await this.#fire(el, `window-${type}`, valueParams(el, { ...fieldOwn(el), key })))
    }
    return replies
  }

  /** Submits the form matching `selector` (or around it): sends its `lv-submit` with its fields and `values` typed over them. */
  submit (selector: string, values: Params = {}): Promise<Reply> {
    const el = this.one(selector)
    const form = formOf(el)
    if (form === undefined || form.attribs['lv-submit'] === undefined) {
      throw new LiveTestError(`${describeElement(el)} (matched by '${selector}') is not in a form with an lv-submit binding`)
    }
    return this.#fire(form, 'submit', valueParams(form, formParams(form, values)), this.#used.use(form))
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

  /** The component an event from `el` goes to (its `lv-target`, or `to`, as the browser client reads it). */
  #target (el: Element, to?: string | number): number | undefined { return targetOf(el, to, (sel) => this.all(sel)) }



}


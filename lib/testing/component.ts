import type { LiveComponent } from '../component.js'
import { CID_ATTR } from '../protocol.js'
import type { Session } from '../session/actor.js'
import type { Instance } from '../session/components.js'
import { outerHtml, type Element, type Params } from './dom.js'
import type { LivePage } from './page.js'
import type { Reply } from './reply.js'

/**
 * One live component of a page in a test (`page.component(Card, id)`): its subtree, and
 * events sent to it. Selectors are matched inside its root element.
 */
export class LiveComponentHandle<C extends LiveComponent<any>> {
  readonly #page: LivePage
  readonly #session: Session
  readonly #inst: Instance

  /** @internal Use `page.component(Component, id)`. */
  constructor (page: LivePage, session: Session, inst: Instance) {
    this.#page = page
    this.#session = session
    this.#inst = inst
  }

  /** The component's wire id (its root's `lv-cid`). */
  get cid (): number { return this.#inst.cid }

  /** The component instance, for white-box checks. */
  get instance (): C { return this.#inst.component as C }

  /** False once a render of its owner no longer renders it. */
  get alive (): boolean { return this.#inst.alive }

  /** Its root element's HTML as the page shows it now. */
  get html (): string {
    const root = this.#page.all(this.#root)[0]
    return root === undefined ? '' : outerHtml(root)
  }

  get #root (): string { return `[${CID_ATTR}="${this.#inst.cid}"]` }

  /** Every element inside it matching a CSS selector. */
  all (selector: string): Element[] { return this.#page.all(`${this.#root} ${selector}`) }
  /** The text of the first element inside it matching `selector`. */
  text (selector: string): string { return this.#page.text(`${this.#root} ${selector}`) }
  has (selector: string): boolean { return this.all(selector).length > 0 }

  /** Sends an event to the component's handler (as `lv-target="@myself"` would). */
  event (name: string, params: Params = {}): Promise<Reply> { return this.#page.event(name, params, this.#inst.cid) }
  /** Clicks an element inside it (its `lv-click` goes where its `lv-target` says, as in the browser). */
  click (selector: string): Promise<Reply> { return this.#page.click(`${this.#root} ${selector}`) }
  submit (selector: string, values: Params = {}): Promise<Reply> { return this.#page.submit(`${this.#root} ${selector}`, values) }
  change (selector: string, values: Params = {}): Promise<Reply> { return this.#page.change(`${this.#root} ${selector}`, values) }
  input (selector: string, values: Params = {}): Promise<Reply> { return this.#page.input(`${this.#root} ${selector}`, values) }

  /**
   * `sendUpdate` from the test: lays `props` over the component's, runs its `update`, waits
   * until the session has handled it, and returns the updates it caused.
   */
  async sendUpdate (props: Partial<Omit<C['props'], 'id'>>): Promise<Reply[]> {
    const mounted = this.#session.mounted
    if (mounted === undefined || !mounted.sendUpdate(this.#inst.entry.Component, this.#inst.id, props)) throw new Error('the session did not take the update (closed?)')
    return await this.#page.settle()
  }
}

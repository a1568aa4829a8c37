import type { EventSpec } from './view.js'

/** What identifies a component among those of its class on a page (unique per class). */
export type ComponentId = string | number

import type { ConsumedEntry, UploadEntry, UploadOptions } from './uploads.js'
import type { Uploads } from './session/uploads.js'
import type { FieldErrors, Form, UsedFields } from './forms.js'

/** @internal Where a component instance reaches its runtime (kept off its own fields, so rollback never touches it). */
export const kComponent = Symbol('fastify-liveview.component')

/** @internal What a component asks of the runtime. After the component is removed, every call is a no-op. */
export interface ComponentPort {
  readonly cid: number
  readonly id: ComponentId
  readonly connected: boolean
  readonly sessionId: string
  sendParent: (msg: unknown) => boolean
  push: (event: string, payload: unknown) => boolean
  allowUpload: (name: string, options?: UploadOptions) => void
  uploadsOf: () => Uploads
  formOf: () => Form
}

/** One instance and the props it gets, as `updateMany` gets them. */
export interface ComponentUpdate<C extends LiveComponent<any> = LiveComponent> {
  component: C
  props: PropsOf<C>
}

/** The props a component class takes (its `LiveComponent<Props>` type argument, with `id`). */
export type PropsOf<C> = C extends LiveComponent<infer P> ? P & { id: ComponentId } : never

/**
 * A stateful live component: a part of a page (a card, a row editor, a modal) with its own
 * template, state and events, rendered by a view's (or another component's) template with
 * `<%~ it.component('card', { id: card.id, card }) %>`, where `card` is a name the parent
 * declares in `static components = { card: Card }`.
 *
 * On the first render of an id it is created, `mount(props)` then `update(props)` run; when
 * a later render of the parent passes other props (compared by value), `update(props)` runs
 * again (a static `updateMany` runs instead, once for every instance of the class that
 * needs it), then it re-renders.
 * Its events (`lv-target="@myself"` on the binding) run its own handlers, and re-render and
 * diff this component only. It renders exactly one root element, which gets an `lv-cid`
 * attribute (the component's id on the wire). When a render of its parent no longer
 * renders it, it is removed (`terminate()` runs).
 *
 * @example
 * class Card extends LiveComponent<{ card: { title: string } }> {
 *   static template = 'card'
 *   static events = defineEvents<Card>({ edit: true })
 *   editing = false
 *   edit () { this.editing = true }
 *   context () { return { title: this.props.card.title, editing: this.editing } }
 * }
 */
export abstract class LiveComponent<Props extends object = Record<string, unknown>> {
  /** Template name under the plugin's `root`, without `.eta`. Required. */
  static template: string
  /** Declared event handlers (sent with `lv-target="@myself"`). Default: none */
  static events?: Record<string, EventSpec>
  /** Components this one's template renders, by the name the template uses. Default: none */
  static components?: Record<string, LiveComponentClass>

  /** @internal */
  declare [kComponent]: ComponentPort

  /**
   * The props of the last render of the parent (with `id`). Set before `mount` and before
   * every `update`; a component without `update` just reads them.
   */
  declare props: Props & { id: ComponentId }

  /** The id the parent gave (unique among the components of this class on the page). */
  get id (): ComponentId { return this[kComponent].id }

  /** False during the HTTP render, true once the page's socket has joined. */
  get connected (): boolean { return this[kComponent].connected }

  /** The session's id (as the view's `sessionId`). */
  get sessionId (): string { return this[kComponent].sessionId }

  /**
   * Sends a message to the view (its `handleInfo`), through the session's mailbox: it runs
   * after the current event, and what the view changes is rendered then. Returns false when
   * not connected or the component was removed.
   */
  sendParent (msg: unknown): boolean { return this[kComponent].sendParent(msg) }

  /** Pushes an event to the page's hooks, as the view's `pushEvent` does. */
  pushEvent (event: string, payload?: unknown): boolean { return this[kComponent].push(event, payload) }

  /**
   * Allows uploads named `name` for this component (as a view's `allowUpload`; call it in
   * `mount`): its template shows them as `it.uploads.name`; a file input or drop zone inside
   * the component's root is bound to them. They end when the component leaves the page.
   */
  allowUpload (name: string, options?: UploadOptions): void { this[kComponent].allowUpload(name, options) }

  /** Ends the upload `name`: its entries and their data go. */
  disallowUpload (name: string): void { this[kComponent].uploadsOf().disallow(name, this[kComponent].cid) }

  /** The entries of the upload `name`, as its template shows them. */
  uploadedEntries (name: string): readonly UploadEntry[] { return this[kComponent].uploadsOf().entries(name, this[kComponent].cid) }

  /** Cancels an entry: its data goes, the client stops sending it. False when there is none. */
  cancelUpload (name: string, ref: string): boolean { return this[kComponent].uploadsOf().cancel(name, ref, this[kComponent].cid) }

  /** As a view's `consumeUploads`: each finished entry, its bytes as a `Readable`; gone once `fn` settles. */
  consumeUploads<R> (name: string, fn: (entry: ConsumedEntry) => R | Promise<R>): Promise<R[]> { return this[kComponent].uploadsOf().consume(name, fn, this[kComponent].cid) }

  /** As a view's: `message` is the error of `field` (`it.errors[field]` in this component's template). */
  addError (field: string, message: string): void { this[kComponent].formOf().add(String(field), String(message)) }

  /** Clears the error of `field`, or all of this component's field errors. */
  clearErrors (field?: string): void { this[kComponent].formOf().clear(field) }

  /** The field errors its template shows as `it.errors`. */
  fieldErrors (): FieldErrors { return this[kComponent].formOf().errors }

  /** The fields of its forms the user has used (`it.used`). */
  usedFields (): UsedFields { return this[kComponent].formOf().used }

  /** Called once, when a render of the parent first renders this id (on the HTTP render and again on join). */
  mount? (props: Props & { id: ComponentId }): void | Promise<void>

  /**
   * Called after `mount` on its first render, then whenever its owner renders it with other
   * props than before, and on `sendUpdate`; `this.props` holds them already. (With a static
   * `updateMany`, that runs instead.)
   */
  update? (props: Props & { id: ComponentId }): void | Promise<void>

  /** The data its template renders, as `it`. Must return an object. */
  abstract context (): object | Promise<object>

  /** Called once when it is removed from the page or the session ends. */
  terminate? (): void | Promise<void>
}

/** A concrete component class, as `static components` takes it. */
export interface LiveComponentClass<C extends LiveComponent<any> = any> {
  new (): C
  readonly name: string
  template: string
  events?: Record<string, EventSpec>
  components?: Record<string, LiveComponentClass>
  /**
   * Optional: one call for every instance of the class that a render mounts or passes new
   * props (instead of each one's `update`), so a list of 100 loads its data in one query.
   * Each `component.props` holds its new props already.
   */
  updateMany?: (updates: Array<ComponentUpdate<C>>) => void | Promise<void>
}

import { Form } from '../forms.js'
import { kComponent, type ComponentId, type ComponentPort, type LiveComponent } from '../component.js'
import type { ComponentEntry } from '../component-check.js'
import type { UploadOptions } from '../uploads.js'
import type { TreeHost } from './components.js'
import type { Uploads } from './uploads.js'

/** One live component on the page. */
export class Instance implements ComponentPort {
  readonly cid: number
  readonly id: ComponentId
  readonly entry: ComponentEntry
  readonly component: LiveComponent
  readonly #tree: { readonly host: TreeHost }
  /** The instance whose template renders it (undefined: the view's). */
  owner: Instance | undefined
  /** The props it was last rendered with, as a snapshot (compared by value). */
  last: unknown
  /** Its own render, split where it renders components, and those components. */
  pieces: string[] = []
  kids: Instance[] = []
  /** Its HTML with its components' in place. */
  html = ''
  /** Its state may have changed since it was rendered. */
  dirty = true
  alive = true
  /** Its `mount` ran (a component removed before that is not terminated). */
  started = false
  /** Its field errors and used fields (once it has any). */
  form: Form | undefined

  constructor (tree: { readonly host: TreeHost }, cid: number, id: ComponentId, entry: ComponentEntry) {
    this.#tree = tree
    this.cid = cid
    this.id = id
    this.entry = entry
    this.component = new entry.Component()
    Object.defineProperty(this.component, kComponent, { value: this, enumerable: false })
  }

  /** `Card#3`, for logs and errors. */
  get label (): string { return `${this.entry.name}#${String(this.id)}` }
  get connected (): boolean { return this.alive && this.#tree.host.connected }
  get sessionId (): string { return this.#tree.host.sessionId }
  sendParent (msg: unknown): boolean { return this.alive && this.#tree.host.deliver(msg) }
  push (event: string, payload: unknown): boolean { return this.alive && this.#tree.host.push(event, payload) }
  allowUpload (name: string, options?: UploadOptions): void { if (this.alive) this.#tree.host.allowUpload(name, options, this.cid, `${this.label} (component)`) }
  uploadsOf (): Uploads { return this.#tree.host.uploadsOf() }
  formOf (): Form { return this.form ??= new Form() }
}

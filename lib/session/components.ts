import { EMPTY_FORM } from '../forms.js'
import type { FastifyBaseLogger } from 'fastify'
import type { ComponentId, LiveComponent } from '../component.js'
import type { ComponentEntry } from '../component-check.js'
import { describe, errors } from '../errors.js'
import { CID_ATTR } from '../protocol.js'
import { MARK } from '../mark.js'
import { renderView } from '../render.js'
import type { Templates } from '../templates.js'
import { notOneRoot, withRootAttr } from '../one-root.js'
import { sameProps, snapshot } from './props.js'
import type { Uploads } from './uploads.js'
import type { UploadOptions } from '../uploads.js'
import { Instance } from './instance.js'

export { Instance }

/** What the components of a mounted view ask of it. */
export interface TreeHost {
  readonly templates: Templates
  readonly production: boolean
  readonly connected: boolean
  readonly sessionId: string
  readonly log: FastifyBaseLogger
  deliver: (msg: unknown) => boolean
  push: (event: string, payload: unknown) => boolean
  timed: (what: string, fn: () => unknown) => unknown
  /** The view's uploads (components' are kept there too, by cid). */
  readonly uploads: Uploads | undefined
  uploadsOf: () => Uploads
  allowUpload: (name: string, options: UploadOptions | undefined, owner: number, label: string) => void
}


/** One render pass: what it has rendered so far, to refuse an id rendered twice. */
interface Pass {
  seen: Set<Instance>
  created: Set<Instance>
  rendered: Set<Instance | undefined>
  moved: Array<[Instance, Instance | undefined]>
  /** Components an owner rendered before and not in this pass: removed at its end unless another owner took them. */
  dropped: Instance[]
  /** What the pass changed of components it did not create, as they were: put back when it fails. */
  saved: Map<Instance, Saved>
}

type Saved = Pick<Instance, 'last' | 'owner' | 'pieces' | 'kids' | 'html'> & { props: LiveComponent['props'] }

const newPass = (seen: Instance[], owners: Array<Instance | undefined>): Pass => ({ seen: new Set(seen), created: new Set(), rendered: new Set(owners), moved: [], dropped: [], saved: new Map() })

/** Keeps what `inst` is before the pass changes it (once per pass). */
function touch (pass: Pass, inst: Instance): void {
  if (pass.saved.has(inst) || pass.created.has(inst)) return
  pass.saved.set(inst, { props: inst.component.props, last: inst.last, owner: inst.owner, pieces: inst.pieces, kids: inst.kids, html: inst.html })
}

/**
 * The live components of one mounted view: created when a render first renders an id,
 * updated when it passes other props, removed when their owner's render no longer renders
 * them. A page render re-renders the view's template and each component whose props or
 * state changed (the others' last HTML is reused); a component's own message re-renders
 * that component alone.
 */
export class ComponentTree {
  readonly host: TreeHost
  readonly #byClass = new Map<ComponentEntry, Map<ComponentId, Instance>>()
  readonly #byCid = new Map<number, Instance>()
  #cids = 0
  #pieces: string[] = ['']
  #kids: Instance[] = []

  constructor (host: TreeHost) { this.host = host }

  /** The component with this wire id, if it is on the page. */
  byCid (cid: number): Instance | undefined { return this.#byCid.get(cid) }

  /** The component `cid` renders again next time (its uploads changed). */
  touch (cid: number): void { const inst = this.#byCid.get(cid); if (inst !== undefined) inst.dirty = true }
  /** Every component renders again on the next render (development: its template changed). */
  touchAll (): void { for (const inst of this.#byCid.values()) inst.dirty = true }

  /** The component of class `entry` with this id, if it is on the page. */
  find (entry: ComponentEntry, id: ComponentId): Instance | undefined { return this.#byClass.get(entry)?.get(id) }

  /** The component of this class (by its constructor) and id. */
  findByClass (Component: unknown, id: ComponentId): Instance | undefined {
    for (const [entry, map] of this.#byClass) if (entry.Component === Component) return map.get(id)
    return undefined
  }

  get size (): number { return this.#byCid.size }

  /** The view's render, its components resolved (mounted, updated, rendered) and put in place. */
  async renderPage (entry: { name: string, components: Map<string, ComponentEntry> }, render: (calls: unknown[]) => string | Promise<string>): Promise<string> {
    const calls: unknown[] = []
    const html = await render(calls)
    const pieces = split(entry.name, html, calls)
    const pass = newPass([], [undefined])
    let kids: Instance[]
    try {
      kids = await this.#resolve(undefined, entry.name, entry.components, calls, pass)
      this.#drop(pass, this.#kids, kids)
      this.#end(pass)
    } catch (err) {
      this.#undo(pass)
      throw err
    }
    this.#pieces = pieces
    this.#kids = kids
    return compose(pieces, kids)
  }

  /** Re-renders one component (after its own message) and returns the page's HTML. */
  async renderOne (inst: Instance): Promise<string> {
    const pass = newPass([inst], [])
    try {
      await this.#render(inst, pass)
      this.#end(pass)
    } catch (err) {
      this.#undo(pass)
      throw err
    }
    for (let o = inst.owner; o !== undefined; o = o.owner) o.html = compose(o.pieces, o.kids)
    return compose(this.#pieces, this.#kids)
  }

  /** Ends every component (the view ended). */
  async terminateAll (): Promise<void> {
    const all = [...this.#byCid.values()]
    this.#byCid.clear()
    this.#byClass.clear()
    this.#kids = []
    for (const inst of all) await this.#terminate(inst)
  }

  async #resolve (owner: Instance | undefined, ownerName: string, declared: Map<string, ComponentEntry>, calls: unknown[], pass: Pass): Promise<Instance[]> {
    const kids: Instance[] = []
    const updates = new Map<ComponentEntry, Instance[]>()
    const fresh: Instance[] = []
    for (let i = 0; i < calls.length; i += 2) {
      const name = calls[i]
      const props = calls[i + 1] as Record<string, unknown>
      const entry = typeof name === 'string' ? declared.get(name) : undefined
      if (entry === undefined) throw new errors.COMPONENT_INVALID(ownerName, `it.component(${JSON.stringify(name)}) names no component it declares in \`static components\` (declared: ${[...declared.keys()].join(', ') || 'none'})`)
      if (props === null || typeof props !== 'object' || Array.isArray(props)) throw new errors.COMPONENT_INVALID(ownerName, `it.component('${name as string}', props): props must be an object with an id`)
      const id = props.id
      if (!((typeof id === 'string' && id !== '') || (typeof id === 'number' && Number.isFinite(id)))) {
        throw new errors.COMPONENT_INVALID(ownerName, `it.component('${name as string}', props): props.id must be a non-empty string or a number, got ${describe(id)}`)
      }
      let map = this.#byClass.get(entry)
      if (map === undefined) this.#byClass.set(entry, map = new Map())
      let inst = map.get(id)
      if (inst !== undefined && pass.seen.has(inst)) throw new errors.COMPONENT_DUPLICATE(entry.name, String(id))
      if (inst === undefined) {
        inst = new Instance(this, ++this.#cids, id, entry)
        map.set(id, inst)
        this.#byCid.set(inst.cid, inst)
        pass.created.add(inst)
        inst.component.props = props as LiveComponent['props']
        inst.last = snapshot(props)
        inst.owner = owner
        fresh.push(inst)
        push(updates, entry, inst)
      } else if (!sameProps(inst.last, props)) {
        touch(pass, inst)
        inst.component.props = props as LiveComponent['props']
        inst.last = snapshot(props)
        push(updates, entry, inst)
      }
      // Rendered by another owner than before: fine when that one renders again in this pass.
      if (inst.owner !== owner) {
        touch(pass, inst)
        pass.moved.push([inst, inst.owner])
      }
      pass.seen.add(inst)
      inst.owner = owner
      kids.push(inst)
    }
    // New components mount side by side (each may load its data).
    const mounting: Array<Promise<void>> = []
    for (const inst of fresh) {
      const c = inst.component
      inst.started = true
      if (c.mount !== undefined) mounting.push(this.#call(inst, 'mount', () => c.mount!(c.props)))
    }
    if (mounting.length > 0) await Promise.all(mounting)
    for (const [entry, list] of updates) {
      const many = entry.Component.updateMany
      if (many !== undefined) {
        await this.#call(list[0] as Instance, 'updateMany', () => many.call(entry.Component, list.map((i) => ({ component: i.component, props: i.component.props }))))
      } else {
        for (const inst of list) {
          const c = inst.component
          if (c.update !== undefined) await this.#call(inst, 'update', () => c.update!(c.props))
        }
      }
      for (const inst of list) inst.dirty = true
    }
    for (const inst of kids) if (inst.dirty) await this.#render(inst, pass)
    return kids
  }

  /** Renders a component's template, then the components it renders. */
  async #render (inst: Instance, pass: Pass): Promise<void> {
    touch(pass, inst)
    pass.rendered.add(inst)
    const calls: unknown[] = []
    const { templates } = this.host
    const rendered = renderView(templates, inst.entry, inst.component, { calls, myself: inst.cid, uploads: this.host.uploads?.context(inst.cid), form: inst.form ?? EMPTY_FORM })
    const own = rooted(inst, typeof rendered === 'string' ? rendered : await rendered)
    const pieces = split(inst.entry.name, own, calls)
    const kids = await this.#resolve(inst, inst.entry.name, inst.entry.components, calls, pass)
    this.#drop(pass, inst.kids, kids)
    inst.pieces = pieces
    inst.kids = kids
    inst.html = compose(pieces, kids)
    inst.dirty = false
  }

  /**
   * The end of a pass: a component rendered by another owner than before is fine only when
   * that one rendered again too (else the page would show it twice); components no owner
   * rendered are removed (one that moved to another owner keeps its state).
   */
  #end (pass: Pass): void {
    const removing = new Set(pass.dropped.filter((inst) => !pass.seen.has(inst)))
    const goes = (o: Instance | undefined): boolean => {
      for (let x = o; x !== undefined; x = x.owner) if (removing.has(x)) return true
      return false
    }
    for (const [inst, from] of pass.moved) {
      // Its old owner rendered again, or leaves the page now (a modal closing): else the page would show it twice.
      if (!pass.rendered.has(from) && !goes(from)) throw new errors.COMPONENT_DUPLICATE(inst.entry.name, String(inst.id))
    }
    for (const inst of removing) this.#remove(inst)
  }

  /**
   * A failed pass: what it created goes; the others get back their props, owner and last
   * render (what the page shows). What their `update` did to their own fields stays: they
   * render again next time, and a render passing the new props again runs `update` again.
   */
  #undo (pass: Pass): void {
    for (const [inst, saved] of pass.saved) {
      inst.component.props = saved.props
      inst.last = saved.last
      inst.owner = saved.owner
      inst.pieces = saved.pieces
      inst.kids = saved.kids
      inst.html = saved.html
      inst.dirty = true
    }
    for (const inst of pass.created) this.#remove(inst)
  }

  /** Notes the components `before` had that `after` does not: removed at the end of the pass, unless another owner took them. */
  #drop (pass: Pass, before: Instance[], after: Instance[]): void {
    if (before.length === 0) return
    const kept = after.length > 8 ? new Set(after) : after
    for (const inst of before) {
      const stays = kept instanceof Set ? kept.has(inst) : kept.includes(inst)
      if (!stays && inst.alive) pass.dropped.push(inst)
    }
  }

  #remove (inst: Instance): void {
    if (!inst.alive) return
    inst.alive = false
    this.#byCid.delete(inst.cid)
    this.host.uploads?.drop(inst.cid)
    const map = this.#byClass.get(inst.entry)
    if (map?.get(inst.id) === inst) map.delete(inst.id)
    for (const kid of inst.kids) if (kid.owner === inst) this.#remove(kid)
    void this.#terminate(inst)
  }

  async #terminate (inst: Instance): Promise<void> {
    inst.alive = false
    const c = inst.component
    if (c.terminate === undefined || !inst.started) return
    try {
      await c.terminate()
    } catch (err) {
      this.host.log.error({ err, component: inst.label }, 'live component terminate failed')
    }
  }

  /** Runs a component callback; what it throws becomes FST_LIVEVIEW_HANDLER_FAILED naming it. */
  async #call (inst: Instance, what: string, fn: () => unknown): Promise<void> {
    try {
      const r = this.host.timed(`${inst.entry.name}.${what}`, fn)
      if (r instanceof Promise) await r
    } catch (err) {
      throw new errors.HANDLER_FAILED(what, `${inst.entry.name} (component ${String(inst.id)})`, this.host.production ? 'see the server log' : describe(err))
    }
  }
}

function push<K, V> (map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key)
  if (list === undefined) map.set(key, [value])
  else list.push(value)
}

/** A render split at its component marks; throws unless each `it.component()` is output once. */
function split (owner: string, html: string, calls: unknown[]): string[] {
  if (calls.length === 0 && !html.includes(MARK)) return [html]
  const pieces = html.split(MARK)
  if (pieces.length - 1 !== calls.length / 2) {
    throw new errors.COMPONENT_INVALID(owner, `its template output ${pieces.length - 1} of its ${calls.length / 2} it.component() calls: output each once, with <%~ %>`)
  }
  return pieces
}

function compose (pieces: string[], kids: Instance[]): string {
  let html = pieces[0] as string
  for (let i = 0; i < kids.length; i++) html += (kids[i] as Instance).html + (pieces[i + 1] as string)
  return html
}

/**
 * A component's render with the component's wire id on its root element; throws unless it
 * is exactly one element (white space around it is dropped).
 */
function rooted (inst: Instance, html: string): string {
  const own = html.trim()
  const fail = (why: string): never => { throw new errors.COMPONENT_INVALID(inst.entry.name, `must render exactly one root element: ${why}`) }
  const withCid = withRootAttr(own, CID_ATTR, String(inst.cid)) ?? fail(`its render starts with ${JSON.stringify(own.slice(0, 20).split(MARK).join('<component>'))}`)
  const why = notOneRoot(own)
  if (why !== undefined) fail(why)
  return withCid
}

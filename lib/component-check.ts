import { LiveComponent, type LiveComponentClass } from './component.js'
import { errors } from './errors.js'
import { checkEvents, type EventEntry } from './registry.js'
import { bindingsOf, componentsOf, type Binding } from './template-check.js'
import type { Templates, TemplateFile } from './templates.js'

/** A component class, checked once and kept with what the runtime needs of it. */
export interface ComponentEntry {
  Component: LiveComponentClass
  name: string
  template: string
  events: Map<string, EventEntry>
  /** The components its template renders, by the name the template uses. */
  components: Map<string, ComponentEntry>
  /** Bindings of its templates without `lv-target`: they send to the view. */
  toView: Located[]
}

/** A binding and the template file it is in. */
export interface Located extends Binding { file: string }

/** A view or component, as the cross-check reads it. */
export interface Owner {
  name: string
  template: string
  files: TemplateFile[]
  events: Map<string, EventEntry>
  components: Map<string, ComponentEntry>
}

/** Names of a component's `static components` (what templates pass to `it.component`). */
const COMPONENT_NAME = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/

// Names a component can never expose as events.
const RESERVED = new Set<string>([
  ...Object.getOwnPropertyNames(Object.prototype),
  ...Object.getOwnPropertyNames(LiveComponent.prototype),
  'mount', 'update', 'context', 'terminate', 'template', 'events', 'components', 'props', 'updateMany', 'handleInfo'
])

// Each plugin instance has its own templates: entries are kept per Templates.
const entries = new WeakMap<Templates, Map<LiveComponentClass, ComponentEntry>>()

/** Checks a `static components` declaration: `{ name: ComponentClass }`. */
export function checkComponents (owner: string, declared: unknown, templates: Templates, warn?: (message: string) => void): Map<string, ComponentEntry> {
  const out = new Map<string, ComponentEntry>()
  if (declared === undefined) return out
  if (declared === null || typeof declared !== 'object' || Array.isArray(declared)) {
    throw new errors.VIEW_INVALID(owner, '`static components` must be an object like { card: Card }')
  }
  for (const [key, C] of Object.entries(declared)) {
    if (!COMPONENT_NAME.test(key)) throw new errors.VIEW_INVALID(owner, `component name '${key}' is not valid (a letter, then letters, digits, _ or -)`)
    out.set(key, checkComponent(C as LiveComponentClass, templates, warn, `${owner}: component '${key}'`))
  }
  return out
}

/** Checks a component class and builds its entry (once per class and plugin). */
export function checkComponent (C: LiveComponentClass, templates: Templates, warn?: (message: string) => void, what = 'component'): ComponentEntry {
  if (typeof C !== 'function' || !(C.prototype instanceof LiveComponent)) {
    throw new errors.VIEW_INVALID(what, `${String((C as { name?: string } | undefined)?.name ?? C)} is not a class that extends LiveComponent`)
  }
  let cache = entries.get(templates)
  if (cache === undefined) entries.set(templates, cache = new Map())
  const known = cache.get(C)
  if (known !== undefined) return known
  const name = C.name || 'anonymous component'
  if (typeof C.template !== 'string' || C.template.length === 0) {
    throw new errors.VIEW_INVALID(name, "has no `static template = 'name'` (a template under the views root)")
  }
  const files = templates.check(name, C.template)
  if (typeof C.prototype.context !== 'function') throw new errors.VIEW_INVALID(name, 'has no context() method')
  if (C.updateMany !== undefined && typeof C.updateMany !== 'function') throw new errors.VIEW_INVALID(name, '`static updateMany` must be a function')
  const events = checkEvents(name, C.events, C.prototype, RESERVED)
  const entry: ComponentEntry = { Component: C, name, template: C.template, events, components: new Map(), toView: [] }
  // Known before its own components are checked: a component may render itself (a thread of comments).
  cache.set(C, entry)
  try {
    for (const [key, child] of checkComponents(name, C.components, templates, warn)) entry.components.set(key, child)
    const bound = crossCheck({ name, template: C.template, files, events, components: entry.components }, templates, entry)
    warnUnbound(name, events, bound, warn)
  } catch (err) {
    cache.delete(C)
    throw err
  }
  return entry
}

/**
 * Checks the literal bindings and component names of an owner's templates; returns the
 * events bound to the owner. In a component's templates (`component` given), a binding
 * without `lv-target` sends to the view: it is kept in `toView`, checked per view.
 */
export function crossCheck (owner: Owner, templates: Templates, component?: ComponentEntry): Set<string> {
  const bound = new Set<string>()
  for (const file of owner.files) {
    for (const used of componentsOf(file.source)) {
      if (owner.components.has(used.name)) continue
      const declared = owner.components.size === 0 ? 'none' : [...owner.components.keys()].join(', ')
      throw new errors.TEMPLATE_INVALID(owner.name, owner.template, `${templates.relative(file.path)}:${used.line}: it.component('${used.name}') renders a component ${owner.name} does not declare in \`static components\` (declared: ${declared})`)
    }
    for (const binding of bindingsOf(file.source)) {
      const located: Located = { ...binding, file: file.path }
      if (binding.target === undefined) {
        if (component !== undefined) component.toView.push(located)
        else bound.add(checkBinding(owner, located, templates))
      } else if (binding.target.trim() === '@myself') {
        if (component === undefined) {
          throw new errors.TEMPLATE_INVALID(owner.name, owner.template, `${templates.relative(file.path)}:${binding.line}: lv-target="@myself" is for a component's template (in a view's, events go to the view without it)`)
        }
        bound.add(checkBinding(owner, located, templates))
      }
      // Another target (a selector, a component id) is resolved by the client: checked when it arrives.
    }
  }
  return bound
}

/** The event a binding sends, declared by `owner`; throws TEMPLATE_INVALID when it is not. */
export function checkBinding (owner: Owner, binding: Located, templates: Templates, from?: ComponentEntry): string {
  if (owner.events.has(binding.event)) return binding.event
  const declared = owner.events.size === 0 ? 'none' : [...owner.events.keys()].join(', ')
  const where = `${templates.relative(binding.file)}:${binding.line}: ${binding.attr}="${binding.event}"`
  if (binding.event.trim() !== binding.event) {
    throw new errors.TEMPLATE_INVALID(owner.name, owner.template, `${where} has spaces around the event name (the client sends them as written)`)
  }
  const hint = from === undefined
    ? ''
    : from.events.has(binding.event)
      ? ` (it is in component ${from.name}'s template without lv-target, so it goes to the view: add lv-target="@myself" to send it to ${from.name})`
      : ` (it is in component ${from.name}'s template without lv-target, so it goes to the view)`
  throw new errors.TEMPLATE_INVALID(owner.name, owner.template, `${where} sends an event ${owner.name} does not declare (declared: ${declared})${hint}`)
}

/** Declared events that no literal binding sends are reported, unless declared `{ hook: true }`. */
export function warnUnbound (name: string, events: Map<string, EventEntry>, bound: Set<string>, warn?: (message: string) => void): void {
  for (const [event, entry] of events) {
    if (bound.has(event) || entry.hook === true) continue
    warn?.(`fastify-liveview: ${name} declares the event '${event}', which no lv-* binding of its templates sends by name; declare it { hook: true } if a hook's pushEvent (or a binding with a computed name) sends it`)
  }
}

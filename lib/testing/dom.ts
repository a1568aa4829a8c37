import { compile, selectAll } from 'css-select'
import { CID_ATTR } from '../protocol.js'
import type { Command } from '../js.js'
import { LiveTestError } from './reply.js'
import type { AnyNode, Element } from 'domhandler'
import { getOuterHTML, textContent } from 'domutils'
import { html as parse5Html, parseFragment } from 'parse5'
import { adapter } from 'parse5-htmlparser2-tree-adapter'
import { PREFIX } from '../protocol.js'

export type { Element }
export type Params = Record<string, unknown>

const VALUE = `${PREFIX}value-`
const context = adapter.createElement('div', parse5Html.NS.HTML, [])
// Compiled selectors: a test asks the same ones again and again.
const queries = new Map<string, ReturnType<typeof compile<AnyNode, Element>>>()

/** The live root's HTML, parsed as the browser parses it, for CSS selectors. */
export class Dom {
  readonly nodes: AnyNode[]

  constructor (html: string) {
    this.nodes = parseFragment(context, html, { treeAdapter: adapter }).children
  }

  all (selector: string): Element[] {
    let query = queries.get(selector)
    if (query === undefined) {
      query = compile<AnyNode, Element>(selector)
      if (queries.size > 500) queries.clear()
      queries.set(selector, query)
    }
    return selectAll<AnyNode, Element>(query, this.nodes)
  }
}

/** An element's text with white space folded, as a person reads it. */
export function readText (el: AnyNode | AnyNode[]): string {
  return textContent(el).replace(/\s+/g, ' ').trim()
}

/** A short description of an element for error messages: its opening tag. */
export function describeElement (el: Element): string {
  const html = getOuterHTML(el)
  const end = html.indexOf('>')
  return end === -1 ? html : html.slice(0, end + 1)
}

/** The nearest element, from `el` up, that has `attr`. */
export function closestWith (el: Element, attr: string): Element | undefined {
  for (let n: Element | null = el; n !== null; n = n.parent?.type === 'tag' ? n.parent as Element : null) {
    if (n.attribs[attr] !== undefined) return n
  }
  return undefined
}

/** `lv-value-foo="x"` → `{ foo: "x" }`, as the client sends them. */
export function valueParams (el: Element, into: Params = {}): Params {
  for (const [name, value] of Object.entries(el.attribs)) if (name.startsWith(VALUE)) into[name.slice(VALUE.length)] = value
  return into
}

/** The form around `el` (or `el` itself). */
export function formOf (el: Element): Element | undefined {
  for (let n: Element | null = el; n !== null; n = n.parent?.type === 'tag' ? n.parent as Element : null) {
    if (n.name === 'form') return n
  }
  return undefined
}

/**
 * What the browser's FormData would hold for `form` as rendered, with `values` typed over
 * it: a field's value replaced, `false` or `undefined` leaving it out (an unticked box).
 * A repeated name becomes an array, as the client sends it.
 */
export function formParams (form: Element, values: Params = {}): Params {
  const params: Params = {}
  const add = (name: string, value: string): void => {
    const old = params[name]
    params[name] = old === undefined ? value : Array.isArray(old) ? [...old, value] : [old, value]
  }
  for (const field of selectAll<AnyNode, Element>('input, select, textarea', form)) {
    const name = field.attribs.name
    if (name === undefined || name === '' || field.attribs.disabled !== undefined || name in values) continue
    if (field.name === 'textarea') add(name, textContent(field))
    else if (field.name === 'select') {
      const options = selectAll<AnyNode, Element>('option', field)
      const selected = options.filter((o) => o.attribs.selected !== undefined)
      const chosen = selected.length > 0 || field.attribs.multiple !== undefined ? selected : options.slice(0, 1)
      for (const o of chosen) add(name, o.attribs.value ?? readText(o))
    } else {
      const type = (field.attribs.type ?? 'text').toLowerCase()
      if (type === 'submit' || type === 'button' || type === 'reset' || type === 'image' || type === 'file') continue
      if (type === 'checkbox' || type === 'radio') {
        if (field.attribs.checked !== undefined) add(name, field.attribs.value ?? 'on')
      } else {
        add(name, field.attribs.value ?? '')
      }
    }
  }
  for (const [name, value] of Object.entries(values)) {
    if (value !== undefined && value !== false) params[name] = value
  }
  return params
}

/** `{ value }` of a field as rendered (what the client adds for focus, blur and key events), `{}` for anything else. */
export function fieldOwn (el: Element): Params {
  if (el.name === 'textarea') return { value: textContent(el) }
  if (el.name === 'select') {
    const selected = selectAll<AnyNode, Element>('option[selected]', el)[0] ?? selectAll<AnyNode, Element>('option', el)[0]
    return { value: selected === undefined ? '' : selected.attribs.value ?? readText(selected) }
  }
  if (el.name !== 'input') return {}
  const type = (el.attribs.type ?? 'text').toLowerCase()
  if (type === 'checkbox' || type === 'radio') return el.attribs.checked !== undefined ? { value: el.attribs.value ?? 'on' } : { value: undefined }
  return { value: el.attribs.value ?? '' }
}

/** An element's HTML, tags and all. */
export function outerHtml (el: Element): string { return getOuterHTML(el) }

/** The component an event from `el` goes to: `to`, else its (or its form's) `lv-target`, as the browser client reads it; 0 when it names none. */
export function targetOf (el: Element, to: string | number | undefined, all: (selector: string) => Element[]): number | undefined {
  const t = to === undefined ? el.attribs['lv-target'] ?? formOf(el)?.attribs['lv-target'] : String(to)
  if (t === undefined) return undefined
  if (/^\d+$/.test(t)) return Number(t)
  const at = t === '@myself' ? el : all(t)[0]
  const root = at === undefined ? undefined : closestWith(at, CID_ATTR)
  return root === undefined ? 0 : Number(root.attribs[CID_ATTR])
}

/** What binding `binding` of `el` runs, as commands: its command list, or its event name as a `push`. */
export function commandsOf (el: Element, binding: string): Command[] {
  const value = el.attribs[`lv-${binding}`] ?? ''
  if (!value.startsWith('[')) return [['push', { event: value }]]
  try {
    const list = JSON.parse(value) as unknown
    if (Array.isArray(list) && list.every((c) => Array.isArray(c) && typeof c[0] === 'string')) return list as Command[]
  } catch {}
  throw new LiveTestError(`${describeElement(el)}: its lv-${binding} is not a command list (render it with <%= JS… %>): ${value.slice(0, 80)}`)
}

// What a form field shows, what the server rendered for it, and which of the two an update
// leaves on the page.
//
// The server's markup only sets a field's defaults (`value`, `checked`, `selected`
// attributes, a textarea's text); what the field shows is state the browser keeps. After an
// update, a field shows what a fresh parse of the new render would show, except: the
// focused field keeps what it shows, and a field the user changed keeps that change while
// the server's render of the field stays the same (typing the server has not seen yet);
// full HTML (a join, a resync) keeps it even when the server's render changed. A radio
// group the update changes shows the server's choice (the focused radio excepted), and a
// field whose type changed is the server's.

export type Field = HTMLInputElement | HTMLTextAreaElement | HTMLSelectElement

export const isField = (n: Node): n is Field => /^(INPUT|TEXTAREA|SELECT)$/.test(n.nodeName)

const isSelect = (f: Field): f is HTMLSelectElement => f.nodeName === 'SELECT'
const isInput = (f: Field): f is HTMLInputElement => f.nodeName === 'INPUT'
const isCheck = (f: Field): f is HTMLInputElement => isInput(f) && /^(checkbox|radio)$/.test(f.type)
// A radio in a group: named, and in the document (in a template's content each stands alone).
const isGrouped = (f: Field): boolean => isInput(f) && f.type === 'radio' && f.name !== '' && f.isConnected
// Inputs whose value is their `value` attribute (or a file name): nothing the user types.
const fixedValue = (f: HTMLInputElement): boolean => /^(hidden|submit|image|reset|button|checkbox|radio|file)$/.test(f.type)
const chosen = (f: HTMLSelectElement): HTMLOptionElement[] => [...f.options].filter(o => o.selected)

/** What `f` shows, as a string (a select: the values of its selected options). */
const read = (f: Field): string =>
  isSelect(f) ? values(chosen(f)) : isCheck(f) ? String(f.checked) : isInput(f) && fixedValue(f) ? '' : f.value

/** A field before an update: whether the user changed it, what the server had rendered, what it showed, its type. */
type Before = [changed: boolean, rendered: string, shown: string, options: HTMLOptionElement[], type: string]

function before (f: Field): Before {
  if (isSelect(f)) {
    // Changed: other options chosen than the render's (their values may be the same).
    const options = chosen(f)
    const marked = defaults(f)
    return [options.length !== marked.length || options.some(o => !marked.includes(o)), values(marked), '', options, f.type]
  }
  const shown = read(f)
  const was = rendered(f)
  // A grouped radio's render depends on its group: the group is derived again when it changes.
  return [shown !== was && !isGrouped(f), was, shown, [], f.type]
}

/**
 * The options a fresh parse of a select selects: those marked `selected`, only the last of
 * them in a single select, whose first enabled option is selected when none is and it
 * shows one option (the HTML standard's selectedness setting algorithm).
 */
function defaults (f: HTMLSelectElement): HTMLOptionElement[] {
  const options = [...f.options]
  const marked = options.filter(o => o.hasAttribute('selected'))
  if (f.multiple) return marked
  if (marked.length > 0) return marked.slice(-1)
  // Disabled: the option, or the optgroup it is in (not the select).
  const off = (o: HTMLOptionElement): boolean => o.disabled || (o.parentNode?.nodeName === 'OPTGROUP' && (o.parentNode as HTMLOptGroupElement).disabled)
  const enabled = !(parseInt(f.getAttribute('size') ?? '', 10) > 1) && options.find(o => !off(o))
  return enabled ? [enabled] : []
}

const values = (options: HTMLOptionElement[]): string => JSON.stringify(options.map(o => o.value))

/**
 * What a fresh parse of `f`'s markup shows. An input sanitises its `value` attribute (a copy
 * given its default value does that, with the same type, min and max).
 */
function rendered (f: Field): string {
  if (isSelect(f)) return values(defaults(f))
  if (isCheck(f)) return String(f.defaultChecked)
  if (!isInput(f)) return f.defaultValue
  if (fixedValue(f)) return ''
  const copy = f.cloneNode() as HTMLInputElement
  copy.value = copy.defaultValue
  return copy.value
}

/** Makes `f` show what a fresh parse of its markup shows. */
function follow (f: Field): void {
  if (isSelect(f)) {
    select(f, defaults(f))
  } else {
    if (isInput(f) && !isGrouped(f)) f.checked = f.defaultChecked
    write(f, rendered(f))
  }
}

function select (f: HTMLSelectElement, options: HTMLOptionElement[]): void {
  for (const o of f.options) o.selected = options.includes(o)
  // A customizable select's <selectedcontent> copies the selected option when the selection
  // changes, not when the option's content does: told the selection again, it copies anew.
  if (!f.multiple && f.querySelector('selectedcontent') !== null) f.selectedIndex = f.selectedIndex
}

function write (f: HTMLInputElement | HTMLTextAreaElement, v: string): void {
  if (isCheck(f)) f.checked = v === 'true'
  else if (f.value !== v && !(isInput(f) && fixedValue(f))) f.value = v
}

/** The field `n` is, or whose state `n` is part of (an option's select, a textarea's text). */
function owner (n: Node | null): Field | undefined {
  if (n === null || n.nodeType !== 1) return undefined
  if (isField(n)) return n
  return /^(OPTION|OPTGROUP|HR)$/.test(n.nodeName) ? (n as Element).closest('select') ?? undefined : undefined
}

const inIgnored = (e: Element): boolean => e.closest('[lv-update="ignore"]') !== null

/**
 * One update's bookkeeping of fields: call `touch` before changing a field or what its state
 * derives from (`attr` for an attribute), `radios` for nodes added, removed or moved, then
 * `settle` once.
 */
export class Fields {
  readonly #root: Element
  readonly #focus: Element | null
  readonly #full: boolean
  readonly #was = new Map<Field, Before>()
  /** Names of radio groups whose members changed: derived again as a fresh parse does. */
  readonly #groups = new Set<string>()

  /** `full`: the update is full HTML, which keeps what the user typed whatever the server rendered. */
  constructor (root: Element, full = false) {
    this.#root = root
    this.#full = full
    const focus = this.#focus = root.ownerDocument.activeElement
    // The focused field is remembered as it is (its radio group may change around it).
    if (focus !== null && isField(focus)) this.touch(focus)
  }

  touch (n: Node | null): void {
    const f = owner(n)
    if (f !== undefined && !this.#was.has(f)) this.#was.set(f, before(f))
  }

  /** Changes attribute `name` of `el` (in `change`), minding its field and radio group. */
  attr (el: Element, name: string, change: () => void): void {
    this.touch(el)
    const input = el.nodeName === 'INPUT'
    const group = input && /^(type|name|checked|form)$/.test(name)
    // An input whose type leaves the value mode writes its value into its `value` attribute.
    const value = input && name === 'type' ? el.getAttribute('value') : undefined
    if (group) this.radios(el)
    change()
    if (group) this.radios(el)
    if (value !== undefined && el.getAttribute('value') !== value) {
      if (value === null) el.removeAttribute('value')
      else el.setAttribute('value', value)
    }
  }

  /** The radio groups of `n` and of the radios inside it. */
  radios (n: Node): void {
    if (n.nodeType !== 1) return
    for (const e of [n as Element, ...(n as Element).querySelectorAll('input')]) {
      if (e.nodeName === 'INPUT' && isGrouped(e as Field)) this.#groups.add((e as HTMLInputElement).name)
    }
  }

  /** After the update: radio groups as a fresh parse checks them, then every touched field. */
  settle (): void {
    // In document order each radio of a group takes its default: the last checked one wins.
    if (this.#groups.size > 0) {
      for (const r of this.#root.querySelectorAll('input')) {
        if (isGrouped(r) && this.#groups.has(r.name) && !inIgnored(r)) r.checked = r.defaultChecked
      }
    }
    for (const [f, [changed, was, shown, options, type]] of this.#was) {
      if (inIgnored(f)) continue
      // A field whose type changed is another field: what it showed means nothing now.
      const same = f.type === type
      const focused = same && f === this.#focus
      if (isGrouped(f) && !focused) continue
      // Checkedness is markup on an input that shows no checkbox.
      if (isInput(f) && !/^(checkbox|radio)$/.test(f.type)) f.checked = f.defaultChecked
      if (!focused && !(same && changed && (this.#full || rendered(f) === was))) follow(f)
      else if (isSelect(f)) select(f, options)
      else write(f, shown)
    }
  }
}

/**
 * The fields of each form the user has used (typed in, changed, submitted), by name: sent
 * with the form's events, outside their params (a native reset forgets them).
 */
export const used = new WeakMap<Element, Set<string>>()

/** Marks `names` of `form` used. */
export const use = (form: Element, names: string[]): void => {
  const u = used.get(form) ?? new Set()
  used.set(form, u)
  for (const n of names) if (n) u.add(n)
}

/** Makes every field of `form` show what the server last rendered (its default state). */
export function reset (form: HTMLFormElement): void {
  for (const f of form.elements) if (isField(f)) follow(f)
}

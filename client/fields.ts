// What the user sees in a form field, and when an update from the server must leave it alone.

export type Field = HTMLInputElement | HTMLTextAreaElement | HTMLSelectElement
export type FieldState = string | boolean | string[]

const isSelect = (f: Field): f is HTMLSelectElement => f.nodeName === 'SELECT'
const isCheck = (f: Field): f is HTMLInputElement => f.type === 'checkbox' || f.type === 'radio'

export const isField = (n: Node): n is Field => /^(INPUT|TEXTAREA|SELECT)$/.test(n.nodeName)

/**
 * True for a field the user is in, or has changed from what the server last rendered
 * (typing before the socket connected, say): its value must survive the update.
 */
export const keep = (f: Field): boolean =>
  f === f.ownerDocument.activeElement ||
  (!isSelect(f) && (isCheck(f) ? f.checked !== f.defaultChecked : f.value !== f.defaultValue))

export const read = (f: Field): FieldState =>
  isSelect(f) ? [...f.options].filter(o => o.selected).map(o => o.value) : isCheck(f) ? f.checked : f.value

export function write (f: Field, v: FieldState): void {
  if (isSelect(f)) for (const o of f.options) o.selected = (v as string[]).includes(o.value)
  else if (isCheck(f)) f.checked = v as boolean
  else if (f.value !== v) f.value = v as string
}

/** Makes every field of `form` show what the server last rendered (its default state). */
export function reset (form: HTMLFormElement): void {
  for (const f of form.elements) {
    if (!isField(f)) continue
    if (isSelect(f)) for (const o of f.options) o.selected = o.defaultSelected
    else if (isCheck(f)) f.checked = f.defaultChecked
    else f.value = f.defaultValue
  }
}

/**
 * Makes a select show the selection its markup gives, as a fresh parse would: the last
 * option marked `selected` (all marked ones when `multiple`), else the first enabled one
 * (none for a list box). Patches that add, remove or move options leave the browser's
 * earlier choice in place otherwise.
 */
export function reselect (s: HTMLSelectElement): void {
  const marked = [...s.options].filter(o => o.defaultSelected)
  if (s.multiple || marked.length > 0) {
    for (const o of s.options) o.selected = o.defaultSelected
    if (!s.multiple && marked.length > 0) (marked[marked.length - 1] as HTMLOptionElement).selected = true
    return
  }
  const first = [...s.options].find(o => !o.disabled && !(o.parentNode as HTMLOptGroupElement | null)?.disabled)
  s.selectedIndex = s.size > 1 || first === undefined ? -1 : first.index
}

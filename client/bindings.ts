import { PREFIX } from '../lib/protocol.js'
import { reset } from './fields.js'

export type Params = Record<string, unknown>
/** Sends an event; `el` is the element that caused it; `after` runs once its reply is applied. */
export type Push = (el: Element, event: string, params: Params, after?: () => void) => void

const VALUE = PREFIX + 'value-'
const CLICK = PREFIX + 'click'
const SUBMIT = PREFIX + 'submit'
const CHANGE = PREFIX + 'change'

/** `lv-value-foo-bar="x"` → `{ "foo-bar": "x" }`, added to `into`. */
function values (el: Element, into: Params): Params {
  for (const { name, value } of el.attributes) if (name.startsWith(VALUE)) into[name.slice(VALUE.length)] = value
  return into
}

/** A form's fields as FormData sends them; a repeated name becomes an array. */
function fields (form: HTMLFormElement, submitter?: HTMLElement | null): Params {
  const params: Params = {}
  new FormData(form, submitter).forEach((v, k) => {
    const s = typeof v === 'string' ? v : v.name
    const old = params[k]
    params[k] = old === undefined ? s : Array.isArray(old) ? [...old, s] : [old, s]
  })
  return params
}

type Field = HTMLInputElement

/** The value a lone field would submit: undefined for an unticked box. */
const fieldValue = (f: Field): unknown =>
  f.type === 'checkbox' || f.type === 'radio'
    ? f.checked ? f.value : undefined
    : f.type === 'select-multiple' ? [...(f as unknown as HTMLSelectElement).selectedOptions].map(o => o.value) : f.value

/** Delegates `lv-click`, `lv-submit` and `lv-change` inside `root` to `push`. */
export function bind (root: Element, push: Push): void {
  const on = (type: string, handle: (target: Element, e: Event) => void): void =>
    root.ownerDocument.addEventListener(type, e => {
      const t = e.target as Element
      if (root.contains(t)) handle(t, e)
    })

  on('click', t => {
    const el = t.closest(`[${CLICK}]`)
    if (el && root.contains(el)) push(el, el.getAttribute(CLICK) as string, values(el, {}))
  })

  on('submit', (form, e) => {
    const name = form.getAttribute(SUBMIT)
    if (name === null) return
    e.preventDefault()
    // Once the reply is in, the form shows what the server rendered: a view clears a field
    // (a chat input, say) by rendering it empty, focused or not.
    push(form, name, values(form, fields(form as HTMLFormElement, (e as SubmitEvent).submitter)), () => { reset(form as HTMLFormElement) })
  })

  on('change', t => {
    const f = t as Field
    const form = f.form
    const el = f.hasAttribute(CHANGE) ? f : form?.hasAttribute(CHANGE) ? form : null
    if (!el || !root.contains(el)) return
    const params = el === f ? { [f.name]: fieldValue(f) } : fields(form as HTMLFormElement)
    params._target = f.name
    push(el, el.getAttribute(CHANGE) as string, values(el, params))
  })
}

// Field errors and used inputs: what a form's template shows next to each field.
//
// A view (or component) has one `Form`: its field errors (`it.errors`), set by an event
// declared `{ schema, onInvalid: 'render' }` whose params fail their schema, or by the
// view's own `addError`; and the fields the user has used (`it.used`), as the client last
// said with an event of a form. Both objects are replaced, never changed in place: a
// failed handler puts back the ones it started with.

/** Field errors by field name (`email`, `address.city`; `_form` for the params as a whole). */
export type FieldErrors = Readonly<Record<string, string>>
/** Fields the user has used (typed in, changed, or submitted), by name. */
export type UsedFields = Readonly<Record<string, true>>

/**
 * Messages for an event's field errors, by field: one string for any error of the field,
 * or one per schema keyword (`required`, `format`, `minimum`…) with `'*'` for the others.
 * Without one, the schema validator's own message (`must match format "email"`).
 */
export type ErrorMessages = Readonly<Record<string, string | Readonly<Record<string, string>>>>

/** The key of errors that concern no one field. */
export const FORM_KEY = '_form'

// Objects without a prototype: a field named `constructor` or `__proto__` is a field like any other.
const NONE: Readonly<Record<string, never>> = Object.freeze(Object.create(null) as Record<string, never>)
const record = <T>(): Record<string, T> => Object.create(null) as Record<string, T>

export class Form {
  errors: FieldErrors = NONE
  used: UsedFields = NONE

  add (field: string, message: string): void {
    this.errors = Object.assign(record<string>(), this.errors, { [field]: message })
  }

  clear (field?: string): void {
    if (field === undefined) {
      this.errors = NONE
    } else if (Object.hasOwn(this.errors, field)) {
      const rest = Object.assign(record<string>(), this.errors)
      delete rest[field]
      this.errors = rest
    }
  }

  use (names: readonly string[]): void {
    const used = record<true>()
    for (const n of names) used[n] = true
    this.used = used
  }
}

/** What an empty form shows (a view that never had errors): shared, frozen. */
export const EMPTY_FORM: Pick<Form, 'errors' | 'used'> = Object.freeze({ errors: NONE, used: NONE })

/** One schema error, as ajv reports it. */
export interface SchemaError {
  instancePath?: string
  keyword?: string
  message?: string
  params?: Record<string, unknown>
}

/** `/address/city` → `address.city` (JSON Pointer escapes undone). */
const dotted = (pointer: string): string =>
  pointer.split('/').slice(1).map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~')).join('.')

/**
 * Field errors from a schema's errors: the first error of each field, as `messages` word it
 * (else the validator's message). A missing property is an error of that property.
 */
export function fieldErrors (errors: readonly SchemaError[], messages: ErrorMessages | undefined): Record<string, string> {
  const out = record<string>()
  for (const e of errors) {
    const at = dotted(e.instancePath ?? '')
    const missing = e.params?.missingProperty
    const field = typeof missing === 'string' ? (at === '' ? missing : `${at}.${missing}`) : at === '' ? FORM_KEY : at
    if (Object.hasOwn(out, field)) continue
    const own = messages !== undefined && Object.hasOwn(messages, field) ? messages[field] : undefined
    const byKeyword = typeof own === 'object' ? own : undefined
    const keyword = e.keyword ?? ''
    const worded = typeof own === 'string' ? own : byKeyword !== undefined && Object.hasOwn(byKeyword, keyword) ? byKeyword[keyword] : byKeyword?.['*']
    out[field] = worded ?? (typeof missing === 'string' ? 'is required' : e.message ?? 'is invalid')
  }
  return out
}

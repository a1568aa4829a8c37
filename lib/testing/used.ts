import { selectAll } from 'css-select'
import type { AnyNode, Element } from 'domhandler'

/**
 * The fields of each form a test has used, as the browser client tracks them: a `change` or
 * `input` uses its field, a submit every named field. A form is known by its `id`, else by
 * its bindings (the test DOM is parsed again after each update).
 */
export class UsedForms {
  readonly #forms = new Map<string, Set<string>>()

  /** Marks `names` of `form` used (all its named fields when `names` is undefined); returns what the form's events send. */
  use (form: Element, names?: string[]): string[] {
    const key = keyOf(form)
    const set = this.#forms.get(key) ?? new Set<string>()
    this.#forms.set(key, set)
    names ??= selectAll<AnyNode, Element>('input, select, textarea, button', form).map((f) => f.attribs.name ?? '')
    for (const n of names) if (n !== '') set.add(n)
    return [...set]
  }

  /** What an event of `form` (or of one of its elements) sends: its used fields, once it has any. */
  peek (form: Element): string[] | undefined {
    const set = this.#forms.get(keyOf(form))
    return set === undefined ? undefined : [...set]
  }
}

const keyOf = (form: Element): string => form.attribs.id ?? `${form.attribs['lv-submit'] ?? ''}|${form.attribs['lv-change'] ?? ''}|${form.attribs['lv-input'] ?? ''}`

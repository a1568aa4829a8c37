import { escapeHtml } from './escape.js'

/**
 * Markup that is safe to output as it is: what the `html` tag and function components
 * return. Templates output it raw with `<%~ %>`, and `<%= %>` leaves it unescaped too (it
 * is escaped already).
 */
export class Html {
  readonly #value: string
  constructor (value: string) { this.#value = value }
  toString (): string { return this.#value }
  toJSON (): string { return this.#value }
}

/** What an `html` interpolation may hold: text (escaped), `Html` (as it is), lists of them, or nothing. */
export type HtmlValue = Html | string | number | bigint | boolean | null | undefined | readonly HtmlValue[]

/**
 * A tagged template for function components written in TypeScript: every interpolation is
 * HTML-escaped, except `Html` (another component's output, a slot) and lists of them;
 * `null`, `undefined` and `false` output nothing. Put interpolated attribute values in
 * quotes (`class="${kind}"`): escaping keeps them inside.
 *
 * @example
 * const Badge = (p: { count: number, tone?: 'info' | 'warn' }): Html =>
 *   html`<span class="badge ${p.tone ?? 'info'}">${p.count}</span>`
 */
export function html (strings: TemplateStringsArray, ...values: HtmlValue[]): Html {
  let out = strings[0] as string
  for (let i = 0; i < values.length; i++) out += piece(values[i]) + (strings[i + 1] as string)
  return new Html(out)
}

function piece (value: HtmlValue): string {
  if (value instanceof Html) return value.toString()
  if (value === null || value === undefined || value === false) return ''
  if (Array.isArray(value)) {
    let out = ''
    for (const v of value as HtmlValue[]) out += piece(v)
    return out
  }
  return escapeHtml(value)
}

/** Eta's escape function: `Html` as it is, anything else escaped. */
export function escapeOutput (value: unknown): string {
  return value instanceof Html ? value.toString() : escapeHtml(value)
}

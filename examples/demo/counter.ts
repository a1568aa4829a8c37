import { LiveView, defineEvents, type Params } from '../../plugin.js'

/** First value of a query parameter (`?a=1&a=2` gives '1'). */
export function firstParam (value: Params[string]): string | undefined {
  return Array.isArray(value) ? value[0] : value
}

/** `/counter?start=N`: +, − and reset. The step comes from `lv-value-by`, checked by a schema. */
export class Counter extends LiveView {
  static template = 'counter'
  static title = 'Counter'
  static events = defineEvents<Counter>({
    add: { schema: { type: 'object', properties: { by: { type: 'integer', minimum: -100, maximum: 100 } }, required: ['by'] } },
    reset: true
  })

  start = 0
  count = 0

  mount (params: Params): void {
    const start = Number(firstParam(params.start) ?? 0)
    this.start = Number.isSafeInteger(start) ? start : 0
    this.count = this.start
  }

  /** `by` arrives as the string of `lv-value-by`; the schema coerces it to an integer. */
  add (params: { by: number }): void {
    this.count += params.by
  }

  reset (): void {
    this.count = this.start
  }

  context (): { count: number, start: number } {
    return { count: this.count, start: this.start }
  }
}

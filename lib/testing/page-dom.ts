import { AssertionError } from 'node:assert'
import { Dom, describeElement, readText, type Element } from './dom.js'
import { LiveTestError } from './reply.js'

/** A page's DOM as a test reads it: queries over its live root's HTML (parsed once per version). */
export abstract class PageDom {
  #dom: { html: string, dom: Dom } | undefined

  /** The live root's inner HTML. */
  abstract get html (): string

  /** Every element matching a CSS selector, in document order. */
  all (selector: string): Element[] {
    if (this.#dom?.html !== this.html) this.#dom = { html: this.html, dom: new Dom(this.html) }
    return this.#dom.dom.all(selector)
  }

  /** True when some element matches. */
  has (selector: string): boolean { return this.all(selector).length > 0 }

  /** The text of the first element matching `selector` (white space folded); throws when none does. */
  text (selector: string): string { return readText(this.one(selector)) }

  /** The texts of every element matching `selector`, in document order. */
  texts (selector: string): string[] { return this.all(selector).map((el) => readText(el)) }

  /** Throws unless the text of `selector` is `expected` (or matches it); `message` prefixes the error. */
  assertText (selector: string, expected: string | RegExp, message?: string): this {
    const actual = this.text(selector)
    if (typeof expected === 'string' ? actual !== expected : !expected.test(actual)) {
      const detail = `text of '${selector}' is ${JSON.stringify(actual)}, expected ${String(typeof expected === 'string' ? JSON.stringify(expected) : expected)}`
      throw new AssertionError({ message: message === undefined ? detail : `${message}: ${detail}`, actual, expected, operator: 'assertText' })
    }
    return this
  }
  /** The first element matching `selector`; throws a LiveTestError (with an excerpt of the page) when none does. */
  protected one (selector: string): Element {
    const found = this.all(selector)
    if (found.length === 0) {
      const excerpt = this.html.length > 300 ? `${this.html.slice(0, 300)}…` : this.html
      throw new LiveTestError(`no element matches '${selector}' in the page: ${excerpt.replace(/\s+/g, ' ').trim()}`)
    }
    return found[0] as Element
  }}

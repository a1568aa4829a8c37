import { Eta, EtaFileResolutionError, type TemplateFunction } from 'eta'
import { errors, describe } from './errors.js'
import { escapeHtml } from './escape.js'

/** The built-in layout: a complete page around the live root. */
const DEFAULT_LAYOUT = `<!DOCTYPE html>
<html lang="<%= it.lang %>">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title><%= it.title %></title>
<%~ it.head %>
</head>
<body>
<%~ it.body %>
</body>
</html>
`

export interface LayoutData {
  title: string
  /** Raw HTML for the head: the client script tag. */
  head: string
  /** Raw HTML of the live root element. */
  body: string
  lang: string
}

/**
 * Owns the plugin's Eta instance (never the user's): view templates under `root`,
 * cached in production, re-read on every render in development.
 */
export class Templates {
  readonly eta: Eta
  readonly #layout: string | TemplateFunction
  readonly #production: boolean
  readonly #compiled = new Map<string, { fn: TemplateFunction, meta: { filepath: string } }>()

  constructor (root: string, production: boolean, layout: string | false) {
    this.#production = production
    this.eta = new Eta({ views: root, cache: production, debug: !production, autoTrim: false, escapeFunction: escapeHtml })
    this.#layout = layout === false ? this.eta.compile(DEFAULT_LAYOUT) : `./${layout}`
    if (layout !== false) this.check('layout', layout)
  }

  /** Throws FST_LIVEVIEW_TEMPLATE_INVALID when the template is missing or does not compile. */
  check (owner: string, name: string): void {
    let path: string
    try {
      path = this.eta.resolvePath!(`./${name}`)
    } catch (err) {
      throw new errors.TEMPLATE_INVALID(owner, name, `cannot be found: ${describe(err)}`)
    }
    let source: string
    try {
      source = this.eta.readFile!(path)
    } catch (err) {
      const missing = (err as { code?: string }).code === 'ENOENT' || err instanceof EtaFileResolutionError
      throw new errors.TEMPLATE_INVALID(owner, name, missing ? `cannot be found at ${path}` : `cannot be read: ${describe(err)}`)
    }
    try {
      this.eta.compile(source)
    } catch (err) {
      throw new errors.TEMPLATE_INVALID(owner, name, `does not compile: ${describe(err)}`)
    }
  }

  render (name: string, data: object): string {
    if (!this.#production) return this.eta.render(`./${name}`, data)
    // In production, resolve and compile once: Eta resolves the path on every render otherwise.
    let compiled = this.#compiled.get(name)
    if (compiled === undefined) {
      const filepath = this.eta.resolvePath!(`./${name}`)
      compiled = { fn: this.eta.compile(this.eta.readFile!(filepath), { filepath }), meta: { filepath } }
      this.#compiled.set(name, compiled)
    }
    return this.eta.render(compiled.fn, data, compiled.meta)
  }

  layout (data: LayoutData): string {
    return this.eta.render(this.#layout, data)
  }
}

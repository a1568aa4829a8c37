import { Eta, EtaFileResolutionError, type TemplateFunction } from 'eta'
import { errors, describe } from './errors.js'
import { escapeOutput } from './html.js'
import { includesOf, lineText, syntaxError } from './template-check.js'

/** The built-in layout: a complete page around the live root. */
const DEFAULT_LAYOUT = `<!DOCTYPE html>
<html lang="<%= it.lang %>">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title><%= it.title %></title>
<%~ it.head %>
</head>
<body>
<%~ it.body %>
</body>
</html>
`

export interface LayoutData {
  /** What the `layoutData` option returned for the page load (the fields below win). */
  [key: string]: unknown
  title: string
  /** Raw HTML for the head: the client script tag. */
  head: string
  /** Raw HTML of the live root element. */
  body: string
  lang: string
  /** The app's session data of the page's request (the `session` option). */
  session: unknown
}

/** A template file as read at boot. */
export interface TemplateFile { path: string, source: string }

/** A layout must output the script tag and the live root raw. */
const RAW_HEAD = /<%~[^%]*\bit\.head\b/
const RAW_BODY = /<%~[^%]*\bit\.body\b/

/**
 * Owns the plugin's Eta instance (never the user's): view templates under `root`,
 * cached in production, re-read on every render in development.
 */
export class Templates {
  readonly eta: Eta
  readonly #builtin: TemplateFunction
  readonly #production: boolean
  readonly #compiled = new Map<string, { fn: TemplateFunction, meta: { filepath: string } }>()

  constructor (root: string, production: boolean, layout: string | false) {
    this.#production = production
    // debug: errors name the .eta file and line, in production too (it costs about 1% of a render).
    this.eta = new Eta({ views: root, cache: production, debug: true, autoTrim: false, escapeFunction: escapeOutput })
    this.#builtin = this.eta.compile(DEFAULT_LAYOUT)
    if (layout !== false) this.checkLayout(layout)
  }

  /** Checks a layout template (and its partials): it must output the script tag and the live root raw. */
  checkLayout (layout: string): void {
    // The layout or one of its partials (a shared `<head>`, say) outputs them.
    const source = this.check('layout', layout).map((f) => f.source).join('\n')
    if (!RAW_HEAD.test(source)) throw new errors.TEMPLATE_INVALID('layout', layout, 'never outputs `<%~ it.head %>` (the client script: without it the page never connects)')
    if (!RAW_BODY.test(source)) throw new errors.TEMPLATE_INVALID('layout', layout, 'never outputs `<%~ it.body %>` raw (the live root: `<%= it.body %>` would show it as text)')
  }

  /**
   * Reads a template and the partials it includes by literal name, and checks that each
   * parses; throws FST_LIVEVIEW_TEMPLATE_INVALID naming the file and line of a problem.
   */
  check (owner: string, name: string): TemplateFile[] {
    const files: TemplateFile[] = []
    const visit = (ref: string, from?: { path: string, line: number }): void => {
      const where = from === undefined ? '' : `(included by ${this.relative(from.path)}:${from.line}) `
      let path: string
      try {
        path = this.eta.resolvePath!(ref, from === undefined ? undefined : { filepath: from.path })
      } catch (err) {
        throw new errors.TEMPLATE_INVALID(owner, name, `${where}cannot find '${ref}': ${describe(err)}`)
      }
      if (files.some((f) => f.path === path)) return
      let source: string
      try {
        source = this.eta.readFile!(path)
      } catch (err) {
        const missing = (err as { code?: string }).code === 'ENOENT' || err instanceof EtaFileResolutionError
        throw new errors.TEMPLATE_INVALID(owner, name, `${where}${missing ? `cannot be found at ${path}` : `cannot be read: ${describe(err)}`}`)
      }
      let code: string
      try {
        code = this.eta.compileToString(source, { filepath: path })
      } catch (err) {
        throw new errors.TEMPLATE_INVALID(owner, name, `${where}does not compile: ${this.relative(path)}: ${describe(err)}`)
      }
      const bad = syntaxError(code)
      if (bad !== undefined) {
        throw new errors.TEMPLATE_INVALID(owner, name, `${where}does not compile: ${this.relative(path)}:${bad.line}: ${bad.message} in \`${lineText(source, bad.line)}\``)
      }
      files.push({ path, source })
      for (const include of includesOf(source)) visit(include.name, { path, line: include.line })
    }
    visit(`./${name}`)
    return files
  }

  /** A path as the app names it: relative to the views root. */
  relative (path: string): string {
    const root = this.eta.config.views ?? ''
    return path.startsWith(root) ? path.slice(root.length).replace(/^[/\\]/, '') : path
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

  /** The page around the live root: the layout template `layout`, or the built-in one (false). */
  layout (data: LayoutData, layout: string | false): string {
    return this.eta.render(layout === false ? this.#builtin : `./${layout}`, data)
  }
}

import { Script } from 'node:vm'

/**
 * What the plugin reads from template sources at boot, without running them: where a
 * template's code fails to parse (as a line of the `.eta` file, not of Eta's generated
 * function), the partials it includes by literal name, and the event names its `lv-*`
 * bindings send.
 */

/** A place in a template file. */
export interface TemplateLine { path: string, line: number, text: string }

/** Binding attributes whose value is an event name. */
const EVENT_ATTR = /\blv-(click-away|click|submit|change|input|focus|blur|keydown|keyup|window-[a-z]+)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+))/g
/** `include('./name'` / `includeAsync("name"` with a literal name. */
const INCLUDE = /\binclude(?:Async)?\(\s*(?:'([^']+)'|"([^"]+)"|`([^`$]+)`)/g
/** Eta's line markers in a function compiled with `debug: true`. */
const LINE_MARK = /^__eta\.line=(\d+)$/

export function lineAt (source: string, index: number): number {
  let line = 1
  for (let i = source.indexOf('\n'); i !== -1 && i < index; i = source.indexOf('\n', i + 1)) line++
  return line
}

export function lineText (source: string, line: number): string {
  return (source.split('\n')[line - 1] ?? '').trim()
}

/**
 * The template line where Eta's generated code (compiled with `debug: true`) has a syntax
 * error, and the parser's message; undefined when it parses.
 */
export function syntaxError (code: string): { line: number, message: string } | undefined {
  try {
    // Parsed only: the function is never called.
    // eslint-disable-next-line no-new
    new Script(`(function (it, options) {\n${code}\n})`, { filename: 'eta-template' })
    return undefined
  } catch (err) {
    const at = /eta-template:(\d+)/.exec(String((err as Error).stack))
    const generated = at === null ? 0 : Number(at[1]) - 1
    const lines = code.split('\n')
    let line = 1
    for (let i = 0; i < Math.min(generated, lines.length); i++) {
      const mark = LINE_MARK.exec(lines[i] as string)
      if (mark !== null) line = Number(mark[1])
    }
    return { line, message: (err as Error).message }
  }
}

/** Partials a template includes by literal name (dynamic names are not followed). */
export function includesOf (source: string): Array<{ name: string, line: number }> {
  const out: Array<{ name: string, line: number }> = []
  for (const m of source.matchAll(INCLUDE)) out.push({ name: (m[1] ?? m[2] ?? m[3]) as string, line: lineAt(source, m.index) })
  return out
}

/** An event binding with a literal name (`lv-click="inc"`); values with template code are skipped. */
export interface Binding { attr: string, event: string, line: number }

export function bindingsOf (source: string): Binding[] {
  const out: Binding[] = []
  for (const m of source.matchAll(EVENT_ATTR)) {
    const value = (m[2] ?? m[3] ?? m[4] ?? '').trim()
    if (value === '' || value.includes('<%') || value.includes('%>')) continue
    out.push({ attr: `lv-${m[1] as string}`, event: value, line: lineAt(source, m.index) })
  }
  return out
}

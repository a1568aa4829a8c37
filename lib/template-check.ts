import { Script } from 'node:vm'

/**
 * What the plugin reads from template sources at boot, without running them: where a
 * template's code fails to parse (as a line of the `.eta` file, not of Eta's generated
 * function), the partials it includes by literal name, and the event names its `lv-*`
 * bindings send.
 */

/** Binding attributes whose value is an event name (an attribute: after whitespace; names are case-insensitive). */
const EVENT_ATTR = /(?<=\s)lv-(click-away|click|submit|change|input|focus|blur|keydown|keyup|window-[a-z]+)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+))/gi
/** A value that is an event name as the client sends it (anything else is computed or not a binding). */
const NAME = /^[a-z][A-Za-z0-9_]*$/
/** `include('./name')` / `includeAsync("name", data)`: a literal name, alone as the first argument. */
const INCLUDE = /(?<![.\w$])include(?:Async)?\(\s*(?:'([^'\\]+)'|"([^"\\]+)"|`([^`$\\]+)`)\s*[,)]/g
/** Where no binding or include can be: HTML comments, Eta comments, and script and style text. */
const INERT = /<!--[\s\S]*?-->|<%\s*\/\*[\s\S]*?\*\/\s*%>|(<(script|style)\b[^>]*>)[\s\S]*?(?=<\/\2\s*>)/gi

/** `source` with its inert parts blanked (newlines kept, so lines stay where they were). */
function active (source: string): string {
  return source.replace(INERT, (m: string, open?: string) => (open ?? '') + m.slice(open?.length ?? 0).replace(/[^\n]/g, ' '))
}
/** Eta's line markers in a function compiled with `debug: true`. */
const LINE_MARK = /^__eta\.line=(\d+)$/

/** The 1-based line of `index` in `source`. */
function lineAt (source: string, index: number): number {
  let line = 1
  for (let i = source.indexOf('\n'); i !== -1 && i < index; i = source.indexOf('\n', i + 1)) line++
  return line
}

/** Line `line` (1-based) of `source`, trimmed. */
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
  const text = active(source)
  for (const m of text.matchAll(INCLUDE)) out.push({ name: (m[1] ?? m[2] ?? m[3]) as string, line: lineAt(text, m.index) })
  return out
}

/**
 * An event binding with a literal name (`lv-click="inc"`). Values that are not a name as
 * written (template code, `${…}`, escaped text) are computed: skipped. A name with spaces
 * around it is kept as written (`event` then fails the check: the client sends the spaces).
 */
export interface Binding {
  attr: string
  event: string
  line: number
  /** The element's literal `lv-target` (`@myself`, a selector, a component id), if it has one. */
  target?: string
}

/** Start tags of elements that have a form (their binding's event follows the form's `lv-target`). */
const FORM_ASSOCIATED = /^<(input|select|textarea|button|fieldset|output|object)[\s/>]/i
/** An `lv-target` attribute (its value as written). */
const TARGET_ATTR = /(?<=\s)lv-target\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+))/i
/** `it.component('name', …)`: a component rendered by literal name. */
const COMPONENT = /(?<![\w$])it\.component\(\s*(?:'([^'\\]+)'|"([^"\\]+)"|`([^`$\\]+)`)/g

/** The start tag around `index`: from its `<name` to the first `>` that does not end template code (`%>`). */
function tagAround (text: string, index: number): string {
  let start = index
  do start = text.lastIndexOf('<', start - 1)
  while (start > 0 && !/[A-Za-z]/.test(text.charAt(start + 1)))
  let end = index
  do end = text.indexOf('>', end + 1)
  while (end !== -1 && text.charCodeAt(end - 1) === 37)
  return text.slice(Math.max(start, 0), end === -1 ? text.length : end)
}

/** Components a template renders by literal name (`it.component('card', …)`). */
export function componentsOf (source: string): Array<{ name: string, line: number }> {
  const out: Array<{ name: string, line: number }> = []
  const text = active(source)
  for (const m of text.matchAll(COMPONENT)) out.push({ name: (m[1] ?? m[2] ?? m[3]) as string, line: lineAt(text, m.index) })
  return out
}

/** A binding whose value is template code that builds commands: `lv-click="<%= JS.hide('#m').push('close') %>"`. */
const COMMAND_ATTR = /(?<=\s)lv-(click-away|click|submit|change|input|focus|blur|keydown|keyup|window-[a-z]+)\s*=\s*["']?<%[=~]((?:(?!%>)[\s\S])*?(?<![\w$])JS\b(?:(?!%>)[\s\S])*)%>/gi
/** A command list's `push('name'`: its literal event name. */
const PUSH = /\.push\(\s*(['"`])([a-z][A-Za-z0-9_]*)\1/g
/** A literal `target:` in a push's options (a string, or a component id). */
const PUSH_TARGET = /(?:^|[{,\s])target\s*:\s*(?:(['"`])([^'"`]*)\1|(\d+))/

/** The text of a call's arguments from `open` (just after its `(`) to its closing parenthesis. */
function argsFrom (code: string, open: number): string {
  let depth = 1
  let quote = ''
  for (let i = open; i < code.length; i++) {
    const c = code[i] as string
    if (quote !== '') {
      if (c === '\\') i++
      else if (c === quote) quote = ''
    } else if (c === '"' || c === "'" || c === '`') {
      quote = c
    } else if (c === '(' || c === '{' || c === '[') {
      depth++
    } else if ((c === ')' || c === '}' || c === ']') && --depth === 0) {
      return code.slice(open, i)
    }
  }
  return code.slice(open)
}

/** The events a command list's code pushes by literal name, each with its push's literal `target`, if any. */
function pushesOf (code: string): Array<[event: string, target: string | undefined]> {
  return [...code.matchAll(PUSH)].map((m) => {
    // The options at the top level of this push's arguments (nested objects left out: a `value`).
    const args = argsFrom(code, (m.index as number) + m[0].indexOf('(') + 1)
    // Nested objects are dropped, innermost first, until only the options' own braces are left.
    const open = args.indexOf('{')
    let top = open === -1 ? '' : argsFrom(args, open + 1)
    for (let before = ''; before !== top;) {
      before = top
      top = top.replace(/\{[^{}]*\}/g, '')
    }
    const t = PUSH_TARGET.exec(top)
    return [m[2] as string, t === null ? undefined : (t[2] ?? t[3])]
  })
}

export function bindingsOf (source: string): Binding[] {
  const out: Binding[] = []
  const text = active(source)
  let lower: string | undefined
  const found: Array<[RegExpMatchArray, string, string | undefined]> = []
  for (const m of text.matchAll(EVENT_ATTR)) {
    const value = m[2] ?? m[3] ?? m[4] ?? ''
    // An unquoted value that template code continues (`lv-click=x<%= it.a %>`) is computed.
    if (!NAME.test(value.trim()) || (m[4] !== undefined && text.startsWith('<%', m.index + m[0].length))) continue
    found.push([m, value, undefined])
  }
  // The events a command list pushes, by literal name: checked as a binding's (its own target first).
  for (const m of text.matchAll(COMMAND_ATTR)) {
    for (const [event, target] of pushesOf(m[2] as string)) found.push([m, event, target])
  }
  found.sort((a, b) => (a[0].index as number) - (b[0].index as number))
  for (const [m, value, own] of found) {
    const binding: Binding = { attr: `lv-${(m[1] as string).toLowerCase()}`, event: value, line: lineAt(text, m.index as number) }
    const tag = tagAround(text, m.index as number)
    let target = own === undefined ? TARGET_ATTR.exec(tag) : [own, own]
    // A field's (a button's) binding without its own goes where its form's lv-target says, as the client does.
    if (target === null && FORM_ASSOCIATED.test(tag)) {
      lower ??= text.toLowerCase()
      const form = lower.lastIndexOf('<form', m.index)
      if (form !== -1 && lower.lastIndexOf('</form', m.index as number) < form) target = TARGET_ATTR.exec(tagAround(text, form + 1))
    }
    if (target !== null) binding.target = (target[1] ?? target[2] ?? target[3]) as string
    out.push(binding)
  }
  return out
}

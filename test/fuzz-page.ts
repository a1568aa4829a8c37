// Runs in Chromium (bundled by browser-diff-fuzz.test.ts with the client's own apply and
// morph): replays generated steps on a live root and checks the page rule after each one.
//
// The rule: the root equals a fresh element given the raw new render (a new div's
// innerHTML, see fresh()): the same nodes, names, namespaces, attributes (as a set: a patch
// cannot reorder them), text, `<template>` content, and form state (value, checked,
// selected, the defaults). Its named exceptions: inside `lv-update="ignore"` (the client
// owns it), and fields the user changed (see compare()).
import type { UserAct } from './fixtures/fuzz-html.js'

/** `patch`: the frame's JSON, null when nothing changed, 'full' for full HTML. */
export interface FuzzStep { html: string, patch: string | null | 'full', user?: UserAct[] }
export interface FuzzCase { id: string, old: string, steps: FuzzStep[] }
export interface FuzzFailure { id: string, step: number, track: Track, applied: boolean, error?: string, at: string, found: string, wanted: string }
/** 'patch': the server's patch (full HTML morphed in when it says so); 'morph': always full HTML. */
export type Track = 'patch' | 'morph'

type Field = HTMLInputElement | HTMLTextAreaElement | HTMLSelectElement
const FIELDS = 'input, textarea, select'
const HTML = 'http://www.w3.org/1999/xhtml'
// By name: the fresh parse lives in another document (another realm: instanceof fails).
const is = (n: Node, ...names: string[]): boolean => (n as Element).namespaceURI === HTML && names.includes((n as Element).localName)
const isField = (n: Element): n is Field => is(n, 'input', 'textarea', 'select')
const ignoredRegion = (e: Element): boolean => e.getAttribute('lv-update') === 'ignore'

// Inputs whose value is their attribute (or a file name): only `checked` is theirs to show.
const FIXED = ['checkbox', 'radio', 'file', 'hidden', 'submit', 'reset', 'button', 'image']
const isRadio = (n: Node): n is HTMLInputElement => is(n, 'input') && (n as HTMLInputElement).type === 'radio'

/** What a field shows the user. */
function shown (f: Field): string {
  if (is(f, 'select')) return `sel=${[...(f as HTMLSelectElement).options].map((o) => o.selected ? 1 : 0).join('')} si=${(f as HTMLSelectElement).selectedIndex}`
  if (is(f, 'textarea')) return `v=${JSON.stringify(f.value)}`
  const type = (f as HTMLInputElement).type
  return type === 'checkbox' || type === 'radio' ? `c=${(f as HTMLInputElement).checked}` : `v=${JSON.stringify(f.value)}`
}

/** What the user chose in a field: a select's chosen values (its options may change around them). */
const choice = (f: Field): string => is(f, 'select') ? JSON.stringify([...(f as HTMLSelectElement).options].filter((o) => o.selected).map((o) => o.value)) : shown(f)

/** What a select shows when it keeps the options the user chose (those still in it): a copy of it, told so. */
function keeping (f: HTMLSelectElement, chosen: HTMLOptionElement[]): string {
  const copy = f.cloneNode(true) as HTMLSelectElement
  ;[...f.options].forEach((o, i) => { copy.options[i]!.selected = chosen.includes(o) })
  return shown(copy)
}

/** Each radio group's checked flags, in document order (groups by name). */
function groups (root: Element): Map<string, string> {
  const out = new Map<string, string>()
  for (const r of root.querySelectorAll('input')) if (isRadio(r) && r.name !== '') out.set(r.name, (out.get(r.name) ?? '') + (r.checked ? 1 : 0))
  return out
}

/** One line per node, in document order (template content included, after the template). */
function describe (root: Node, lines: string[], nodes: Node[], depth = 0): void {
  for (const n of root.childNodes) {
    nodes.push(n)
    const pad = depth + ' '
    if (n.nodeType === 3) lines.push(`${pad}#text ${JSON.stringify((n as Text).data)}`)
    else if (n.nodeType === 8) lines.push(`${pad}#comment ${JSON.stringify((n as Comment).data)}`)
    else if (n.nodeType === 7) lines.push(`${pad}#pi ${(n as ProcessingInstruction).target} ${JSON.stringify((n as ProcessingInstruction).data)}`)
    else if (n.nodeType !== 1) lines.push(`${pad}#node ${n.nodeType}`)
    else {
      const e = n as Element
      if (ignoredRegion(e)) {
        lines.push(`${pad}<${e.namespaceURI} ${e.localName}> lv-update=ignore`)
        continue
      }
      const attrs = [...e.attributes].map((x) => `${x.namespaceURI ?? ''}|${x.name}=${JSON.stringify(x.value)}`).sort()
      let line = `${pad}<${e.namespaceURI} ${e.localName} ${attrs.join(' ')}>`
      const x = e as HTMLInputElement & HTMLOptionElement & HTMLOutputElement
      // What a field shows and the user cannot change (a checkbox's value, a text input's checkedness) is markup.
      if (is(e, 'input')) line += ` dv=${JSON.stringify(x.defaultValue)} dc=${x.defaultChecked}` + (x.type === 'checkbox' || x.type === 'radio' ? ` v=${JSON.stringify(x.value)}` : ` c=${x.checked}`)
      else if (is(e, 'textarea')) line += ` dv=${JSON.stringify(x.defaultValue)}`
      else if (is(e, 'option')) line += ` ds=${x.defaultSelected}` + (e.closest('select') ? '' : ` s=${x.selected}`)
      else if (is(e, 'output')) line += ` v=${JSON.stringify(x.value)} dv=${JSON.stringify(x.defaultValue)}`
      else if (is(e, 'progress', 'meter', 'li')) line += ` v=${x.value}`
      // A field's shown state goes last, after a tab: user edits replace it.
      if (isField(e)) line += `\t${shown(e)}`
      lines.push(line)
      if (is(e, 'template')) {
        lines.push(`${pad} (template: ${e.childNodes.length} children outside its content)`)
        nodes.push(e)
        describe((e as HTMLTemplateElement).content, lines, nodes, depth + 1)
        nodes.push(e, e)
        lines.push(`${pad}(content end)`, `${pad}(children)`)
      }
      describe(e, lines, nodes, depth + 1)
    }
  }
}

function lines (root: Node): [string[], Node[]] {
  const out: string[] = []
  const nodes: Node[] = []
  describe(root, out, nodes)
  return [out, nodes]
}

let reference: Document | undefined

/**
 * A fresh parse of `html`: a new div's innerHTML, in a document of its own (a same-origin
 * frame) where it is connected, as the page's root is: a radio group exists only there.
 * A comment first keeps Chromium off its innerHTML fast path, which decodes `&not` + a
 * letter in an attribute value (`title='&notit;'`) where the HTML standard, parse5 and
 * Chromium's own document parser (which parsed the page) do not.
 */
function fresh (html: string): HTMLDivElement {
  if (reference === undefined) {
    const frame = document.createElement('iframe')
    document.body.appendChild(frame)
    reference = frame.contentDocument!
    // With a doctype: no quirks, as the page (a table closes an open p).
    reference.open()
    reference.write('<!doctype html><body>')
    reference.close()
  }
  reference.body.textContent = ''
  const d = reference.createElement('div')
  reference.body.appendChild(d)
  load(d, html)
  return d
}

/** Parses `html` into `el` as the page's own parser would (not Chromium's innerHTML fast path, see fresh()). */
function load (el: Element, html: string): void {
  el.innerHTML = '<!---->' + html
  el.firstChild!.remove()
}

const liveFields = (root: Element): Field[] => [...root.querySelectorAll<Field>(FIELDS)].filter((f) => !f.closest('[lv-update="ignore"]'))

/** What the user changed: each field's [shown, rendered] before the update, and the radio groups as rendered. */
interface Edits { fields: Map<Field, [shown: string, rendered: string, options: HTMLOptionElement[], group: string, type: string]>, groups: Map<string, string> }

/** Does what the user does; returns the fields whose shown state now differs from the render. */
function act (root: Element, old: HTMLDivElement, acts: UserAct[]): Edits {
  for (const u of acts) {
    const f = root.querySelector(`[id="${u.id}"]`)
    if (f === null || !isField(f) || f.closest('[lv-update="ignore"]')) continue
    const type = (f as HTMLInputElement).type
    if (u.op === 'type' && (is(f, 'textarea') || (is(f, 'input') && !FIXED.includes(type)))) {
      f.focus()
      f.value = u.value
    } else if ((u.op === 'check' && type === 'checkbox') || (u.op === 'radio' && type === 'radio')) {
      if (u.op === 'radio' || u.focus) f.focus()
      ;(f as HTMLInputElement).click()
    } else if (u.op === 'choose' && f instanceof HTMLSelectElement && f.options.length > 0) {
      if (u.focus) f.focus()
      const o = f.options[u.index % f.options.length]!
      if (f.multiple) o.selected = !o.selected
      else f.selectedIndex = u.index % f.options.length
    }
  }
  const fields: Edits['fields'] = new Map()
  const live = liveFields(root)
  const was = liveFields(old)
  live.forEach((f, i) => {
    const options = f instanceof HTMLSelectElement ? [...f.options].filter((o) => o.selected) : []
    // Changed: it shows other than the render (a select: other options, whatever their values).
    const group = isRadio(f) ? f.name : ''
    if (was[i] === undefined || shown(f) !== shown(was[i]!) || f === document.activeElement) fields.set(f, [shown(f), was[i] === undefined ? '' : choice(was[i]!), options, group, f.type])
  })
  return { fields, groups: groups(old) }
}

/**
 * The first line where the root and the fresh parse differ, the user's edits allowed for:
 * the focused field shows what the user made it show (a checked focused radio leaves the
 * rest of its group unchecked); another field the user changed keeps the change while the
 * server's render of it stays the same, else shows the server's; after full HTML it keeps
 * the change even then. A radio group holding a change the user has not sent shows the
 * user's choice or the server's. A field whose type changed shows the server's.
 */
function compare (root: Element, html: string, edits: Edits, focused: Element | null, full: boolean): { at: string, found: string, wanted: string } | undefined {
  const [got, gotNodes] = lines(root)
  const next = fresh(html)
  const [want, wantNodes] = lines(next)
  const now = groups(next)
  const expect = new Map<number, string[]>()
  gotNodes.forEach((n, i) => {
    const edit = edits.fields.get(n as Field)
    const w = wantNodes[i]
    if (edit === undefined || w === undefined || !isField(w as Element)) return
    const [before, renderedBefore, options, group, type] = edit
    // A field whose type the server changed is another field: the server's.
    if ((n as Field).type !== type) return
    // A radio in a group, before or now: the groups' renders decide.
    const groupsOf = [group, isRadio(n) ? n.name : ''].filter((g) => g !== '')
    const userShown = is(n, 'select') ? keeping(n as HTMLSelectElement, options) : before
    const renderedNow = shown(w as Field)
    if (n === focused) expect.set(i, [userShown])
    else if (groupsOf.length > 0) expect.set(i, groupsOf.every((g) => edits.groups.get(g) === now.get(g)) ? [userShown, renderedNow] : [renderedNow])
    else if (full || renderedBefore === choice(w as Field)) expect.set(i, [userShown])
  })
  // (A focused field the update removed keeps nothing: the new one in its place is the server's.)
  if (focused !== null && root.contains(focused) && isRadio(focused) && focused.checked && focused.name !== '') {
    gotNodes.forEach((n, i) => {
      if (n !== focused && isRadio(n) && n.name === focused.name && n.form === focused.form) expect.set(i, ['c=false'])
    })
  }
  for (let i = 0; i < Math.max(got.length, want.length); i++) {
    let w = want[i]
    const allowed = expect.get(i)
    if (w !== undefined && allowed !== undefined) {
      const [structure] = w.split('\t')
      w = allowed.map((e) => structure + '\t' + e).find((x) => x === got[i]) ?? structure + '\t' + allowed.join(' or ')
    }
    if (got[i] !== w) {
      return {
        at: `line ${i}`,
        found: got.slice(Math.max(0, i - 3), i + 3).join('\n'),
        wanted: [...want.slice(Math.max(0, i - 3), i), w ?? '(nothing)', ...want.slice(i + 1, i + 3)].join('\n')
      }
    }
  }
  return undefined
}

export type Apply = (root: Element, patch: unknown[]) => boolean
export type Morph = (root: Element, html: string) => void

/** Replays `cases` on the page's root; returns the failures (the root is resynced after one). */
export function run (apply: Apply, morph: Morph, cases: FuzzCase[], track: Track): { failures: FuzzFailure[], steps: number, full: number } {
  const root = document.getElementById('root')!
  const failures: FuzzFailure[] = []
  let steps = 0
  let full = 0
  for (const c of cases) {
    load(root, c.old)
    // Once the user acted, fields may show what the server has not seen, for more steps.
    let acted = false
    let prev = c.old
    for (let i = 0; i < c.steps.length; i++) {
      const s = c.steps[i]!
      steps++
      acted ||= s.user !== undefined
      const edits: Edits = acted ? act(root, fresh(prev), s.user ?? []) : { fields: new Map(), groups: new Map() }
      const focused = document.activeElement === document.body ? null : document.activeElement
      let applied = true
      let error: string | undefined
      try {
        if (track === 'morph' || s.patch === 'full') {
          if (track === 'patch') full++
          morph(root, s.html)
        } else if (s.patch !== null) {
          applied = apply(root, JSON.parse(s.patch) as unknown[])
        }
      } catch (e) {
        applied = false
        error = String((e as Error).stack ?? e)
      }
      const diff = compare(root, s.html, edits, focused, track === 'morph' || s.patch === 'full')
      ;(document.activeElement as HTMLElement | null)?.blur?.()
      if (!applied || diff !== undefined) {
        const f: FuzzFailure = { id: c.id, step: i, track, applied, at: diff?.at ?? '', found: diff?.found ?? '', wanted: diff?.wanted ?? '' }
        if (error !== undefined) f.error = error
        failures.push(f)
        load(root, s.html)
        acted = false
      }
      prev = s.html
    }
  }
  return { failures, steps, full }
}

// The wire form of a patch, shared by the server (encode) and the client (decode).
//
// Inside the server a patch is a list of diff-dom actions (objects keyed by diff-dom's
// compressed numbers, `{"14":1,"15":[0,3,13],"23":"class","17":"field invalid"}`). On the
// wire each action is an array, `[action, route, ...arguments]`, its arguments in a fixed
// order per action; a route is written as the length of the prefix it shares with the
// previous action's route, then the rest (`[3,5,0]` after `[0,3,13]` is `[0,3,13,5,0]`);
// an added element is `[nodeName, [name, value, …] or 0, ...children]`, a text node its
// text, a comment `["#comment", text]`. Common element and attribute names are sent as
// their index in a fixed table (as HPACK's static table does for headers). Form state
// (value, checked, selected) is not sent: it follows from the attributes, as the server
// derived it.
import { Diff, REORDER, type Patch, type PatchAction } from './protocol.js'

const ACTION = Diff.action
const ROUTE = Diff.route
// For each action, the keys of its arguments in wire order. `element` and an element
// `newValue` (replaceElement) are virtual nodes.
const ARGS: Record<number, Diff[]> = {
  [Diff.addAttribute]: [Diff.name, Diff.value],
  [Diff.modifyAttribute]: [Diff.name, Diff.newValue],
  [Diff.removeAttribute]: [Diff.name],
  [Diff.modifyTextElement]: [Diff.newValue],
  [Diff.relocateGroup]: [Diff.from, Diff.to, Diff.groupLength],
  [Diff.removeElement]: [],
  [Diff.addElement]: [Diff.element],
  [Diff.removeTextElement]: [],
  [Diff.addTextElement]: [Diff.value],
  [Diff.replaceElement]: [Diff.newValue],
  [Diff.modifyValue]: [Diff.newValue],
  [Diff.modifyChecked]: [Diff.newValue],
  [Diff.modifySelected]: [Diff.newValue],
  [Diff.modifyComment]: [Diff.newValue],
  [REORDER]: [Diff.from, Diff.value]
}
const NODE_ARG = new Set([Diff.addElement, Diff.replaceElement])
const ADD = Diff.addElement
const ELEMENT = Diff.element
/** True when `next` is the index after `route`'s, in the same element. */
const follows = (route: number[], next: number[] | undefined): boolean =>
  next !== undefined && next.length === route.length && next[next.length - 1] === (route[route.length - 1] as number) + 1 &&
  route.every((x, k) => k === route.length - 1 || next[k] === x)
const NAME_ARG = new Set([Diff.addAttribute, Diff.modifyAttribute, Diff.removeAttribute])
// Part of the protocol: changing either table changes PROTOCOL_VERSION.
const TAGS = ['DIV', 'SPAN', 'P', 'A', 'LI', 'UL', 'OL', 'BUTTON', 'INPUT', 'LABEL', 'FORM', 'SELECT', 'OPTION', 'TEXTAREA',
  'TABLE', 'TBODY', 'THEAD', 'TR', 'TD', 'TH', 'STRONG', 'EM', 'B', 'I', 'SMALL', 'CODE', 'PRE', 'TIME', 'IMG', 'BR', 'HR',
  'SECTION', 'ARTICLE', 'HEADER', 'FOOTER', 'NAV', 'MAIN', 'ASIDE', 'H1', 'H2', 'H3', 'H4', 'DL', 'DT', 'DD', 'FIELDSET',
  'LEGEND', 'DETAILS', 'SUMMARY', 'DIALOG', 'svg', 'path', 'g']
const ATTRS = ['class', 'id', 'value', 'checked', 'selected', 'disabled', 'hidden', 'style', 'href', 'src', 'type', 'name',
  'title', 'open', 'for', 'role', 'tabindex', 'placeholder', 'datetime', 'data-key', 'aria-invalid', 'aria-expanded',
  'aria-pressed', 'aria-selected', 'aria-checked', 'aria-hidden', 'aria-label', 'aria-busy', 'aria-current',
  'aria-disabled', 'aria-describedby', 'lv-click', 'lv-value-id']
const TAG_AT = new Map(TAGS.map((t, i) => [t, i]))
const ATTR_AT = new Map(ATTRS.map((t, i) => [t, i]))
const named = (table: string[], x: unknown): string => {
  if (typeof x === 'string') return x
  const name = table[x as number]
  if (name === undefined) throw new Error('patch: bad name')
  return name
}

/** A virtual node as diff-dom and html-tree.ts build it. */
export interface WireVNode {
  nodeName: string
  attributes?: Record<string, string>
  childNodes?: WireVNode[]
  data?: string
  value?: string
  checked?: boolean
  selected?: boolean
}

/** The wire form of `patch`; undefined when it holds an action this codec does not know. */
export function encodePatch (patch: Patch): unknown[] | undefined {
  const out: unknown[] = []
  let prev: number[] = []
  for (let i = 0; i < patch.length; i++) {
    const action = patch[i] as PatchAction
    const a = action[ACTION] as number
    const keys = ARGS[a]
    if (keys === undefined) return undefined
    const route = action[ROUTE] as number[]
    let shared = 0
    while (shared < route.length && shared < prev.length && route[shared] === prev[shared]) shared++
    const op: unknown[] = [a, [shared, ...route.slice(shared)]]
    for (const k of keys) {
      const v = action[k]
      op.push(NODE_ARG.has(a) ? encodeNode(v as WireVNode) : NAME_ARG.has(a) && k === Diff.name ? ATTR_AT.get(v as string) ?? v : v)
    }
    // Nodes added one after another into one element: one action carries them all.
    for (let at = route; a === ADD && patch[i + 1]?.[ACTION] === ADD && follows(at, patch[i + 1]?.[ROUTE] as number[]); i++) {
      at = (patch[i + 1] as PatchAction)[ROUTE] as number[]
      op.push(encodeNode((patch[i + 1] as PatchAction)[ELEMENT] as WireVNode))
    }
    out.push(op)
    prev = route
  }
  return out
}

/** The patch `wire` encodes; throws on a malformed one (the client then resyncs). */
export function decodePatch (wire: unknown): Patch {
  if (!Array.isArray(wire)) throw new Error('patch: not a list')
  let prev: number[] = []
  const out: Patch = []
  for (const op of wire as unknown[]) {
    const action = decodeOp(op, prev)
    out.push(action)
    prev = action[ROUTE] as number[]
    // More nodes after an added one: added at the next indexes.
    if (action[ACTION] === ADD) {
      for (let k = 3; k < (op as unknown[]).length; k++) {
        const route = [...prev.slice(0, -1), (prev[prev.length - 1] as number) + k - 2]
        out.push({ [ACTION]: ADD, [ROUTE]: route, [ELEMENT]: decodeNode((op as unknown[])[k]) })
      }
    }
  }
  return out
}

function decodeOp (op: unknown, prev: number[]): PatchAction {
  if (!Array.isArray(op)) throw new Error('patch: not an action')
  const a = op[0] as number
  const keys = ARGS[a]
  const r = op[1] as unknown
  if (keys === undefined || !Array.isArray(r) || !r.every((x) => Number.isInteger(x) && x >= 0) || (r[0] as number) > prev.length) throw new Error('patch: bad action')
  const route = [...prev.slice(0, r[0] as number), ...(r.slice(1) as number[])]
  const action: PatchAction = { [ACTION]: a, [ROUTE]: route }
  keys.forEach((k, i) => {
    const v = op[i + 2]
    action[k] = NODE_ARG.has(a) ? decodeNode(v) : NAME_ARG.has(a) && k === Diff.name ? named(ATTRS, v) : v
  })
  return action
}

function encodeNode (v: WireVNode): unknown {
  if (v.nodeName === '#text') return v.data ?? ''
  if (v.nodeName === '#comment') return ['#comment', v.data ?? '']
  const attrs: unknown[] = []
  for (const [k, x] of Object.entries(v.attributes ?? {})) attrs.push(ATTR_AT.get(k) ?? k, x)
  return [TAG_AT.get(v.nodeName) ?? v.nodeName, attrs.length === 0 ? 0 : attrs, ...(v.childNodes ?? []).map(encodeNode)]
}

function decodeNode (x: unknown): WireVNode {
  if (typeof x === 'string') return { nodeName: '#text', data: x }
  if (!Array.isArray(x)) throw new Error('patch: bad node')
  if (x[0] === '#comment') return { nodeName: '#comment', data: String(x[1]) }
  const node: WireVNode = { nodeName: named(TAGS, x[0]) }
  const attrs = x[1] as unknown
  if (attrs !== 0) {
    if (!Array.isArray(attrs)) throw new Error('patch: bad attributes')
    node.attributes = {}
    for (let i = 0; i + 1 < attrs.length; i += 2) node.attributes[named(ATTRS, attrs[i])] = String(attrs[i + 1])
  }
  if (x.length > 2) node.childNodes = x.slice(2).map(decodeNode)
  formState(node)
  return node
}

/**
 * The live state a parsed form field starts with, from its attributes (HTML elements only:
 * their names are upper case), as the browser's parser sets it.
 */
export function formState (node: WireVNode): void {
  const attrs = node.attributes
  if (node.nodeName === 'INPUT') {
    const type = (attrs?.type ?? '').toLowerCase()
    if (type === 'checkbox' || type === 'radio') node.checked = attrs !== undefined && 'checked' in attrs
    else node.value = attrs?.value ?? ''
  } else if (node.nodeName === 'TEXTAREA') {
    node.value = node.childNodes?.map((c) => c.data ?? '').join('') ?? ''
  } else if (node.nodeName === 'OPTION' && attrs !== undefined && 'selected' in attrs) {
    node.selected = true
  }
}

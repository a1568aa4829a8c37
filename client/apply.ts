import { applyDOM } from './diff-dom-apply.js'
import { DIFF_CONST_NAMES, REORDER, type Patch } from '../lib/protocol.js'
import { isField, read, reselect, write, type Field, type FieldState } from './fields.js'
import { ignored } from './morph.js'

// The server diffs with `compress: true`: every key and action name is its index here.
const _const: Record<string, number> = {}
DIFF_CONST_NAMES.forEach((name, i) => { _const[name] = i })
const { action: ACTION, route: ROUTE } = _const
const named = (...names: string[]): Set<number | undefined> => new Set(names.map(n => _const[n]))
// Actions on an element itself rather than its removal or replacement: skipped on an
// lv-update="ignore" element.
const OWN = named('addAttribute', 'modifyAttribute', 'removeAttribute', 'relocateGroup',
  'modifyValue', 'modifyChecked', 'modifySelected')
OWN.add(REORDER)
// Actions that only set what a field shows: skipped on the focused field.
const SHOWN = named('modifyValue', 'modifyChecked')
const SET_ATTR = named('addAttribute', 'modifyAttribute')
const ADDS = named('addElement', 'replaceElement')
const XLINK = 'http://www.w3.org/1999/xlink'

/** diff-dom sets `xlink:` attributes without their namespace: put them in it. */
function xlink (el: Element): void {
  for (const e of [el, ...el.querySelectorAll('*')]) {
    for (const { name, value, namespaceURI } of [...e.attributes]) {
      if (namespaceURI === null && name.startsWith('xlink:')) {
        e.removeAttribute(name)
        e.setAttributeNS(XLINK, name, value)
      }
    }
  }
}

/** Our `reorder` action: children from `from` on take the order `order` (current positions). */
function reorder (parent: Node, from: unknown, order: unknown): true {
  const kids = [...parent.childNodes].slice(from as number, (from as number) + (order as unknown[]).length)
  if (!Array.isArray(order) || new Set(order).size !== kids.length || !order.every(k => kids[k as number])) throw new Error('bad reorder')
  const after = parent.childNodes[(from as number) + kids.length] ?? null
  for (const k of order) parent.insertBefore(kids[k as number] as Node, after)
  return true
}

const valid = (a: unknown): boolean => a === REORDER || (Number.isInteger(a) && (a as number) >= 0 && (a as number) < ACTION)

/**
 * Applies a diff-dom patch whose routes are relative to `root` (route [] is `root`).
 * Returns false when the patch does not fit the DOM: the page is out of sync.
 */
export function applyPatch (root: Element, patch: Patch): boolean {
  // The focused field whose attributes change: what it showed before, restored after. As in
  // Phoenix, the field the user is in keeps its value; every other field follows the server.
  let saved: [Field, FieldState] | undefined
  // Selects whose options changed: their selection is derived again afterwards.
  const selects = new Set<HTMLSelectElement>()
  const { action: A_NAME, newValue: NEW_VALUE, value: VALUE } = _const as Record<string, number>
  try {
    // An unknown action would reach diff-dom's console.log branch: treat it as out of sync.
    const ok = patch.every(d => valid(d[ACTION])) && applyDOM(root, patch, {
      _const,
      document: root.ownerDocument,
      valueDiffing: true,
      simplifiedElementCheck: false,
      textDiff (node, _current, _expected, value) { node.data = value },
      preDiffApply ({ diff }) {
        const a = diff[ACTION] as number
        let n: Node = root
        for (const i of diff[ROUTE] as number[]) {
          if (ignored(n)) return true
          n = n.childNodes[i] as Node
        }
        if (ignored(n)) return OWN.has(a)
        if (a === REORDER) {
          if (n.nodeName === 'SELECT' || n.nodeName === 'OPTGROUP') selects.add((n.nodeName === 'SELECT' ? n : n.parentNode) as HTMLSelectElement)
          return reorder(n, diff[_const.from as number], diff[VALUE as number])
        }
        const name = diff[_const.name as number]
        if (SET_ATTR.has(a) && typeof name === 'string' && name.startsWith('xlink:')) {
          (n as Element).setAttributeNS(XLINK, name, diff[a === _const.addAttribute ? VALUE as number : NEW_VALUE as number] as string)
          return true
        }
        // The field itself, or the one around a changed option or textarea text.
        const f = [n, n?.parentNode].find(x => x && isField(x)) as Field | undefined
        saved = f && f === f.ownerDocument.activeElement ? [f, read(f)] : undefined
        return f === n && !!saved && SHOWN.has(a)
      },
      postDiffApply ({ diff }) {
        if (saved) write(...saved)
        let at: Node | null = root
        for (const i of diff[ROUTE] as number[]) {
          if (at?.nodeName === 'SELECT') selects.add(at as HTMLSelectElement)
          at = at?.childNodes[i] ?? null
        }
        if (at?.nodeName === 'SELECT') selects.add(at as HTMLSelectElement)
        if (ADDS.has(diff[A_NAME as number] as number)) {
          const route = diff[ROUTE] as number[]
          let n: Node = root
          for (const i of route) n = n.childNodes[i] as Node
          if ((n as Element | undefined)?.namespaceURI === 'http://www.w3.org/2000/svg') xlink(n as Element)
        }
      }
    })
    for (const sel of selects) if (sel.isConnected && sel !== sel.ownerDocument.activeElement) reselect(sel)
    return ok
  } catch {
    return false
  }
}

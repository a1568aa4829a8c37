import { Diff, REORDER, type Patch, type PatchAction } from '../lib/protocol.js'
import { Fields } from './fields.js'
import { ignored, owned } from './morph.js'
import { js } from './lazy.js'
import { box, build, setAttr, type VNode } from './nodes.js'

// Applies the server's patches: diff-dom's action format (`compress: true`, every key and
// action name is its index in DIFF_CONST_NAMES, `Diff` by name), applied as the HTML parser would have built
// the new render. Routes go through a `<template>`'s content, added elements get the
// namespace of where they stand, and what a form field shows is derived from its markup
// (see fields.ts): property writes (`modifyValue`…) are not applied.

const ACTION = Diff.action
const ROUTE = Diff.route
const NAME = Diff.name
const VALUE = Diff.value
const NEW_VALUE = Diff.newValue
// Actions on an element itself (not its removal or replacement): skipped on an
// lv-update="ignore" element, which the client owns.
const OWN = new Set<number>([Diff.addAttribute, Diff.modifyAttribute, Diff.removeAttribute, Diff.relocateGroup, Diff.modifyValue, Diff.modifyChecked, Diff.modifySelected, REORDER])

/**
 * Applies a patch whose routes are relative to `root` (route [] is `root`). Returns false
 * when the patch does not fit the DOM: the page is out of sync.
 */
export function applyPatch (root: Element, patch: Patch): boolean {
  const fields = new Fields(root)
  try {
    return patch.every(d => one(root, d, fields))
  } catch {
    return false
  } finally {
    fields.settle()
  }
}

function one (root: Element, d: PatchAction, fields: Fields): boolean {
  const a = d[ACTION]
  const route = d[ROUTE]
  if (!Array.isArray(route)) return false
  const adds = a === Diff.addElement || a === Diff.addTextElement
  let n: Node = root
  for (const i of adds ? route.slice(0, -1) : route) {
    // Nothing inside an ignored element is patched.
    if (ignored(n)) return true
    n = box(n).childNodes[i as number] as Node
    if (n === undefined) return false
  }
  if (ignored(n) && (adds || OWN.has(a as number))) return true
  const parent = n.parentNode as Node
  if (adds) {
    if (n.nodeType !== 1) return false
    const node = a === Diff.addElement ? build(d[Diff.element] as VNode, n) : n.ownerDocument!.createTextNode(d[VALUE] as string)
    fields.touch(n)
    box(n).insertBefore(node, box(n).childNodes[route[route.length - 1] as number] ?? null)
    fields.radios(node)
    return true
  }
  switch (a) {
    case Diff.addAttribute:
    case Diff.modifyAttribute:
    case Diff.removeAttribute: {
      if (n.nodeType !== 1) return false
      const el = n as Element
      const name = d[NAME] as string
      if (owned(el, name)) return true
      fields.attr(el, name, () => {
        if (a === Diff.removeAttribute) el.removeAttribute(name)
        else setAttr(el, name, d[a === Diff.addAttribute ? VALUE : NEW_VALUE] as string)
      })
      // What commands did to it stays, unless the server changed it (see client/js.ts).
      js.s?.(el, name)
      return true
    }
    case Diff.modifyTextElement:
    case Diff.modifyComment:
      if (n.nodeType !== (a === Diff.modifyComment ? 8 : 3)) return false
      fields.touch(parent)
      ;(n as CharacterData).data = d[NEW_VALUE] as string
      return true
    case Diff.modifyValue:
    case Diff.modifyChecked:
    case Diff.modifySelected:
      // Fields show what their markup says: derived when it changes.
      return true
    case Diff.replaceElement:
    case Diff.removeElement:
    case Diff.removeTextElement: {
      if (n === root || (a === Diff.removeTextElement && n.nodeType !== 3)) return false
      fields.touch(parent)
      fields.radios(n)
      if (a === Diff.replaceElement) {
        const node = build(d[NEW_VALUE] as VNode, parent)
        parent.replaceChild(node, n)
        fields.radios(node)
      } else {
        parent.removeChild(n)
      }
      return true
    }
    case Diff.relocateGroup: {
      const kids = box(n)
      const moved: Node[] = []
      fields.touch(n)
      for (let k = 0; k < (d[Diff.groupLength] as number); k++) {
        const c = kids.childNodes[d[Diff.from] as number]
        if (c === undefined) return false
        fields.radios(c)
        moved.push(kids.removeChild(c))
      }
      const ref = kids.childNodes[d[Diff.to] as number] ?? null
      for (const m of moved) kids.insertBefore(m, ref)
      return true
    }
    case REORDER: {
      // Our own action: the children from `from` on take the order `value` (current positions).
      const kids = box(n)
      const from = d[Diff.from] as number
      const order = d[VALUE] as unknown
      const moved = [...kids.childNodes].slice(from, from + (Array.isArray(order) ? order.length : 0))
      if (!Array.isArray(order) || new Set(order).size !== moved.length || !order.every(k => moved[k as number] !== undefined)) return false
      fields.touch(n)
      const ref = kids.childNodes[from + moved.length] ?? null
      for (const k of order) kids.insertBefore(moved[k as number] as Node, ref)
      return true
    }
    default:
      return false
  }
}

import type { PatchAction } from './protocol.js'
import { A, K, finish } from './patch-finish.js'
import { parseChildren, type VNode } from './html-tree.js'
import { attributesOf, oneValueChanged, textOf } from './attrs.js'
import { ELEMENT, TEXT, isContainer, type INode } from './tree-index.js'
import { diffChildren, longestIncreasing } from './keyed.js'
import { REORDER } from './protocol.js'

/** Marks a change only full HTML can carry (an `lv-update="ignore"` region would be touched). */
export class NeedsFullHtml extends Error {}

/** The two renders and the actions found so far (in the order the client applies them). */
export interface Texts { a: string, b: string, out: PatchAction[] }

/**
 * Turns the children `olds` (at `aPos` in the old render) of the element at `route` into
 * `news` (at `bPos` in the new one). Children whose text is equal are left alone; a pair
 * of like elements is diffed in place (attributes, then its own children); anything else
 * is parsed and diffed by diff-dom. Actions go right to left, so every route is valid when
 * the client applies it. `offset`: index of `olds[0]` in its element; `ctx`: the element's
 * name and namespace (what the children are parsed in).
 */
export function diffKids (t: Texts, route: number[], ctxName: string, ctxNs: number, olds: INode[], aPos: number, news: INode[], bPos: number, offset: number): void {
  const { a, b } = t
  const oStart = starts(olds, aPos)
  const nStart = starts(news, bPos)
  const same = (i: number, j: number): boolean => {
    const o = olds[i] as INode
    const n = news[j] as INode
    return o.len === n.len && a.substring(oStart[i] as number, (oStart[i] as number) + o.len) === b.substring(nStart[j] as number, (nStart[j] as number) + n.len)
  }
  let p = 0
  while (p < olds.length && p < news.length && same(p, p)) p++
  let q = 0
  while (q < olds.length - p && q < news.length - p && same(olds.length - 1 - q, news.length - 1 - q)) q++
  const m = olds.length - p - q
  const n = news.length - p - q
  if (m === 0 && n === 0) return
  const bFrom = nStart[p] as number
  const bTo = nStart[p + n] as number
  if (m === 0) {
    const added = parse(b.slice(bFrom, bTo), ctxName, ctxNs)
    if (added.some(ignores)) throw new NeedsFullHtml()
    added.forEach((node, k) => { t.out.push({ [K.action]: A.addElement, [K.route]: [...route, offset + p + k], [K.element]: node }) })
    return
  }
  if (n === 0) {
    for (let k = m - 1; k >= 0; k--) t.out.push({ [K.action]: A.removeElement, [K.route]: [...route, offset + p + k] })
    return
  }
  if (m === n && pairable(t, olds, oStart, news, nStart, p, m)) {
    for (let k = m - 1; k >= 0; k--) {
      diffPair(t, [...route, offset + p + k], ctxName, ctxNs, olds[p + k] as INode, oStart[p + k] as number, news[p + k] as INode, nStart[p + k] as number)
    }
    return
  }
  diffMiddle(t, route, ctxName, ctxNs, olds.slice(p, p + m), oStart.slice(p, p + m), news.slice(p, p + n), nStart.slice(p, p + n), offset + p)
}

/**
 * Children that were added, removed, moved and changed at once. Old and new children are
 * matched by equal text (moved unchanged), then by key (`id` or `data-key`: changed in
 * place), then like unkeyed elements in order. The client removes the unmatched old ones,
 * moves the matched ones into the new order (the fewest moves: a longest increasing run
 * stays; a big reorder is one `reorder` action), then adds the new ones and updates the
 * changed ones, left to right.
 */
function diffMiddle (t: Texts, route: number[], ctxName: string, ctxNs: number, olds: INode[], oStart: number[], news: INode[], nStart: number[], offset: number): void {
  const { a, b } = t
  const oText = (i: number): string => a.substring(oStart[i] as number, (oStart[i] as number) + (olds[i] as INode).len)
  const nText = (j: number): string => b.substring(nStart[j] as number, (nStart[j] as number) + (news[j] as INode).len)
  const oKey = (i: number): string | undefined => (olds[i] as INode).kind === ELEMENT ? keyOf(a.substring(oStart[i] as number, (oStart[i] as number) + (olds[i] as INode).open)) : undefined
  const nKey = (j: number): string | undefined => (news[j] as INode).kind === ELEMENT ? keyOf(b.substring(nStart[j] as number, (nStart[j] as number) + (news[j] as INode).open)) : undefined
  const match = new Array<number>(news.length).fill(-1)
  const taken = new Uint8Array(olds.length)
  // Equal elements: moved (or kept) unchanged; equal ones are matched in order.
  const byText = new Map<string, number[]>()
  for (let i = 0; i < olds.length; i++) {
    if ((olds[i] as INode).kind !== ELEMENT) continue
    const queue = byText.get(oText(i))
    if (queue === undefined) byText.set(oText(i), [i])
    else queue.push(i)
  }
  for (let j = 0; j < news.length; j++) {
    if ((news[j] as INode).kind !== ELEMENT) continue
    const i = byText.get(nText(j))?.shift()
    if (i !== undefined) { match[j] = i; taken[i] = 1 }
  }
  // The same key: changed in place.
  const byKey = new Map<string, number>()
  const oKeyed = new Uint8Array(olds.length)
  for (let i = 0; i < olds.length; i++) {
    const k = taken[i] === 0 ? oKey(i) : undefined
    if (k === undefined) continue
    oKeyed[i] = 1
    if (!byKey.has(k)) byKey.set(k, i)
  }
  for (let j = 0; j < news.length; j++) {
    if (match[j] !== -1) continue
    const k = nKey(j)
    const i = k === undefined ? undefined : byKey.get(k)
    if (i !== undefined && taken[i] === 0 && (olds[i] as INode).name === (news[j] as INode).name) { match[j] = i; taken[i] = 1; byKey.delete(k as string) }
  }
  // Text and comments beside a matched element go with it (the white space between items).
  for (let j = 0; j < news.length; j++) {
    if (match[j] !== -1 || (news[j] as INode).kind === ELEMENT) continue
    const left = j > 0 ? (match[j - 1] as number) + 1 : -1
    const right = j + 1 < news.length && match[j + 1] !== -1 ? (match[j + 1] as number) - 1 : -1
    for (const i of [left, right]) {
      if (i >= 0 && i < olds.length && taken[i] === 0 && (olds[i] as INode).kind === (news[j] as INode).kind && oText(i) === nText(j)) { match[j] = i; taken[i] = 1; break }
    }
  }
  // Like unkeyed elements and the remaining text, in order.
  let next = 0
  for (let j = 0; j < news.length; j++) {
    if (match[j] !== -1 || ((news[j] as INode).kind === ELEMENT && nKey(j) !== undefined)) continue
    while (next < olds.length && (taken[next] === 1 || oKeyed[next] === 1)) next++
    const o = olds[next]
    if (o !== undefined && o.kind === (news[j] as INode).kind && o.name === (news[j] as INode).name) { match[j] = next; taken[next] = 1 }
  }
  const cur: number[] = []
  for (let i = 0; i < olds.length; i++) if (taken[i] === 1) cur.push(i)
  for (let i = olds.length - 1; i >= 0; i--) {
    if (taken[i] === 0) t.out.push({ [K.action]: A.removeElement, [K.route]: [...route, offset + i] })
  }
  const order = match.filter((i) => i !== -1)
  moves(t, route, offset, cur, order)
  for (let j = 0; j < news.length; j++) {
    const i = match[j] as number
    if (i === -1) {
      const added = parse(nText(j), ctxName, ctxNs)
      if (added.some(ignores)) throw new NeedsFullHtml()
      added.forEach((node) => { t.out.push({ [K.action]: A.addElement, [K.route]: [...route, offset + j], [K.element]: node }) })
    } else {
      diffPair(t, [...route, offset + j], ctxName, ctxNs, olds[i] as INode, oStart[i] as number, news[j] as INode, nStart[j] as number)
    }
  }
}

/**
 * Moves the children `cur` (old indexes, in DOM order from `offset`) into `order`: one
 * relocation per child off a longest increasing run, or one `reorder` when that is smaller.
 */
function moves (t: Texts, route: number[], offset: number, cur: number[], order: number[]): void {
  const stays = longestIncreasing(order)
  if (stays.size === order.length) return
  const count = order.length - stays.size
  if (count > 4) {
    const at = new Map(cur.map((i, k) => [i, k]))
    t.out.push({ [K.action]: REORDER, [K.route]: route, [K.from]: offset, [K.value]: order.map((i) => at.get(i) as number) })
    return
  }
  for (let p = 0; p < order.length; p++) {
    const x = order[p] as number
    if (stays.has(x)) continue
    const q = cur.indexOf(x)
    cur.splice(q, 1)
    const r = p === 0 ? 0 : cur.indexOf(order[p - 1] as number) + 1
    cur.splice(r, 0, x)
    t.out.push({ [K.action]: A.relocateGroup, [K.route]: route, [K.from]: offset + q, [K.to]: offset + r, [K.groupLength]: 1 })
  }
}

/** One old child and its new counterpart, at `route`. */
function diffPair (t: Texts, route: number[], ctxName: string, ctxNs: number, o: INode, oPos: number, n: INode, nPos: number): void {
  const { a, b } = t
  if (o.len === n.len && a.substring(oPos, oPos + o.len) === b.substring(nPos, nPos + n.len)) return
  if (o.kind === TEXT && n.kind === TEXT) {
    const text = textOf(b.slice(nPos, nPos + n.len))
    if (text !== undefined) {
      t.out.push({ [K.action]: A.modifyTextElement, [K.route]: route, [K.newValue]: text })
      return
    }
  } else if (o.kind === ELEMENT && n.kind === ELEMENT && o.name === n.name && o.ns === n.ns && o.ns === 0) {
    const oTag = a.substring(oPos, oPos + o.open)
    const nTag = b.substring(nPos, nPos + n.open)
    if (o.ignored || n.ignored) {
      if (o.ignored && n.ignored && oTag === nTag) return
      throw new NeedsFullHtml()
    }
    // Both with content the scan read, or both with none (void, self-closed).
    const inner = isContainer(o) && isContainer(n)
    const leaf = o.len === o.open && n.len === n.open
    const one = oTag === nTag ? undefined : oneValueChanged(oTag, nTag)
    const oAttrs = oTag === nTag || one !== undefined ? undefined : attributesOf(oTag)
    const nAttrs = oTag === nTag || one !== undefined ? undefined : attributesOf(nTag)
    if ((inner || leaf) && (oTag === nTag || one !== undefined || (oAttrs !== undefined && nAttrs !== undefined))) {
      // Attribute actions are final as built (no old values, no property writes): no finish().
      if (one !== undefined) t.out.push({ [K.action]: A.modifyAttribute, [K.route]: route, [K.name]: one[0], [K.newValue]: one[1] })
      if (oAttrs !== undefined && nAttrs !== undefined) attributeActions(t.out, route, oAttrs, nAttrs)
      if (inner) diffKids(t, route, o.name, o.ns, o.kids ?? [], oPos + o.open, n.kids ?? [], nPos + n.open, 0)
      return
    }
  }
  // Anything else (comments, foreign or raw-text elements, a kind or name that changed): diff-dom.
  const parent = route.slice(0, -1)
  const index = route[route.length - 1] as number
  const before = parse(a.slice(oPos, oPos + o.len), ctxName, ctxNs)
  const after = parse(b.slice(nPos, nPos + n.len), ctxName, ctxNs)
  if (before.some(ignores) || after.some(ignores)) throw new NeedsFullHtml()
  t.out.push(...finish(diffChildren(before, after), parent, index, before, after))
}

function attributeActions (out: PatchAction[], route: number[], before: Map<string, string>, after: Map<string, string>): void {
  for (const [name] of before) if (!after.has(name)) out.push({ [K.action]: A.removeAttribute, [K.route]: route, [K.name]: name })
  for (const [name, value] of after) {
    const old = before.get(name)
    if (old === undefined) out.push({ [K.action]: A.addAttribute, [K.route]: route, [K.name]: name, [K.value]: value })
    else if (old !== value) out.push({ [K.action]: A.modifyAttribute, [K.route]: route, [K.name]: name, [K.newValue]: value })
  }
}

/** Pairs in place only when every pair is alike: same kind, element name and key. */
function pairable (t: Texts, olds: INode[], oStart: number[], news: INode[], nStart: number[], p: number, m: number): boolean {
  for (let k = p; k < p + m; k++) {
    const o = olds[k] as INode
    const n = news[k] as INode
    if (o.kind !== n.kind) return false
    if (o.kind !== ELEMENT) continue
    if (o.name !== n.name) return false
    if (keyOf(t.a.substring(oStart[k] as number, (oStart[k] as number) + o.open)) !== keyOf(t.b.substring(nStart[k] as number, (nStart[k] as number) + n.open))) return false
  }
  return true
}

const KEY = /\s(?:id|data-key)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))/i
function keyOf (tag: string): string | undefined {
  const m = KEY.exec(tag)
  return m === null ? undefined : m[1] ?? m[2] ?? m[3]
}

function starts (nodes: INode[], from: number): number[] {
  const out = new Array<number>(nodes.length + 1)
  let at = from
  for (let i = 0; i < nodes.length; i++) {
    out[i] = at
    at += (nodes[i] as INode).len
  }
  out[nodes.length] = at
  return out
}

const parse = (html: string, name: string, ns: number): VNode[] => parseChildren(html, name === '' ? 'div' : name, ns)

export function ignores (node: VNode): boolean {
  if (node.attributes?.['lv-update'] === 'ignore') return true
  return node.childNodes?.some(ignores) ?? false
}

import { DiffDOM } from 'diff-dom'
import type { PatchAction } from './protocol.js'
import { A, K } from './patch-finish.js'
import type { VNode } from './html-tree.js'

// Compressed keys (numbers) keep patches small on the wire; the client maps them back.
const differ = new DiffDOM({ compress: true, valueDiffing: true })

/**
 * Children that only changed order, keyed elements (`id` or `data-key`) moved around
 * unchanged: one `relocateGroup` per node out of place, computed from a longest increasing
 * run, instead of diff-dom's child-by-child replacements (two rows swapped in a long table
 * cost two actions, not the rows between). Undefined when the change is anything else.
 */
export function keyedMoves (before: VNode[], after: VNode[]): PatchAction[] | undefined {
  if (before.length !== after.length || before.length < 2) return undefined
  // Text and comments by their data; elements by key and whole content (moved unchanged).
  const sign = (n: VNode): string | undefined => {
    if (n.nodeName === '#text' || n.nodeName === '#comment') return `${n.nodeName}:${n.data ?? ''}`
    const key = n.attributes?.id ?? n.attributes?.['data-key']
    return key === undefined ? undefined : `k:${JSON.stringify(n)}`
  }
  // Where each node of the new order was in the old one (equal nodes matched in order).
  const queues = new Map<string, number[]>()
  let keyed = 0
  for (let i = 0; i < before.length; i++) {
    const sig = sign(before[i] as VNode)
    if (sig === undefined) return undefined
    if (sig.startsWith('k:')) keyed++
    const queue = queues.get(sig)
    if (queue === undefined) queues.set(sig, [i])
    else queue.push(i)
  }
  if (keyed === 0) return undefined
  const from: number[] = []
  for (const node of after) {
    const sig = sign(node)
    const i = sig === undefined ? undefined : queues.get(sig)?.shift()
    if (i === undefined) return undefined
    from.push(i)
  }
  // Nodes on a longest increasing run stay; each other one moves right after its new predecessor.
  const stays = longestIncreasing(from)
  const cur = before.map((_, i) => i)
  const moves: PatchAction[] = []
  for (let p = 0; p < from.length; p++) {
    const x = from[p] as number
    if (stays.has(x)) continue
    const q = cur.indexOf(x)
    cur.splice(q, 1)
    const r = p === 0 ? 0 : cur.indexOf(from[p - 1] as number) + 1
    cur.splice(r, 0, x)
    moves.push({ [K.action]: A.relocateGroup, [K.route]: [], [K.from]: q, [K.to]: r, [K.groupLength]: 1 })
  }
  for (let p = 0; p < from.length; p++) if (cur[p] !== from[p]) return undefined
  return moves.length > 0 ? moves : undefined
}

/** The values of a longest strictly increasing subsequence of `xs` (patience sorting). */
export function longestIncreasing (xs: number[]): Set<number> {
  const tails: number[] = []
  const prev: number[] = new Array<number>(xs.length)
  for (let i = 0; i < xs.length; i++) {
    const x = xs[i] as number
    let lo = 0
    let hi = tails.length
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if ((xs[tails[mid] as number] as number) < x) lo = mid + 1
      else hi = mid
    }
    prev[i] = lo > 0 ? tails[lo - 1] as number : -1
    tails[lo] = i
  }
  const out = new Set<number>()
  for (let i = tails.length > 0 ? tails[tails.length - 1] as number : -1; i !== -1; i = prev[i] as number) out.add(xs[i] as number)
  return out
}

export function diffChildren (before: VNode[], after: VNode[]): PatchAction[] {
  return differ.diff({ nodeName: 'DIV', childNodes: before } as never, { nodeName: 'DIV', childNodes: after } as never) as unknown as PatchAction[]
}


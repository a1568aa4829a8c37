import { DiffDOM } from 'diff-dom'
import type { PatchAction } from './protocol.js'
import type { VNode } from './html-tree.js'

// Compressed keys (numbers) keep patches small on the wire; the client maps them back.
const differ = new DiffDOM({ compress: true, valueDiffing: true })

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


// "diff µs" (issue 11): from a rendered HTML string to the encoded patch, the search for the
// changed regions, the index work and the encoding included, rendering excluded. Measured
// beside the session, without touching lib/: after each event the view is rendered again
// (the same state the session just rendered, so the same text) and the previous render of a
// chain of fresh `Rendered` objects is diffed to it, as the session's `update` does. Each
// `next` becomes the next `prev`, so the index is handed along as in the session; the first
// diffs of a chain build it by a full scan and are left out.
import { FULL_HTML, diffRendered } from '../lib/diff.js'
import { Rendered } from '../lib/rendered.js'
import type { MountedView } from '../lib/session/mounted.js'

/** Diffs at the start of a chain left out of its figures (the first builds the index from scratch). */
export const CHAIN_SKIP = 5

export class DiffChain {
  #prev: Rendered | undefined
  #diffs = 0
  /** Per measured diff: render, and diff + encoding, in µs. */
  readonly renderUs: number[] = []
  readonly diffUs: number[] = []
  /** Renders that differed from what the session had sent (the chain would not be the session's). */
  mismatches = 0
  /** Measured diffs that gave full HTML (FULL_HTML, or a patch no smaller than the page). */
  fullHtml = 0

  /**
   * Renders `mounted`'s view (timed), then diffs the chain's previous render to it and
   * encodes the patch (timed). `sent` is the HTML the session itself just rendered.
   */
  async step (mounted: MountedView, sent: string): Promise<void> {
    const r0 = process.hrtime.bigint()
    const rendered = mounted.render()
    const html = typeof rendered === 'string' ? rendered : await rendered
    const r1 = process.hrtime.bigint()
    // Timed from the rendered string (as Eta returns it, not yet flattened) to the encoded patch.
    const next = new Rendered(html)
    const prev = this.#prev
    let full = false
    if (prev !== undefined) {
      const patch = diffRendered(prev, next)
      const json = patch === undefined || patch === FULL_HTML ? undefined : JSON.stringify(patch)
      const d1 = process.hrtime.bigint()
      full = patch === FULL_HTML || (json !== undefined && json.length >= html.length)
      if (++this.#diffs > CHAIN_SKIP) {
        this.renderUs.push(Number(r1 - r0) / 1000)
        this.diffUs.push(Number(d1 - r1) / 1000)
        if (full) this.fullHtml++
      }
    }
    if (html !== sent) this.mismatches++
    this.#prev = next
  }

  /** Measured diffs so far. */
  get count (): number { return this.diffUs.length }
}

import type { StreamOp } from '../protocol.js'
import type { Params } from '../view.js'

/**
 * What one message asked for besides its state changes, collected while its handlers run
 * and applied in one place once they are done, in one order: the reply or update, the URL,
 * the title, pushed events, then a redirect or a navigation. A failed message's outcome is
 * dropped whole. As Phoenix's `handle_result`: effects are data until the message succeeds.
 */
export class Outcome {
  /** Encoded `ev` frames (`pushEvent`). */
  pushes: string[] | undefined
  /** `pushPatch`: the URL within the route, and its params (the last call wins). */
  patch: { url: URL, params: Params } | undefined
  /** `pushNavigate`: another live route's URL. */
  navigate: URL | undefined
  /** `redirect`: a URL to load in full (checked: http(s), same origin unless `external`). */
  redirect: URL | undefined
  /** Stream operations (`stream`, `streamInsert`, `streamDelete`): sent after its update. */
  streams: StreamOp[] | undefined
  /** Async work it started (`assignAsync`, `startAsync`, async iterables streamed): started once it has succeeded. */
  asyncs: Array<() => void> | undefined
  /** What the event handler returned, as JSON. */
  value: string | undefined

  /** True when the page is about to leave this view (its flash then travels along). */
  get leaving (): boolean { return this.navigate !== undefined || this.redirect !== undefined }

  /** Starts the async work the message started (it succeeded). */
  startAsync (): void {
    const starts = this.asyncs
    this.asyncs = undefined
    if (starts !== undefined) for (const start of starts) start()
  }
}

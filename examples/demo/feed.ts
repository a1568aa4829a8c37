import { LiveView, defineEvents, type DomParams, type ParamsOf } from '../../plugin.js'

export interface Post { id: number, author: string, text: string }

const AUTHORS = ['Ada', 'Grace', 'Linus', 'Barbara', 'Ken', 'Margaret']
const TEXTS = ['Shipped the stream demo.', 'Reading about diff-dom.', 'Tea, then code.', 'Who broke the build?', 'Infinite scroll works!', 'Refactoring the session actor.']
/** How many posts the feed has in all. */
export const FEED_SIZE = 500
const PAGE = 20
const ID = { type: 'object', properties: { id: { type: 'integer', minimum: 1 } }, required: ['id'] } as const

/** The n-th post of the (made-up) feed, newest first. */
export const postAt = (n: number): Post => ({ id: FEED_SIZE - n + 1, author: AUTHORS[n % AUTHORS.length]!, text: `${TEXTS[n % TEXTS.length]!} (#${FEED_SIZE - n + 1})` })

/**
 * `/feed`: an infinite feed on a stream. The server keeps no post: each page of 20 is
 * rendered once and sent to the browser, which keeps the list; when its last post scrolls
 * into view (`lv-viewport-bottom`), the next page comes. New posts go on top.
 */
export class InfiniteFeed extends LiveView {
  static template = 'feed'
  static title = 'Feed'
  static streams = { posts: 'feed-post' }
  static events = defineEvents<InfiniteFeed>({ more: true, post: true, remove: { schema: ID } })
  loaded = 0
  written = 0

  mount (): void { this.more() }

  more (): void {
    if (this.loaded >= FEED_SIZE) return
    const page: Post[] = []
    for (let n = this.loaded + 1; n <= Math.min(this.loaded + PAGE, FEED_SIZE); n++) page.push(postAt(n))
    this.loaded += page.length
    this.stream('posts', page)
  }

  post (params: DomParams): void {
    const text = String(params.text ?? '').trim().slice(0, 280)
    if (text === '') return
    this.written++
    this.streamInsert('posts', { id: FEED_SIZE + this.written, author: 'You', text }, { at: 0 })
  }

  remove (params: ParamsOf<typeof ID>): void { this.streamDelete('posts', params.id) }

  context () { return { loaded: this.loaded, total: FEED_SIZE, done: this.loaded >= FEED_SIZE } }
}

// Type tests of `fastify-liveview/client` (client/types.ts), as an app's front-end code uses
// them; checked by `tsc -p client/tsconfig.json` in `npm test`.
import type { LiveHook, LiveHooks } from '../client/types.js'

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2) ? true : false
function expectType<T extends true> (): T | undefined { return undefined }

const Chart: LiveHook<{ points: number[] }> = {
  mounted () {
    this.points = []
    const el: Element = this.el
    const stop = this.handleEvent('points', (payload) => {
      // @ts-expect-error: a pushed payload is unknown until the app checks it
      this.points.push(payload.length)
      if (Array.isArray(payload)) this.points = payload.map(Number)
    })
    void this.pushEvent('range', { days: 30 }).then((summary) => {
      expectType<Equal<typeof summary, unknown>>()
    })
    // @ts-expect-error: params are an object
    void this.pushEvent('range', 30)
    void [el, stop]
  },
  destroyed () { this.points = [] }
}

window.lvHooks = { Chart }
const hooks: LiveHooks = {
  // @ts-expect-error: callbacks take no arguments and hooks have no such callback
  Bad: { mounted: 1 }
}

const root = document.querySelector('[data-lv-root]') as HTMLElement
root.addEventListener('lv:error', (e) => {
  expectType<Equal<typeof e.detail.code, string>>()
  expectType<Equal<typeof e.detail.ref, number>>()
})
root.addEventListener('lv:event', (e) => {
  expectType<Equal<typeof e.detail.event, string>>()
  expectType<Equal<typeof e.detail.payload, unknown>>()
})
root.addEventListener('lv:connected', (e) => { expectType<Equal<typeof e, CustomEvent<undefined>>>() })
void hooks
// On any Element (querySelector's type) as well.
document.querySelector('[data-lv-root]')?.addEventListener('lv:event', (e) => { expectType<Equal<typeof e.detail.payload, unknown>>() })

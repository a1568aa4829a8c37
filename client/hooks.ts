import { ATTR_HOOK, CLASS_CONNECTED, DOM_CONNECTED, DOM_DISCONNECTED, DOM_EVENT, type ErrorPayload } from '../lib/protocol.js'
import type { Params, Push } from './bindings.js'
import type { HookCallbacks, HookContext } from './types.js'
import type { JsPort } from './lazy.js'

const HOOK = ATTR_HOOK

/** A hook instance as the client holds it (the public types are in types.ts). */
type Hook = HookContext & HookCallbacks

type Callback = 'mounted' | 'updated' | 'destroyed' | 'disconnected' | 'reconnected'
/** A hook instance: its name, itself, its `handleEvent` listeners. */
type Live = [string, Hook, Array<[string, (payload: unknown) => void]>]

// A throwing hook must not stop the others, nor the update that called it.
const call = ([, h]: Live, name: Callback): void => {
  try {
    h[name]?.()
  } catch (e) {
    setTimeout(() => { throw e })
  }
}

/**
 * Runs the `lv-hook` elements of `root`: mounts them once the page has joined, tells them
 * of server updates and connection changes, destroys them when they leave. Returns what
 * wraps every DOM update from the server, so only those count as `updated`, never the
 * client's own loading classes nor what a hook does to its element.
 */
export function hooks (root: Element, push: Push, exec: NonNullable<JsPort['x']>): <T>(update: () => T) => T {
  const win = root.ownerDocument.defaultView as Window
  const live = new Map<Element, Live>()
  // Loaded after the join (a lazy chunk): the hooks mount now.
  let started = root.classList.contains(CLASS_CONNECTED)
  let observer: MutationObserver
  const each = (name: Callback): void => { for (const h of live.values()) call(h, name) }

  /** Destroys the hooks whose element left (or changed its hook), mounts the new ones; returns those. */
  const scan = (): Set<Live> => {
    const fresh = new Set<Live>()
    for (const [el, h] of live) {
      if (!root.contains(el) || el.getAttribute(HOOK) !== h[0]) {
        live.delete(el)
        call(h, 'destroyed')
      }
    }
    for (const el of root.querySelectorAll(`[${HOOK}]`)) {
      const name = el.getAttribute(HOOK) as string
      const def = win.lvHooks?.[name]
      if (live.has(el) || !def) continue
      const on: Live[2] = []
      const h: Live = [name, Object.assign(Object.create(def) as Hook, {
        el,
        pushEvent: (event: string, params: Params = {}) => new Promise((resolve, reject) => {
          push(el, event, params, undefined, undefined, (value, error) => { error ? reject(error) : resolve(value) })
        }),
        // Commands run on the hook's element (`this.js().show('#menu')`): each call at once.
        js: () => {
          const cmds: object = new Proxy({}, {
            // Not a thenable (`await this.js()…` would wait forever), nor anything but a command.
            get: (_, k) => typeof k !== 'string' || k === 'then' ? undefined : (...a: unknown[]) => {
              exec(el, [k as string, a], (event, value, target, loading) => { push(el, event, value ?? {}, undefined, undefined, undefined, [undefined, target, loading]) })
              return cmds
            }
          })
          return cmds
        },
        handleEvent: (event: string, cb: (payload: unknown) => void) => {
          const l: Live[2][number] = [event, cb]
          on.push(l)
          return () => { on.splice(on.indexOf(l) >>> 0, 1) }
        }
      }), on]
      live.set(el, h)
      fresh.add(h)
      call(h, 'mounted')
    }
    return fresh
  }

  if (started) scan()
  root.addEventListener(DOM_CONNECTED, () => {
    if (started) each('reconnected')
    else scan()
    started = true
  })
  root.addEventListener(DOM_DISCONNECTED, () => { each('disconnected') })
  root.addEventListener(DOM_EVENT, e => {
    const { event, payload } = (e as CustomEvent<{ event: string, payload: unknown }>).detail
    for (const [, , on] of [...live.values()]) for (const [name, cb] of [...on]) if (name === event) cb(payload)
  })

  return update => {
    if (!started) return update()
    // The page's own constructor (a test DOM may not put it on globalThis).
    observer ||= new (win as unknown as typeof globalThis).MutationObserver(() => {})
    observer.observe(root, { subtree: true, childList: true, attributes: true, characterData: true })
    const r = update()
    const records = observer.takeRecords()
    observer.disconnect()
    const fresh = scan()
    const changed = new Set<Live>()
    for (const { target } of records) {
      for (let n: Node | null = target; n && n !== root; n = n.parentNode) {
        const h = live.get(n as Element)
        if (h && !fresh.has(h)) changed.add(h)
      }
    }
    for (const h of changed) call(h, 'updated')
    return r
  }
}

export type Reply = (value: unknown, error?: ErrorPayload) => void

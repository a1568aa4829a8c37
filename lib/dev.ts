import { watch } from 'node:fs'
import type { Runtime } from './runtime.js'
import type { Session } from './session/actor.js'

// The development loop: a template saved under the views root re-renders every open page
// over its socket, state kept (templates are read again on each render outside production).
// Never started in production.

/** How long after the last change the pages re-render (an editor's save is often several writes). */
const SETTLE_MS = 40

/**
 * Watches the views root; on a change to an `.eta` file, every joined session renders again
 * (its components too) and sends the difference. Returns what stops it.
 */
export function watchTemplates (rt: Runtime): () => void {
  let timer: ReturnType<typeof setTimeout> | undefined
  const again = (): void => {
    rt.log.info('live view templates changed: open pages render again')
    for (const handle of rt.sessions) {
      const s = handle as Session
      const mounted = s.mounted
      if (mounted === undefined || !s.joined) continue
      mounted.components?.touchAll()
      s.postRender(mounted)
    }
  }
  let watcher: ReturnType<typeof watch>
  try {
    watcher = watch(rt.options.root, { recursive: true }, (_event, file) => {
      if (file !== null && !String(file).endsWith('.eta')) return
      clearTimeout(timer)
      timer = setTimeout(again, SETTLE_MS)
    })
  } catch (err) {
    rt.log.warn({ err }, 'live view templates cannot be watched: edited templates show on the next render only')
    return () => {}
  }
  watcher.on('error', (err) => { rt.log.warn({ err }, 'live view template watcher failed') })
  watcher.unref()
  return () => {
    clearTimeout(timer)
    watcher.close()
  }
}

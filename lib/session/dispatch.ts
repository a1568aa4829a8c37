import type { Session } from './actor.js'
import { componentUpdate, settleAsync } from './component-run.js'
import type { Message } from './messages.js'
import { join, navigate } from './navigation.js'
import { event, flush, step, sync, urlChange } from './run.js'
import { uploadDeclare, uploadProgress } from './upload-run.js'

/** Runs one message of a session's mailbox (the actor's `run`, which answers whatever throws here). */
export function dispatch (s: Session, m: Message): void | Promise<void> {
  switch (m.kind) {
    case 'join': return join(s, m.ref, m.payload)
    case 'event': return event(s, m.ref, m.mount, m.name, m.params, m.cid, m.used)
    case 'async': return m.to === s.mounted && s.state === 'joined' ? settleAsync(s, m.to, m.task, m.result) : undefined
    case 'update': return m.to === s.mounted && s.state === 'joined' ? componentUpdate(s, m.to, m.Component, m.id, m.props) : undefined
    case 'render': return m.to === s.mounted && s.state === 'joined' ? step(s, 0, m.to, 'upload progress', false, noop) : undefined
    case 'upload': return uploadDeclare(s, m.ref, m.mount, m.name, m.files, m.cid)
    case 'progress': return uploadProgress(s, m.ref, m.mount, m.entry, m.progress)
    case 'sync': return sync(s, m.ref)
    case 'url': return urlChange(s, m.ref, m.url)
    case 'goto': {
      if (m.to !== s.mounted || s.state !== 'joined') return
      const match = m.navigate ? s.rt.registry.match(m.url) : undefined
      // A navigation remounts (even within the route) and carries the flash, as from a handler.
      return match !== undefined ? navigate(s, 0, m.url, match, m.to.flash) : urlChange(s, 0, m.url.href)
    }
    case 'info': {
      if (m.timer !== undefined) m.timer.waiting = false
      const to = m.to
      if (to !== s.mounted || s.state !== 'joined') return
      if (to.view.handleInfo === undefined) {
        s.log.warn({ view: to.entry.name }, 'live view got a server message but has no handleInfo')
        return
      }
      return step(s, 0, to, 'handleInfo', false, () => to.view.handleInfo!(m.msg))
    }
    case 'flush': return m.to === s.mounted && s.dirty ? flush(s, m.to) : undefined
  }
}

const noop = (): void => {}

import type { FastifyBaseLogger, FastifyRequest } from 'fastify'
import type { ComponentId, LiveComponentClass } from '../component.js'
import type { AsyncResult } from '../async-result.js'
import type { Task } from './async.js'
import type { Timer } from './effects.js'
import type { MountedView } from './mounted.js'

/** What a connected mounted view asks of its session (the actor). */
export interface Host {
  readonly id: string
  readonly request: FastifyRequest
  readonly log: FastifyBaseLogger
  /** Queues a server message for `to`'s handleInfo. */
  post: (to: MountedView, msg: unknown, timer?: Timer) => boolean
  /** Sends a frame for `to` outside any message (when `to` is the view the page shows). */
  sendFor: (to: MountedView, frame: string) => boolean
  /** A URL change the view asked for outside any message (a patch, or a navigation): a message of its own. */
  changeUrl: (to: MountedView, url: URL, navigate: boolean) => void
  /** A redirect the view asked for outside any message. */
  redirectNow: (to: MountedView, url: URL) => void
  /** Resolves once the client has read what is queued (or `signal` aborts, or the session ends). */
  drained: (signal: AbortSignal) => Promise<void>
  /** Queues the result of a settled async task of `to`. */
  postAsync: (to: MountedView, task: Task, result: AsyncResult<unknown>) => boolean
  /** Queues `sendUpdate(Component, id, props)` for one of `to`'s components. */
  postUpdate: (to: MountedView, Component: LiveComponentClass, id: ComponentId, props: object) => boolean
  /** Queues a render of `to` (its uploads' progress changed). */
  postRender: (to: MountedView) => boolean
  /** Notes an upload entry that ended; with `ask`, whether `ref` did (the last 64 are kept). */
  uploadEnded: (ref: string, ask?: boolean) => boolean
  /** The session key of the app's session data. */
  readonly key: string | undefined
  /** The checks of a live mount of `url`: throws when refused; false when the page's language would change. */
  authorize: (url: URL) => Promise<boolean>
}

import type { ComponentId, LiveComponentClass } from '../component.js'
import type { ClientMessage } from '../frames.js'
import type { AsyncResult } from '../async-result.js'
import type { Task } from './async.js'
import type { Timer } from './effects.js'
import type { MountedView } from './mounted.js'

/**
 * What carries a session's frames. The session knows nothing else of its connection:
 * a WebSocket, the testing API or a benchmark feed it frames and take its replies.
 */
export interface Transport {
  /** Sends one frame (JSON text). */
  send (frame: string): void
  /** Bytes sent but not yet taken by the client; above `coalesceBytes` server-initiated updates wait. */
  backlog (): number
  /** Ends the connection with a WebSocket close code and a reason (an error code). */
  close (code: number, reason: string): void
  /** Told once the session has joined. */
  joined? (): void
}

export type Message =
  | ClientMessage
  | { kind: 'info', msg: unknown, to: MountedView, timer?: Timer | undefined }
  | { kind: 'flush', to: MountedView }
  /** A URL change the view asked for outside any message (pushPatch, or pushNavigate). */
  | { kind: 'goto', to: MountedView, url: URL, navigate: boolean }
  /** A settled async task of `to` (`assignAsync`, `startAsync`). */
  | { kind: 'async', to: MountedView, task: Task, result: AsyncResult<unknown> }
  /** `sendUpdate` of one of `to`'s components. */
  | { kind: 'update', to: MountedView, Component: LiveComponentClass, id: ComponentId, props: object }
  /** A render of `to` its uploads' progress asked for. */
  | { kind: 'render', to: MountedView }

export type State = 'new' | 'joining' | 'joined' | 'closing' | 'closed'

/** How often a session waiting for a slow client to catch up checks its backlog. */
export const FLUSH_POLL_MS = 25

/** The ref a client frame starts with, read without parsing it (0 when there is none). */
export function leadingRef (text: string): number {
  const m = /^\s*\[\s*(\d{1,15})\s*,/.exec(text.length > 40 ? text.slice(0, 40) : text)
  return m === null ? 0 : Number(m[1])
}


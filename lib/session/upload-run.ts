import { errors, type CodedError } from '../errors.js'
import { ackFrame, decodeChunk } from '../frames.js'
import type { UploadFile } from '../protocol.js'
import type { Session } from './actor.js'
import { step } from './run.js'
import { QUIET } from './uploads.js'

// Upload messages for the view the page shows: declarations, external progress, chunks.

/** The client declares files for an upload of the mounted view: checked, granted, rendered. */
export function uploadDeclare (s: Session, ref: number, mount: number, name: string, files: UploadFile[], cid?: number): void | Promise<void> {
  const mounted = s.mounted
  if (s.state !== 'joined' || mounted === undefined) return s.sendError(ref, new errors.JOIN_REQUIRED())
  if (mount !== mounted.id) return s.refuse(ref, new errors.EVENT_STALE(`upload ${name}`, mount, mounted.id))
  const uploads = mounted.uploads
  // A component's upload (the input is inside its root): it renders alone, as for its events.
  const inst = cid === undefined ? undefined : mounted.components?.byCid(cid)
  if (cid !== undefined && inst === undefined) return s.refuse(ref, new errors.TARGET_UNKNOWN(`upload '${name.slice(0, 64)}'`, `no component has lv-cid ${cid} (removed since?)`))
  const owner = inst === undefined ? `view ${mounted.entry.name}` : `component ${inst.label}`
  if (uploads === undefined || !uploads.has(name, cid)) return s.refuse(ref, new errors.UPLOAD_UNKNOWN(`'${name.slice(0, 64)}' (${owner} does not allow it)`))
  return step(s, ref, mounted, 'upload', false, async () => await uploads.declare(name, files, cid), undefined, inst)
}

/** An external upload's progress as the client reports it (100: it says it is done; the view's `verify` decides). */
export function uploadProgress (s: Session, ref: number, mount: number, entry: string, progress: number): void | Promise<void> {
  const mounted = s.mounted
  if (s.state !== 'joined' || mounted === undefined) return s.sendError(ref, new errors.JOIN_REQUIRED())
  if (mount !== mounted.id) return s.refuse(ref, new errors.EVENT_STALE('upload progress', mount, mounted.id))
  const uploads = mounted.uploads
  if (uploads === undefined || !uploads.external(entry)) return s.refuse(ref, new errors.UPLOAD_UNKNOWN(entry.slice(0, 64)))
  return step(s, ref, mounted, 'upload progress', false, async () => { await uploads.progress(entry, progress) })
}

/** A binary frame: a chunk for an entry of the mounted view. Returns the error for one it refused. */
export function chunk (s: Session, data: Uint8Array): CodedError | typeof QUIET | undefined {
  const c = decodeChunk(data)
  if (c === undefined) return new errors.FRAME_MALFORMED('a binary frame that is not an upload chunk')
  const uploads = s.mounted?.uploads
  if (uploads?.knows(c.ref) === true) return uploads.chunk(c.ref, c.offset, c.data)
  // No such entry here: the client stops sending it; one that ended lately (cancelled,
  // consumed, the page navigated on) is answered quietly.
  s.transport.send(ackFrame(c.ref, -1))
  return s.uploadEnded(c.ref, true) ? QUIET : new errors.UPLOAD_UNKNOWN(c.ref)
}

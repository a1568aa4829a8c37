/**
 * The one home of the wire format: every frame the server, the testing transport and the
 * browser client send is built here, and every frame they receive is read here. Like
 * protocol.ts, this module is free of Node and DOM imports (the client bundles it).
 *
 * Server frames are built as strings: a value or patch already serialised once is spliced
 * in, never serialised twice.
 */
import {
  CHUNK_KIND, OP_ERROR, OP_EVENT, OP_HTML, OP_JOIN, OP_MOUNT, OP_OK, OP_PATCH, OP_PATCH_URL, OP_PUSH, OP_REDIRECT, OP_SYNC, OP_TITLE, OP_UPLOAD,
  OP_UPLOAD_ACK, OP_UPLOAD_PROGRESS, OP_URL, type ClientFrame, type ErrorPayload, type JoinPayload, type MountPayload, type ServerFrame, OP_STREAM,
  type StreamOp, type UploadFile, MAX_USED, MAX_USED_NAME } from './protocol.js'

// ---------------------------------------------------------------------------------------
// Client → server

/** A client frame as the server reads it, checked field by field. */
export type ClientMessage =
  | { kind: 'join', ref: number, payload: JoinPayload }
  | { kind: 'event', ref: number, mount: number, name: string, params: Record<string, unknown>, cid?: number, used?: string[] }
  | { kind: 'sync', ref: number }
  | { kind: 'url', ref: number, url: string }
  | { kind: 'upload', ref: number, mount: number, name: string, files: UploadFile[], cid?: number }
  | { kind: 'progress', ref: number, mount: number, entry: string, progress: number }

/** A frame the server cannot take: why, and the ref to answer (0 when it had none). */
export interface BadFrame { kind: 'bad', ref: number, detail: string, deep?: true, join?: true }

/** Longest URL a join or a patch frame may carry. */
const MAX_URL = 8192

/** Encodes a client frame. */
export function encodeClient (frame: ClientFrame): string { return JSON.stringify(frame) }

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v)

/**
 * True when `value` nests arrays and objects deeper than `max` (`{}` is one level, `{ a: [] }`
 * two). Iterative: deep input cannot overflow the stack here.
 */
export function deeperThan (value: unknown, max: number): boolean {
  if (value === null || typeof value !== 'object') return false
  const stack: unknown[] = [value]
  const depths: number[] = [1]
  while (stack.length > 0) {
    const v = stack.pop() as object
    const d = depths.pop() as number
    if (d > max) return true
    for (const child of Array.isArray(v) ? v : Object.values(v)) {
      if (child !== null && typeof child === 'object') {
        stack.push(child)
        depths.push(d + 1)
      }
    }
  }
  return false
}

/**
 * Reads one inbound frame's text: a checked message, or what is wrong with it. Never
 * throws. `maxDepth` bounds how deep params may nest.
 */
export function decodeClient (text: string, maxDepth: number): ClientMessage | BadFrame {
  let frame: unknown
  try {
    frame = JSON.parse(text)
  } catch {
    return { kind: 'bad', ref: 0, detail: 'not JSON' }
  }
  if (!Array.isArray(frame) || frame.length < 2) return { kind: 'bad', ref: 0, detail: 'expected [ref, op, ...]' }
  const ref = frame[0] as unknown
  if (typeof ref !== 'number' || !Number.isSafeInteger(ref) || ref <= 0) return { kind: 'bad', ref: 0, detail: 'ref must be a positive integer' }
  const op = frame[1] as unknown
  if (op === OP_EVENT) {
    const [, , mount, name, params = {}, cid, used] = frame as unknown[]
    if (typeof mount !== 'number' || !Number.isSafeInteger(mount) || typeof name !== 'string' || !isObject(params) || frame.length > 7 ||
      (cid != null && (typeof cid !== 'number' || !Number.isSafeInteger(cid) || cid < 0)) ||
      (used !== undefined && (!Array.isArray(used) || used.length > MAX_USED || !used.every((u) => typeof u === 'string' && u.length <= MAX_USED_NAME)))) {
      return { kind: 'bad', ref, detail: `expected [ref, "e", mount, name, params, cid?, used?] (used: at most ${MAX_USED} field names)` }
    }
    if (deeperThan(params, maxDepth)) return { kind: 'bad', ref, detail: `params nest deeper than ${maxDepth} levels`, deep: true }
    const m: ClientMessage = { kind: 'event', ref, mount, name, params }
    if (cid != null) m.cid = cid as number
    if (used !== undefined) m.used = used as string[]
    return m
  }
  if (op === OP_JOIN) {
    const p = frame[2] as unknown
    if (!isObject(p) || typeof p.url !== 'string' || p.url.length > MAX_URL || (p.pristine !== undefined && typeof p.pristine !== 'boolean')) {
      return { kind: 'bad', ref, detail: 'expected [ref, "join", { v, token, url, pristine }]', join: true }
    }
    return { kind: 'join', ref, payload: { v: p.v as number, token: p.token as string, url: p.url, pristine: p.pristine === true } }
  }
  if (op === OP_SYNC) return { kind: 'sync', ref }
  if (op === OP_PATCH_URL) {
    const url = frame[2] as unknown
    if (typeof url !== 'string' || url.length > MAX_URL) return { kind: 'bad', ref, detail: 'expected [ref, "patch", url]' }
    return { kind: 'url', ref, url }
  }
  if (op === OP_UPLOAD) return decodeUpload(frame, ref)
  if (op === OP_UPLOAD_PROGRESS) {
    const [, , mount, entry, progress] = frame as unknown[]
    if (typeof mount !== 'number' || !Number.isSafeInteger(mount) || typeof entry !== 'string' || entry.length > MAX_REF ||
      typeof progress !== 'number' || !(progress >= -1 && progress <= 100) || frame.length > 5) {
      return { kind: 'bad', ref, detail: 'expected [ref, "up", mount, entryRef, progress 0-100 (-1: failed)]' }
    }
    return { kind: 'progress', ref, mount, entry, progress }
  }
  return { kind: 'bad', ref, detail: `unknown op ${JSON.stringify(op)}` }
}

/** Longest entry ref (the server's are 22 characters). */
const MAX_REF = 64
/** Most files one declaration may carry. */
const MAX_FILES = 100

function decodeUpload (frame: unknown[], ref: number): ClientMessage | BadFrame {
  const [, , mount, name, files, cid] = frame
  const bad: BadFrame = { kind: 'bad', ref, detail: 'expected [ref, "u", mount, name, [[clientName, type, size, resumeRef?], ...], cid?]' }
  if (typeof mount !== 'number' || !Number.isSafeInteger(mount) || typeof name !== 'string' || name.length > 256 || !Array.isArray(files) ||
    files.length > MAX_FILES || frame.length > 6 || (cid !== undefined && (typeof cid !== 'number' || !Number.isSafeInteger(cid) || cid < 0))) return bad
  for (const f of files as unknown[]) {
    if (!Array.isArray(f) || f.length < 3 || f.length > 4) return bad
    const [n, t, size, resume] = f as unknown[]
    if (typeof n !== 'string' || n.length > 1024 || typeof t !== 'string' || t.length > 256 || typeof size !== 'number' ||
      !Number.isSafeInteger(size) || size < 0 || (resume !== undefined && (typeof resume !== 'string' || resume.length > MAX_REF))) return bad
  }
  const m = { kind: 'upload' as const, ref, mount, name, files: files as UploadFile[] }
  return cid === undefined ? m : { ...m, cid }
}

/** Bytes before a chunk's data: kind, ref length, ref (at most MAX_REF), offset. */
export const CHUNK_OVERHEAD = 2 + MAX_REF + 8

/** A binary chunk frame: `[CHUNK_KIND, ref length, ref (ASCII), offset (float64 BE), data]`. */
export function encodeChunk (ref: string, offset: number, data: Uint8Array): Uint8Array {
  const head = 2 + ref.length
  const out = new Uint8Array(head + 8 + data.byteLength)
  out[0] = CHUNK_KIND
  out[1] = ref.length
  for (let i = 0; i < ref.length; i++) out[2 + i] = ref.charCodeAt(i) & 0x7f
  new DataView(out.buffer).setFloat64(head, offset)
  out.set(data, head + 8)
  return out
}

/** Reads a binary chunk frame; undefined when it is not one (a wrong kind, a short header, a bad offset). */
export function decodeChunk (buf: Uint8Array): { ref: string, offset: number, data: Uint8Array } | undefined {
  if (buf.byteLength < 10 || buf[0] !== CHUNK_KIND) return undefined
  const len = buf[1] as number
  if (len === 0 || len > MAX_REF || buf.byteLength < 2 + len + 8) return undefined
  let ref = ''
  for (let i = 0; i < len; i++) {
    const c = buf[2 + i] as number
    // The server's refs are base64url.
    if (!((c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 45 || c === 95)) return undefined
    ref += String.fromCharCode(c)
  }
  const offset = new DataView(buf.buffer, buf.byteOffset + 2 + len, 8).getFloat64(0)
  if (!Number.isSafeInteger(offset) || offset < 0) return undefined
  return { ref, offset, data: buf.subarray(2 + len + 8) }
}

// ---------------------------------------------------------------------------------------
// Server → client. `value` and `patch` arguments are JSON text already.

const tail = (value: string | undefined): string => value === undefined ? ']' : `,${value}]`

export const okFrame = (ref: number, version: number, value?: string): string => `[${ref},"${OP_OK}",${version}${tail(value)}`
export const patchFrame = (ref: number, version: number, patch: string, value?: string): string => `[${ref},"${OP_PATCH}",${version},${patch}${tail(value)}`
export const htmlFrame = (ref: number, version: number, html: string, value?: string): string => `[${ref},"${OP_HTML}",${version},${JSON.stringify(html)}${tail(value)}`
export const errorFrame = (ref: number, error: ErrorPayload): string => JSON.stringify([ref, OP_ERROR, error])
export const mountFrame = (ref: number, mount: MountPayload): string => JSON.stringify([ref, OP_MOUNT, mount])
/** Throws when `payload` is not JSON-serialisable. */
export const pushFrame = (event: string, payload: unknown): string => `[0,"${OP_PUSH}",${JSON.stringify(event)},${JSON.stringify(payload ?? null)}]`
export const urlFrame = (url: string, token: string): string => JSON.stringify([0, OP_URL, url, token])
export const titleFrame = (title: string): string => JSON.stringify([0, OP_TITLE, title])
export const streamFrame = (ops: StreamOp[]): string => JSON.stringify([0, OP_STREAM, ops])
export const ackFrame = (entry: string, received: number): string => JSON.stringify([0, OP_UPLOAD_ACK, entry, received])
export const redirectFrame = (url: string, flash?: string): string => JSON.stringify(flash === undefined ? [0, OP_REDIRECT, url] : [0, OP_REDIRECT, url, flash])

/** Reads a server frame (the client and the testing transport). */
export function decodeServer (text: string): ServerFrame {
  return JSON.parse(text) as ServerFrame
}

/** The ref of a server frame's text, without parsing the rest. */
export function refOf (text: string): number {
  return Number(text.slice(1, text.indexOf(',')))
}

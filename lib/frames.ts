/**
 * The one home of the wire format: every frame the server, the testing transport and the
 * browser client send is built here, and every frame they receive is read here. Like
 * protocol.ts, this module is free of Node and DOM imports (the client bundles it).
 *
 * Server frames are built as strings: a value or patch already serialised once is spliced
 * in, never serialised twice.
 */
import {
  OP_ERROR, OP_EVENT, OP_HTML, OP_JOIN, OP_MOUNT, OP_OK, OP_PATCH, OP_PATCH_URL, OP_PUSH, OP_REDIRECT, OP_SYNC, OP_TITLE, OP_URL,
  type ClientFrame, type ErrorPayload, type JoinPayload, type MountPayload, type ServerFrame, OP_STREAM, type StreamOp } from './protocol.js'

// ---------------------------------------------------------------------------------------
// Client → server

/** A client frame as the server reads it, checked field by field. */
export type ClientMessage =
  | { kind: 'join', ref: number, payload: JoinPayload }
  | { kind: 'event', ref: number, mount: number, name: string, params: Record<string, unknown>, cid?: number }
  | { kind: 'sync', ref: number }
  | { kind: 'url', ref: number, url: string }

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
    const [, , mount, name, params = {}, cid] = frame as unknown[]
    if (typeof mount !== 'number' || !Number.isSafeInteger(mount) || typeof name !== 'string' || !isObject(params) || frame.length > 6 ||
      (cid !== undefined && (typeof cid !== 'number' || !Number.isSafeInteger(cid) || cid < 0))) {
      return { kind: 'bad', ref, detail: 'expected [ref, "e", mount, name, params, cid?]' }
    }
    if (deeperThan(params, maxDepth)) return { kind: 'bad', ref, detail: `params nest deeper than ${maxDepth} levels`, deep: true }
    return cid === undefined ? { kind: 'event', ref, mount, name, params } : { kind: 'event', ref, mount, name, params, cid }
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
  return { kind: 'bad', ref, detail: `unknown op ${JSON.stringify(op)}` }
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
export const redirectFrame = (url: string, flash?: string): string => JSON.stringify(flash === undefined ? [0, OP_REDIRECT, url] : [0, OP_REDIRECT, url, flash])

/** Reads a server frame (the client and the testing transport). */
export function decodeServer (text: string): ServerFrame {
  return JSON.parse(text) as ServerFrame
}

/** The ref of a server frame's text, without parsing the rest. */
export function refOf (text: string): number {
  return Number(text.slice(1, text.indexOf(',')))
}

import { randomBytes } from 'node:crypto'

/** The per-process part of every mark: no page text has it (and `<%= %>` escapes U+E000). */
const NONCE = randomBytes(6).toString('hex')

/**
 * What `it.component(…)` outputs in a template: a mark the render is split at, replaced by
 * the component's HTML. Private-use characters and a per-process nonce: no page text has it.
 */
export const MARK = `\uE000lvc${NONCE}\uE000`

/** What `it.streams.name` outputs: replaced by the stream's items on the HTTP render, by nothing once connected. */
export const streamMark = (name: string): string => `\uE000lvs${NONCE}:${name}\uE000`

/** Finds every stream mark (group 1: the stream's name). */
export const STREAM_MARKS = new RegExp(`\\uE000lvs${NONCE}:([^\\uE000]*)\\uE000`, 'g')

/** A stream mark escaped by `<%= %>` (so not found): its start as the escaped output has it. */
export const ESCAPED_STREAM_MARK = `&#xE000;lvs${NONCE}:`

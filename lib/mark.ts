import { randomBytes } from 'node:crypto'

/**
 * What `it.component(…)` outputs in a template: a mark the render is split at, replaced by
 * the component's HTML. Private-use characters and a per-process nonce: no page text has it.
 */
export const MARK = `\uE000lvc${randomBytes(6).toString('hex')}\uE000`

/**
 * HTML escaping for `<%= %>`, memoised.
 *
 * A page re-renders the same strings on every event (a list's texts, labels, ids): most
 * interpolations of a render were escaped in the render before. Short strings are kept in
 * two generations of a map (the newer one is replaced when full, so a string used in every
 * render stays while one-off strings age out); a hit costs a hash lookup instead of a scan
 * of the text. The memo is process-wide and holds nothing a session owns beyond the text
 * itself, which escaping maps the same way for everyone.
 */
// U+E000 too: it starts the mark `it.component()` outputs (see mark.ts), which escaped text can never hold.
const REPLACEMENT: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;', '\uE000': '&#xE000;' }
const SPECIAL = /[&<>"'\uE000]/g
/** Strings longer than this are escaped without the memo (a hit would save little, and a miss keeps a big string alive). */
const MEMO_MAX_LENGTH = 256
/** Entries per generation. */
const GENERATION = 2048

let young = new Map<string, string>()
let old = new Map<string, string>()

/** `text` with `&<>"'` replaced by their references; `text` itself when it has none. */
export function escapeText (text: string): string {
  SPECIAL.lastIndex = 0
  let match = SPECIAL.exec(text)
  if (match === null) return text
  let out = ''
  let last = 0
  do {
    out += text.slice(last, match.index) + (REPLACEMENT[match[0]] as string)
    last = match.index + 1
  } while ((match = SPECIAL.exec(text)) !== null)
  return out + text.slice(last)
}

/** Eta's `escapeFunction`: numbers directly, short strings through the memo. */
export function escapeHtml (value: unknown): string {
  if (typeof value === 'number') return String(value)
  const text = String(value)
  if (text.length > MEMO_MAX_LENGTH) return escapeText(text)
  let escaped = young.get(text)
  if (escaped !== undefined) return escaped
  escaped = old.get(text) ?? escapeText(text)
  young.set(text, escaped)
  if (young.size >= GENERATION) {
    old = young
    young = new Map()
  }
  return escaped
}

/** Empties the memo (for measurements: it is process-wide, bounded, and holds no session's state). */
export function clearEscapeMemo (): void {
  young = new Map()
  old = new Map()
}

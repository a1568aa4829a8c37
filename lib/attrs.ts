import { decodeHTML, decodeHTMLAttribute } from 'entities'

/**
 * The attributes of an HTML start tag (`<tag …>` or `<tag …/>`) as the HTML tokenizer reads
 * them: names lowercased, the first of duplicates kept, values decoded. Undefined for text
 * the caller should hand to the full parser instead (carriage returns or NULs, which the
 * parser's input stream rewrites).
 */
export function attributesOf (tag: string): Map<string, string> | undefined {
  if (tag.includes('\r') || tag.includes('\0')) return undefined
  const out = new Map<string, string>()
  const len = tag.length
  let i = 1
  while (i < len && !isSpace(tag.charCodeAt(i)) && tag.charCodeAt(i) !== 47 && tag.charCodeAt(i) !== 62) i++
  for (;;) {
    while (i < len && (isSpace(tag.charCodeAt(i)) || tag.charCodeAt(i) === 47)) i++
    if (i >= len || tag.charCodeAt(i) === 62) return out
    // A name runs to white space, '/', '>' or '=' (a leading '=' belongs to it).
    const nameStart = i
    i++
    while (i < len) {
      const c = tag.charCodeAt(i)
      if (isSpace(c) || c === 47 || c === 62 || c === 61) break
      i++
    }
    const name = tag.slice(nameStart, i).toLowerCase()
    while (i < len && isSpace(tag.charCodeAt(i))) i++
    let value = ''
    if (tag.charCodeAt(i) === 61) {
      i++
      while (i < len && isSpace(tag.charCodeAt(i))) i++
      const q = tag.charCodeAt(i)
      if (q === 34 || q === 39) {
        const end = tag.indexOf(q === 34 ? '"' : "'", i + 1)
        if (end === -1) return undefined
        value = tag.slice(i + 1, end)
        i = end + 1
      } else {
        const start = i
        while (i < len && !isSpace(tag.charCodeAt(i)) && tag.charCodeAt(i) !== 62) i++
        value = tag.slice(start, i)
      }
      if (value.includes('&')) value = decodeHTMLAttribute(value)
    }
    if (!out.has(name)) out.set(name, value)
  }
}

/** Text content as the parser reads it; undefined when only the parser can tell (CR, NUL). */
export function textOf (raw: string): string | undefined {
  if (raw.includes('\r') || raw.includes('\0')) return undefined
  return raw.includes('&') ? decodeHTML(raw) : raw
}

const isSpace = (c: number): boolean => c === 32 || c === 10 || c === 9 || c === 12 || c === 13

/**
 * When two start tags differ only inside one double-quoted attribute value (the common
 * case: a class, an aria state, a count), that attribute's name and new value, read
 * without tokenizing either tag; undefined otherwise (tokenize both).
 */
export function oneValueChanged (before: string, after: string): [string, string] | undefined {
  if (before.includes("'") || after.includes("'") || before.includes('&') || after.includes('&') || before.includes('\r') || after.includes('\r') || before.includes('\0') || after.includes('\0')) return undefined
  let p = 0
  const min = Math.min(before.length, after.length)
  while (p < min && before.charCodeAt(p) === after.charCodeAt(p)) p++
  let s = 0
  while (s < min - p && before.charCodeAt(before.length - 1 - s) === after.charCodeAt(after.length - 1 - s)) s++
  // Inside a double-quoted value: an odd number of quotes before the change.
  let quotes = 0
  for (let i = before.indexOf('"'); i !== -1 && i < p; i = before.indexOf('"', i + 1)) quotes++
  if (quotes % 2 === 0) return undefined
  const open = before.lastIndexOf('"', p - 1)
  const closeBefore = before.indexOf('"', p)
  const closeAfter = after.indexOf('"', p)
  // The closing quote lies in the common end of both: nothing else changed.
  if (closeBefore < before.length - s || closeAfter < after.length - s) return undefined
  let e = open - 1
  while (e > 0 && isSpace(before.charCodeAt(e))) e--
  if (before.charCodeAt(e) !== 61) return undefined
  e--
  while (e > 0 && isSpace(before.charCodeAt(e))) e--
  let n = e
  while (n > 0 && !isSpace(before.charCodeAt(n - 1)) && before.charCodeAt(n - 1) !== 34 && before.charCodeAt(n - 1) !== 47) n--
  const name = before.slice(n, e + 1).toLowerCase()
  // A name that shows earlier may be a duplicate (the first one wins): tokenize instead.
  if (name === '' || !isSpace(before.charCodeAt(n - 1)) || before.toLowerCase().lastIndexOf(name, n - 1) !== -1) return undefined
  return [name, after.slice(open + 1, closeAfter)]
}

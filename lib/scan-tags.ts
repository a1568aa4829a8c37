// The HTML parser's tag tables as the structural scan (scan.ts) needs them, and the
// small readers it uses: where a start tag ends, white space, letters.
import type { IndexSink } from './tree-index.js'
export const VOID = new Set(['area', 'base', 'br', 'col', 'embed', 'hr', 'img', 'input', 'link', 'meta', 'param', 'source', 'track', 'wbr', 'keygen'])
export const RAW = new Set(['script', 'style', 'xmp', 'iframe', 'noembed', 'noframes', 'noscript', 'textarea', 'title'])
// Tags whose mere presence means the parser rewrites something.
export const REFUSED = new Set(['html', 'head', 'body', 'frameset', 'frame', 'template', 'image', 'isindex', 'plaintext', 'nobr', 'math'])
// Tags that close an open <p> (the parser's "close a p element in button scope").
export const CLOSES_P = new Set(['address', 'article', 'aside', 'blockquote', 'center', 'details', 'dialog', 'dir', 'div', 'dl', 'fieldset',
  'figcaption', 'figure', 'footer', 'form', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'header', 'hgroup', 'hr', 'main', 'menu', 'nav', 'ol',
  'p', 'pre', 'listing', 'search', 'section', 'summary', 'table', 'ul', 'xmp', 'li', 'dd', 'dt'])
export const SCOPE = new Set(['applet', 'caption', 'html', 'table', 'td', 'th', 'marquee', 'object', 'template', 'button', 'svg'])
export const HEADING = new Set(['h1', 'h2', 'h3', 'h4', 'h5', 'h6'])
// What may stand directly in table parts; anything else is foster-parented.
export const TABLE_CHILDREN = new Map<string, Set<string>>(Object.entries({
  table: new Set(['caption', 'colgroup', 'thead', 'tbody', 'tfoot', 'script', 'style']),
  thead: new Set(['tr', 'script', 'style']),
  tbody: new Set(['tr', 'script', 'style']),
  tfoot: new Set(['tr', 'script', 'style']),
  tr: new Set(['td', 'th', 'script', 'style']),
  colgroup: new Set(['col']),
  select: new Set(['option', 'optgroup', 'hr']),
  optgroup: new Set(['option']),
  option: new Set<string>([])
}))
export const NEEDS_PARENT = new Map<string, Set<string>>(Object.entries({
  tr: new Set(['thead', 'tbody', 'tfoot']),
  td: new Set(['tr']),
  th: new Set(['tr']),
  thead: new Set(['table']),
  tbody: new Set(['table']),
  tfoot: new Set(['table']),
  caption: new Set(['table']),
  colgroup: new Set(['table']),
  col: new Set(['colgroup'])
}))
// HTML tags that end SVG content when met inside it.
export const BREAKS_SVG = new Set(['b', 'big', 'blockquote', 'body', 'br', 'center', 'code', 'dd', 'div', 'dl', 'dt', 'em', 'embed', 'h1', 'h2',
  'h3', 'h4', 'h5', 'h6', 'head', 'hr', 'i', 'img', 'li', 'listing', 'menu', 'meta', 'nobr', 'ol', 'p', 'pre', 'ruby', 's', 'small',
  'span', 'strong', 'strike', 'sub', 'sup', 'table', 'tt', 'u', 'ul', 'var', 'font'])

// The parser's "special" elements: an implied end of li/dd/dt stops at them.
export const SPECIAL = new Set(['address', 'applet', 'area', 'article', 'aside', 'base', 'blockquote', 'body', 'br', 'button', 'caption',
  'center', 'col', 'colgroup', 'dd', 'details', 'dir', 'div', 'dl', 'dt', 'embed', 'fieldset', 'figcaption', 'figure', 'footer', 'form',
  'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'header', 'hgroup', 'hr', 'html', 'iframe', 'img', 'input', 'li', 'link', 'listing', 'main',
  'marquee', 'menu', 'meta', 'nav', 'noembed', 'noframes', 'noscript', 'object', 'ol', 'p', 'param', 'plaintext', 'pre', 'script',
  'search', 'section', 'select', 'source', 'style', 'summary', 'table', 'tbody', 'td', 'template', 'textarea', 'tfoot', 'th', 'thead',
  'title', 'tr', 'track', 'ul', 'wbr', 'xmp', 'svg'])

// Every tag name the scan knows, interned, with its rules as bits: a start tag is
// recognised by a hash of its name computed while reading it, with no string made.
export const F_VOID = 1
export const F_RAW = 2
export const F_REFUSED = 4
export const F_CLOSES_P = 8
export const F_HEADING = 16
export const F_SPECIAL = 32
export const F_SCOPE = 64
export const F_BREAKS_SVG = 128

export interface TagInfo { name: string, flags: number, children?: Set<string>, parents?: Set<string> }

export const TAGS = new Map<number, TagInfo>()
export function hashName (name: string): number {
  let h = 0
  for (let k = 0; k < name.length; k++) h = (Math.imul(h, 31) + name.charCodeAt(k)) | 0
  return h
}
/** The entry of `name`, made if need be (a hash collision between known names fails at load). */
export function tag (name: string): TagInfo {
  const h = hashName(name)
  const info = TAGS.get(h) ?? { name, flags: 0 }
  if (info.name !== name) throw new Error(`tag hash collision: ${name} ${info.name}`)
  TAGS.set(h, info)
  return info
}
for (const [set, flag] of [[VOID, F_VOID], [RAW, F_RAW], [REFUSED, F_REFUSED], [CLOSES_P, F_CLOSES_P], [HEADING, F_HEADING],
  [SCOPE, F_SCOPE], [BREAKS_SVG, F_BREAKS_SVG], [SPECIAL, F_SPECIAL]] as Array<[Set<string>, number]>) {
  for (const name of set) tag(name).flags |= flag
}
for (const name of ['span', 'a', 'b', 'i', 'em', 'strong', 'small', 'label', 'input', 'button', 'select', 'option', 'optgroup',
  'textarea', 'tr', 'td', 'th', 'thead', 'tbody', 'tfoot', 'caption', 'colgroup', 'col', 'img', 'svg', 'g', 'path', 'circle', 'rect',
  'line', 'text', 'code', 'time', 'abbr', 'mark', 'sup', 'sub', 'output', 'progress', 'meter', 'picture', 'video', 'audio',
  'canvas', 'slot', 'data', 'q', 'cite', 'kbd', 'samp', 'var', 'u', 's', 'del', 'ins', 'dfn', 'bdi', 'bdo', 'ruby', 'rb', 'rt',
  'rp', 'rtc', 'legend', 'datalist', 'map', 'object', 'applet', 'marquee', 'iframe']) tag(name)
for (const [name, children] of TABLE_CHILDREN) tag(name).children = children
for (const [name, parents] of NEEDS_PARENT) tag(name).parents = parents

export interface Frame {
  name: string
  ns: number
  /** Children read so far. */
  children: number
  ignored: boolean
  /** Children the parser keeps in place here (table parts, select), when it is that strict. */
  allowed?: Set<string> | undefined
  /** Its node in the index being built (-1: none, or the element a fragment is the content of). */
  slot: number
}

/** A frame for an element already open where a scan starts (the ancestors of a fragment). */
export function frameOf (name: string, ns: number, ignored: boolean, children = 0): Frame {
  const info = TAGS.get(hashName(name))
  const allowed = ns === 0 && info?.name === name ? info.children : undefined
  return { name, ns, children, ignored, allowed, slot: -1 }
}

/** How a scan runs (all optional). */
export interface ScanOptions {
  /** False when the render has no `lv-update` at all (saves a search). Default: true */
  ignorable?: boolean
  /** Record every node into this index. */
  index?: IndexSink | undefined
  /** Scan only [start, end) as the content of the elements `stack` (outermost first). */
  fragment?: { stack: Frame[], start: number, end: number } | undefined
}

export function isWhitespace (html: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const c = html.charCodeAt(i)
    if (c !== 32 && c !== 10 && c !== 9 && c !== 13 && c !== 12) return false
  }
  return true
}

export function hasUpper (s: string): boolean {
  for (let k = 0; k < s.length; k++) {
    const c = s.charCodeAt(k)
    if (c >= 65 && c <= 90) return true
  }
  return false
}

export const isLetter = (c: number): boolean => (c >= 97 && c <= 122) || (c >= 65 && c <= 90)

/**
 * Finds the ends of start tags (the offset after `>`), minding quoted attribute values, with
 * native searches only. The next quote of each kind is remembered, so the whole render
 * costs one pass however few quotes it has.
 */
export class TagEnds {
  readonly #html: string
  #dq = -2
  #sq = -2

  constructor (html: string) { this.#html = html }

  #next (quote: 34 | 39, from: number): number {
    if (quote === 34) {
      if (this.#dq !== -1 && this.#dq < from) this.#dq = this.#html.indexOf('"', from)
      return this.#dq
    }
    if (this.#sq !== -1 && this.#sq < from) this.#sq = this.#html.indexOf("'", from)
    return this.#sq
  }

  end (from: number): number {
    const html = this.#html
    let at = from
    for (;;) {
      const gt = html.indexOf('>', at)
      if (gt === -1) return -1
      const dq = this.#next(34, at)
      const sq = this.#next(39, at)
      const q = dq === -1 ? sq : sq === -1 ? dq : Math.min(dq, sq)
      if (q === -1 || q > gt) return gt + 1
      // A quote opens a value only right after `name=`; elsewhere (in a name, in an unquoted
      // value) it is a character like others, and the tag is one the scan leaves alone.
      if (!opensValue(html, from, q)) return -1
      // A quoted value holds the '>': skip past its closing quote.
      const close = html.indexOf(q === dq ? '"' : "'", q + 1)
      if (close === -1) return -1
      at = close + 1
    }
  }
}

const isSpace = (c: number): boolean => c === 32 || c === 10 || c === 9 || c === 13 || c === 12
const isSpaceOrQuote = (c: number): boolean => isSpace(c) || c === 34 || c === 39

/**
 * Whether the character at `at` (no white space nor quote, in a start tag whose attributes
 * start at `from`) is in an unquoted attribute value: its run, back to the white space or
 * quote before it, holds a `=`, or that white space follows one (`a= b`).
 */
export function inUnquotedValue (html: string, from: number, at: number): boolean {
  let k = at
  for (; k >= from && !isSpaceOrQuote(html.charCodeAt(k)); k--) if (html.charCodeAt(k) === 61) return true
  while (k >= from && isSpace(html.charCodeAt(k))) k--
  return k >= from && html.charCodeAt(k) === 61
}

/** Whether the `=` before `at` (a quote) separates an attribute's name from its value. */
export const opensValue = (html: string, from: number, at: number): boolean =>
  html.charCodeAt(at - 1) === 61 && at - 2 >= from && !isSpaceOrQuote(html.charCodeAt(at - 2)) && !inUnquotedValue(html, from, at - 2)

/** Whether a `/` right before a tag's `>` (at `at`) ends an unquoted value rather than closing the tag. */
export const slashInValue = (html: string, from: number, at: number): boolean =>
  at - 1 >= from && !isSpaceOrQuote(html.charCodeAt(at - 1)) && inUnquotedValue(html, from, at - 1)

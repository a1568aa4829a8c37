import { COMMENT, ELEMENT, TEXT, type IndexSink } from './tree-index.js'
import {
  SCOPE, HEADING, SPECIAL, F_VOID, F_RAW, F_REFUSED, F_CLOSES_P, F_HEADING, F_BREAKS_SVG, TAGS, tag, isWhitespace, isLetter, TagEnds, frameOf, slashInValue,
  type Frame, type ScanOptions, type TagInfo
} from './scan-tags.js'
import { MAX_DEPTH } from './html-tree.js'

export { frameOf, type Frame, type ScanOptions }

/**
 * A structural scan of rendered HTML: it hops from tag to tag (native `indexOf`), keeps the
 * stack of open elements and counts child nodes as the HTML parser would build them, so
 * that a change between two renders can be located (its element and route) and re-parsed
 * alone. It parses nothing else: attributes, entities and text are left to parse5.
 *
 * Markup the HTML parser would restructure (implied or misnested tags, table foster
 * parenting, `<template>`, unclosed elements…) makes the scan give up: it returns
 * undefined, and the caller diffs whole trees instead. Giving up is always safe.
 */

/**
 * Scans `html` (the inner HTML of the live root), or a fragment of it in the context of the
 * elements around it, checking the markup is one the scan understands and recording every
 * node into an index (see tree-index.ts) when given one.
 */
export class Scanner {
  readonly #html: string
  readonly #len: number
  readonly #index: IndexSink | undefined
  readonly #baseDepth: number
  readonly #fragment: boolean
  readonly #ignoreAt: number[] = []
  #ignoreNext = 0
  readonly #tags: TagEnds
  #stack: Frame[]
  #top: Frame
  readonly #from: number

  constructor (html: string, options: ScanOptions = {}) {
    const { ignorable = true, index, fragment } = options
    this.#html = html
    this.#len = fragment?.end ?? html.length
    this.#index = index
    const searchFrom = fragment?.start ?? 0
    if (ignorable) {
      for (let k = html.indexOf('lv-update', searchFrom); k !== -1 && k < this.#len; k = html.indexOf('lv-update', k + 9)) this.#ignoreAt.push(k)
    }
    this.#tags = new TagEnds(html)
    if (fragment !== undefined) {
      this.#stack = fragment.stack
    } else {
      this.#stack = [frameOf('', 0, false)]
      this.#stack[0]!.slot = index?.add(ELEMENT, 0, 0, html.length, -1, 0, '', 0, false) ?? -1
    }
    this.#from = fragment?.start ?? 0
    this.#baseDepth = fragment?.stack.length ?? 1
    this.#fragment = fragment !== undefined
    this.#top = this.#stack[this.#stack.length - 1] as Frame
  }

  /** A child of the current element is complete. */
  #child (): void {
    this.#top.children++
  }

  /**
   * Text from `from` to `to`: a node. False for text the parser moves (out of a table part:
   * foster parenting), for text of NULs only (the parser drops it all: no node, while the
   * index needs every character in a node) and for NULs in foreign content, where parse5
   * reads a run of them as one U+FFFD.
   */
  #text (from: number, to: number): boolean {
    const html = this.#html
    const top = this.#top
    if (top.allowed !== undefined && top.name !== 'option' && !isWhitespace(html, from, to)) return false
    if (top.ns !== 0) {
      if (html.slice(from, to).includes('\0')) return false
    } else if (html.charCodeAt(from) === 0) {
      let k = from
      while (k < to && html.charCodeAt(k) === 0) k++
      if (k === to) return false
    }
    this.#leaf(TEXT, from, from, to)
    return true
  }

  /** A node with no children of its own: text, a comment, a void element. */
  #leaf (kind: number, s: number, contentStart: number, e: number, name = '', ns = 0, ignored = false): void {
    const top = this.#top
    this.#index?.add(kind, s, contentStart, e, top.slot, top.children, name, ns, ignored)
    this.#child()
  }

  #close (frame: Frame, closeStart: number, closeEnd: number): void {
    if (this.#index !== undefined) this.#index.close(frame.slot, closeStart, closeEnd)
    const stack = this.#stack
    stack.pop()
    this.#top = stack[stack.length - 1] as Frame
    this.#child()
  }

  /** Scans to the end: 'done', or 'refused' for markup the scan does not understand (diff whole trees instead). */
  run (): 'done' | 'refused' {
    const html = this.#html
    const len = this.#len
    const stack = this.#stack
    let i = this.#from
    let textStart = -1
    while (i < len) {
      let lt = html.indexOf('<', i)
      if (lt >= len) lt = -1
      const stop = lt === -1 ? len : lt
      if (stop > i && textStart === -1) textStart = i
      if (lt === -1) break
      const c = html.charCodeAt(lt + 1)
      if (!(isLetter(c) || c === 47 || c === 33 || c === 63)) {
        // a lone '<' is text
        if (textStart === -1) textStart = lt
        i = lt + 1
        continue
      }
      let top = this.#top
      if (textStart !== -1) {
        if (!this.#text(textStart, lt)) return 'refused'
        textStart = -1
      }
      if (c === 33) {
        if (!html.startsWith('<!--', lt) || html.startsWith('<!-->', lt) || html.startsWith('<!--->', lt)) return 'refused'
        const endComment = html.indexOf('-->', lt + 4)
        if (endComment === -1) return 'refused'
        if (endComment + 3 > len) return 'refused'
        // `--!>` ends a comment too.
        if (html.slice(lt + 4, endComment + 1).includes('--!>')) return 'refused'
        this.#leaf(COMMENT, lt, lt, endComment + 3)
        i = endComment + 3
        continue
      }
      if (c === 63) return 'refused'
      if (c === 47) {
        // an end tag
        const gt = html.indexOf('>', lt)
        if (gt === -1) return 'refused'
        // The end tag must close the current element: compare in place, no new string.
        const n = top.name.length
        const after = html.charCodeAt(lt + 2 + n)
        if (stack.length === this.#baseDepth || !(after === 62 || after === 32 || after === 10 || after === 9 || after === 13 || after === 12 || after === 47)) return 'refused'
        if (!html.startsWith(top.name, lt + 2) && html.slice(lt + 2, lt + 2 + n).toLowerCase() !== top.name) return 'refused'
        this.#close(top, lt, gt + 1)
        i = gt + 1
        continue
      }
      // a start tag
      let j = lt + 1
      let h = 0
      let upper = false
      while (j < len) {
        let d = html.charCodeAt(j)
        if (d === 32 || d === 62 || d === 47 || d === 10 || d === 9 || d === 13 || d === 12) break
        if (d >= 65 && d <= 90) { upper = true; d += 32 }
        h = (Math.imul(h, 31) + d) | 0
        j++
      }
      const known = TAGS.get(h)
      let name: string
      let flags = 0
      let info: TagInfo | undefined
      if (known !== undefined && j - lt - 1 === known.name.length && (upper || html.startsWith(known.name, lt + 1)) &&
        (!upper || html.slice(lt + 1, j).toLowerCase() === known.name)) {
        name = known.name
        flags = known.flags
        info = known
      } else {
        name = html.slice(lt + 1, j)
        if (top.ns === 0 && upper) name = name.toLowerCase()
      }
      if (top.ns !== 0 && upper) name = html.slice(lt + 1, j)
      const gt = this.#tags.end(j)
      if (gt === -1 || gt > len) return 'refused'
      let ns = top.ns
      if (ns === 0) {
        if ((flags & F_REFUSED) !== 0) return 'refused'
        if (top.allowed !== undefined && !top.allowed.has(name)) return 'refused'
        if (info?.parents !== undefined && !info.parents.has(top.name)) return 'refused'
        if ((flags & F_HEADING) !== 0 && HEADING.has(top.name)) return 'refused'
        if (top.name === 'p' && (flags & F_CLOSES_P) !== 0) return 'refused'
        if (!nestingOk(stack, name, flags)) return 'refused'
        if (name === 'svg') ns = 1
      } else if (ns === 1) {
        if ((flags & F_BREAKS_SVG) !== 0) return 'refused'
        if (top.name === 'foreignObject' || top.name === 'desc' || top.name === 'title') return 'refused'
      }
      let ignored = false
      const ignoreAt = this.#ignoreAt
      while (this.#ignoreNext < ignoreAt.length && (ignoreAt[this.#ignoreNext] as number) < lt) this.#ignoreNext++
      if (this.#ignoreNext < ignoreAt.length && (ignoreAt[this.#ignoreNext] as number) < gt) {
        ignored = /\slv-update\s*=\s*["']?ignore\b/.test(html.slice(lt, gt))
      }
      const selfClosing = html.charCodeAt(gt - 2) === 47
      // `/>` closes a foreign element, unless the `/` ends an unquoted value (`r=5/>`).
      if (ns !== 0 && selfClosing && slashInValue(html, j, gt - 2)) return 'refused'
      if ((ns === 0 && (flags & F_VOID) !== 0) || (ns !== 0 && selfClosing)) {
        this.#leaf(ELEMENT, lt, gt, gt, name, ns, ignored)
        i = gt
        continue
      }
      const slot = this.#index?.add(ELEMENT, lt, gt, gt, top.slot, top.children, name, ns, ignored) ?? -1
      const frame: Frame = { name, ns, children: 0, ignored, allowed: ns === 0 ? info?.children : undefined, slot }
      if (ns === 0 && (flags & F_RAW) !== 0) {
        // Raw text up to the end tag: one text child at most.
        const endTag = findEndTag(html, gt, name)
        if (endTag === -1) return 'refused'
        stack.push(frame)
        this.#top = frame
        // The parser drops a newline (LF, CR LF or CR) right after <textarea>.
        const textFrom = name === 'textarea' ? gt + newline(html, gt) : gt
        if (endTag > textFrom) this.#leaf(TEXT, textFrom, textFrom, endTag)
        const endGt = html.indexOf('>', endTag)
        if (endGt === -1 || endGt >= len) return 'refused'
        this.#close(frame, endTag, endGt + 1)
        i = endGt + 1
        continue
      }
      if (stack.push(frame) > MAX_DEPTH) return 'refused'
      this.#top = top = frame
      i = gt
      const nl = name === 'pre' || name === 'listing' ? newline(html, gt) : 0
      // The parser drops a newline right after <pre>: if that was all the text, no text node.
      if (nl > 0 && html.indexOf('<', gt) === gt + nl) i = gt + nl
    }
    if (textStart !== -1 && !this.#text(textStart, len)) return 'refused'
    if (stack.length !== this.#baseDepth) return 'refused'
    if (!this.#fragment && this.#index !== undefined) this.#index.close(0, len, len)
    return 'done'
  }
}

/** Scans a whole render into `index`; false when the scan does not understand it. */
export function scan (html: string, index?: IndexSink): boolean {
  return new Scanner(html, { index }).run() === 'done'
}

/** The length of the newline at `at`: LF or CR 1, CR LF 2 (the parser reads both as LF), else 0. */
function newline (html: string, at: number): number {
  const c = html.charCodeAt(at)
  return c === 10 ? 1 : c === 13 ? (html.charCodeAt(at + 1) === 10 ? 2 : 1) : 0
}

function findEndTag (html: string, from: number, name: string): number {
  for (let at = html.indexOf('</', from); at !== -1; at = html.indexOf('</', at + 2)) {
    if (html.slice(at + 2, at + 2 + name.length).toLowerCase() !== name) continue
    const c = html.charCodeAt(at + 2 + name.length)
    if (c === 62 || c === 32 || c === 47 || c === 10 || c === 9 || c === 13 || c === 12) return at
  }
  return -1
}

// Nesting the parser undoes: a, form, button, li, dd/dt, option and ruby parts in their like.
function nestingOk (stack: Frame[], name: string, flags: number): boolean {
  const top = stack[stack.length - 1] as Frame
  if (name === 'a' || name === 'form') return !stack.some((f) => f.name === name)
  if (name === 'button') return !inScope(stack, 'button')
  if (name === 'li') return !impliedEnd(stack, ['li'])
  if (name === 'dd' || name === 'dt') return !impliedEnd(stack, ['dd', 'dt'])
  if (name === 'option' || name === 'optgroup') return top.name !== 'option'
  if (name === 'rb' || name === 'rt' || name === 'rp' || name === 'rtc') return !['rb', 'rt', 'rp', 'rtc'].includes(top.name)
  if ((flags & F_CLOSES_P) !== 0) return !inScope(stack, 'p')
  return true
}

function inScope (stack: Frame[], name: string): boolean {
  for (let k = stack.length - 1; k > 0; k--) {
    const f = stack[k] as Frame
    if (f.name === name) return true
    if (SCOPE.has(f.name)) return false
  }
  return false
}

// An open li (dd, dt) that a new one would close: found before a special element other than address, div, p.
function impliedEnd (stack: Frame[], names: string[]): boolean {
  for (let k = stack.length - 1; k > 0; k--) {
    const f = stack[k] as Frame
    if (names.includes(f.name)) return true
    if (SPECIAL.has(f.name) && f.name !== 'address' && f.name !== 'div' && f.name !== 'p') return false
  }
  return false
}

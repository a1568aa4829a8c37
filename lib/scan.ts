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

/** An element whose content holds a change. */
export interface ChangeSite {
  /** Offset of its start tag (-1 for the root): the same element in two renders that share the text before the change. */
  tagStart: number
  /** Child-index route from the live root to the element ([] for the root itself). */
  route: number[]
  /** Tag name (lower case); '' for the root. */
  name: string
  /** 0 HTML, 1 SVG, 2 MathML. */
  ns: number
  /** Children of the element wholly before the change. */
  before: number
  /** Offset where the changed children start (the end of the last child before). */
  start: number
  /** Offset (in the scanned render) where the changed children end. */
  end: number
  /** The element or one around it has `lv-update="ignore"`: the client owns it. */
  ignored: boolean
}

const VOID = new Set(['area', 'base', 'br', 'col', 'embed', 'hr', 'img', 'input', 'link', 'meta', 'param', 'source', 'track', 'wbr', 'keygen'])
const RAW = new Set(['script', 'style', 'xmp', 'iframe', 'noembed', 'noframes', 'noscript', 'textarea', 'title'])
// Tags whose mere presence means the parser rewrites something.
const REFUSED = new Set(['html', 'head', 'body', 'frameset', 'frame', 'template', 'image', 'isindex', 'plaintext', 'nobr', 'math'])
// Tags that close an open <p> (the parser's "close a p element in button scope").
const CLOSES_P = new Set(['address', 'article', 'aside', 'blockquote', 'center', 'details', 'dialog', 'dir', 'div', 'dl', 'fieldset',
  'figcaption', 'figure', 'footer', 'form', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'header', 'hgroup', 'hr', 'main', 'menu', 'nav', 'ol',
  'p', 'pre', 'listing', 'search', 'section', 'summary', 'table', 'ul', 'xmp', 'li', 'dd', 'dt'])
const SCOPE = new Set(['applet', 'caption', 'html', 'table', 'td', 'th', 'marquee', 'object', 'template', 'button', 'svg'])
const HEADING = new Set(['h1', 'h2', 'h3', 'h4', 'h5', 'h6'])
// What may stand directly in table parts; anything else is foster-parented.
const TABLE_CHILDREN: Record<string, Set<string>> = {
  table: new Set(['caption', 'colgroup', 'thead', 'tbody', 'tfoot', 'script', 'style']),
  thead: new Set(['tr', 'script', 'style']),
  tbody: new Set(['tr', 'script', 'style']),
  tfoot: new Set(['tr', 'script', 'style']),
  tr: new Set(['td', 'th', 'script', 'style']),
  colgroup: new Set(['col']),
  select: new Set(['option', 'optgroup', 'hr']),
  optgroup: new Set(['option']),
  option: new Set([])
}
const NEEDS_PARENT: Record<string, Set<string>> = {
  tr: new Set(['thead', 'tbody', 'tfoot']),
  td: new Set(['tr']),
  th: new Set(['tr']),
  thead: new Set(['table']),
  tbody: new Set(['table']),
  tfoot: new Set(['table']),
  caption: new Set(['table']),
  colgroup: new Set(['table']),
  col: new Set(['colgroup'])
}
// HTML tags that end SVG content when met inside it.
const BREAKS_SVG = new Set(['b', 'big', 'blockquote', 'body', 'br', 'center', 'code', 'dd', 'div', 'dl', 'dt', 'em', 'embed', 'h1', 'h2',
  'h3', 'h4', 'h5', 'h6', 'head', 'hr', 'i', 'img', 'li', 'listing', 'menu', 'meta', 'nobr', 'ol', 'p', 'pre', 'ruby', 's', 'small',
  'span', 'strong', 'strike', 'sub', 'sup', 'table', 'tt', 'u', 'ul', 'var', 'font'])

interface Frame {
  name: string
  ns: number
  /** Child index of this element in its parent. */
  index: number
  /** Offset of its start tag's `<`, and after its `>`. */
  tagStart: number
  contentStart: number
  children: number
  /** Children wholly before the change, and where the changed ones start. */
  before: number
  start: number
  /** Where the first child wholly after the change starts (-1: none yet). */
  end: number
  ignored: boolean
}

function isWhitespace (html: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const c = html.charCodeAt(i)
    if (c !== 32 && c !== 10 && c !== 9 && c !== 13 && c !== 12) return false
  }
  return true
}

const isLetter = (c: number): boolean => (c >= 97 && c <= 122) || (c >= 65 && c <= 90)

/** End of a start tag (the offset after its `>`), minding quoted attribute values. */
function tagEnd (html: string, from: number): number {
  let quote = 0
  for (let i = from; i < html.length; i++) {
    const c = html.charCodeAt(i)
    if (quote !== 0) {
      if (c === quote) quote = 0
    } else if (c === 62) {
      return i + 1
    } else if ((c === 34 || c === 39) && html.charCodeAt(i - 1) === 61) {
      quote = c
    } else if ((c === 34 || c === 39)) {
      // a quote after `=` and spaces
      let j = i - 1
      while (j > from && (html.charCodeAt(j) === 32 || html.charCodeAt(j) === 10 || html.charCodeAt(j) === 9)) j--
      if (html.charCodeAt(j) === 61) quote = c
    }
  }
  return -1
}

/**
 * Scans `html` (the inner HTML of the live root). With `changeStart`/`changeEnd` (the
 * changed span, as offsets in `html`), returns the elements that hold the change,
 * innermost first, the root last; with -1, only checks that the markup is one the scan
 * understands (an empty list). Undefined when it is not.
 */
export function scan (html: string, changeStart: number, changeEnd: number): ChangeSite[] | undefined {
  const len = html.length
  const ignoreAt: number[] = []
  for (let i = html.indexOf('lv-update'); i !== -1; i = html.indexOf('lv-update', i + 9)) ignoreAt.push(i)
  let ignoreNext = 0
  const root: Frame = { name: '', ns: 0, index: 0, tagStart: 0, contentStart: 0, children: 0, before: 0, start: 0, end: -1, ignored: false }
  const stack: Frame[] = [root]
  let top = root
  // Elements holding the change, innermost first.
  const sites: ChangeSite[] = []

  // A child of `top` spanning [s, e) is complete. A text node only counts as unchanged when
  // a tag bounds it inside the unchanged part: at the edge, the old render's text may run on.
  const child = (s: number, e: number, text = false): void => {
    top.children++
    if (changeStart < 0) return
    if (text ? e < changeStart : e <= changeStart) {
      top.before = top.children
      top.start = e
    } else if ((text ? s > changeEnd : s >= changeEnd) && top.end === -1) {
      top.end = s
    }
  }
  const close = (frame: Frame, closeStart: number, closeEnd: number): void => {
    if (changeStart >= 0 && frame.contentStart <= changeStart && closeStart >= changeEnd) {
      sites.push({
        tagStart: frame.tagStart,
        route: stack.slice(1).map((f) => f.index),
        name: frame.name,
        ns: frame.ns,
        before: frame.before,
        start: frame.before === 0 ? frame.contentStart : frame.start,
        end: frame.end === -1 ? closeStart : frame.end,
        ignored: stack.some((f) => f.ignored)
      })
    }
    stack.pop()
    top = stack[stack.length - 1] as Frame
    child(frame.tagStart, closeEnd)
  }

  let i = 0
  let textStart = -1
  while (i < len) {
    const lt = html.indexOf('<', i)
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
    if (textStart !== -1) {
      if (top.ns === 0 && TABLE_CHILDREN[top.name] !== undefined && !isWhitespace(html, textStart, lt) && top.name !== 'option') return undefined
      child(textStart, lt, true)
      textStart = -1
    }
    if (c === 33) {
      if (!html.startsWith('<!--', lt) || html.startsWith('<!-->', lt) || html.startsWith('<!--->', lt)) return undefined
      const endComment = html.indexOf('-->', lt + 4)
      if (endComment === -1) return undefined
      child(lt, endComment + 3)
      i = endComment + 3
      continue
    }
    if (c === 63) return undefined
    if (c === 47) {
      // an end tag
      const gt = html.indexOf('>', lt)
      if (gt === -1) return undefined
      let j = lt + 2
      while (j < gt) {
        const d = html.charCodeAt(j)
        if (d === 32 || d === 47 || d === 10 || d === 9 || d === 13 || d === 12) break
        j++
      }
      const closing = html.slice(lt + 2, j)
      const name = top.ns === 0 ? closing.toLowerCase() : closing
      if (name === '' || name !== top.name || stack.length === 1) return undefined
      close(top, lt, gt + 1)
      i = gt + 1
      continue
    }
    // a start tag
    let j = lt + 1
    while (j < len) {
      const d = html.charCodeAt(j)
      if (d === 32 || d === 62 || d === 47 || d === 10 || d === 9 || d === 13 || d === 12) break
      j++
    }
    const rawName = html.slice(lt + 1, j)
    const name = top.ns === 0 ? rawName.toLowerCase() : rawName
    const gt = tagEnd(html, j)
    if (gt === -1) return undefined
    let ns = top.ns
    if (ns === 0) {
      if (REFUSED.has(name)) return undefined
      const allowed = TABLE_CHILDREN[top.name]
      if (allowed !== undefined && !allowed.has(name)) return undefined
      const parents = NEEDS_PARENT[name]
      if (parents !== undefined && !parents.has(top.name)) return undefined
      if (HEADING.has(name) && HEADING.has(top.name)) return undefined
      if (top.name === 'p' && CLOSES_P.has(name)) return undefined
      if (!nestingOk(stack, name)) return undefined
      if (name === 'svg') ns = 1
    } else if (ns === 1) {
      const lower = name.toLowerCase()
      if (BREAKS_SVG.has(lower) || lower === 'font') return undefined
      if (top.name === 'foreignObject' || top.name === 'desc' || top.name === 'title') return undefined
    }
    let ignored = false
    while (ignoreNext < ignoreAt.length && (ignoreAt[ignoreNext] as number) < lt) ignoreNext++
    if (ignoreNext < ignoreAt.length && (ignoreAt[ignoreNext] as number) < gt) {
      ignored = /\slv-update\s*=\s*["']?ignore\b/.test(html.slice(lt, gt))
    }
    const selfClosing = html.charCodeAt(gt - 2) === 47
    if ((ns === 0 && VOID.has(name)) || (ns !== 0 && selfClosing)) {
      child(lt, gt)
      i = gt
      continue
    }
    const frame: Frame = { name, ns, index: top.children, tagStart: lt, contentStart: gt, children: 0, before: 0, start: gt, end: -1, ignored }
    if (ns === 0 && RAW.has(name)) {
      // Raw text up to the end tag: one text child at most.
      const endTag = findEndTag(html, gt, name)
      if (endTag === -1) return undefined
      stack.push(frame)
      top = frame
      let textFrom = gt
      if (name === 'textarea' && html.charCodeAt(gt) === 10) textFrom++
      if (endTag > textFrom) child(textFrom, endTag, true)
      const endGt = html.indexOf('>', endTag)
      close(frame, endTag, endGt + 1)
      i = endGt + 1
      continue
    }
    stack.push(frame)
    top = frame
    i = gt
    if ((name === 'pre' || name === 'listing') && html.charCodeAt(gt) === 10) {
      // The parser drops a newline right after <pre>: if that was all the text, no text node.
      const next = html.indexOf('<', gt)
      if (next === gt + 1) i = gt + 1
    }
  }
  if (textStart !== -1) child(textStart, len, true)
  if (stack.length !== 1) return undefined
  if (changeStart >= 0) sites.push({
    tagStart: -1,
    route: [],
    name: '',
    ns: 0,
    before: root.before,
    start: root.before === 0 ? 0 : root.start,
    end: root.end === -1 ? len : root.end,
    ignored: false
  })
  return sites
}

function findEndTag (html: string, from: number, name: string): number {
  for (let at = html.indexOf('</', from); at !== -1; at = html.indexOf('</', at + 2)) {
    if (html.slice(at + 2, at + 2 + name.length).toLowerCase() !== name) continue
    const c = html.charCodeAt(at + 2 + name.length)
    if (c === 62 || c === 32 || c === 47 || c === 10 || c === 9 || c === 13 || c === 12) return at
  }
  return -1
}

// The parser's "special" elements: an implied end of li/dd/dt stops at them.
const SPECIAL = new Set(['address', 'applet', 'area', 'article', 'aside', 'base', 'blockquote', 'body', 'br', 'button', 'caption',
  'center', 'col', 'colgroup', 'dd', 'details', 'dir', 'div', 'dl', 'dt', 'embed', 'fieldset', 'figcaption', 'figure', 'footer', 'form',
  'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'header', 'hgroup', 'hr', 'html', 'iframe', 'img', 'input', 'li', 'link', 'listing', 'main',
  'marquee', 'menu', 'meta', 'nav', 'noembed', 'noframes', 'noscript', 'object', 'ol', 'p', 'param', 'plaintext', 'pre', 'script',
  'search', 'section', 'select', 'source', 'style', 'summary', 'table', 'tbody', 'td', 'template', 'textarea', 'tfoot', 'th', 'thead',
  'title', 'tr', 'track', 'ul', 'wbr', 'xmp', 'svg'])

// Nesting the parser undoes: a, form, button, li, dd/dt, option and ruby parts in their like.
function nestingOk (stack: Frame[], name: string): boolean {
  const top = stack[stack.length - 1] as Frame
  if (name === 'a' || name === 'form') return !stack.some((f) => f.name === name)
  if (name === 'button') return !inScope(stack, 'button')
  if (name === 'li') return !impliedEnd(stack, ['li'])
  if (name === 'dd' || name === 'dt') return !impliedEnd(stack, ['dd', 'dt'])
  if (name === 'option' || name === 'optgroup') return top.name !== 'option'
  if (name === 'rb' || name === 'rt' || name === 'rp' || name === 'rtc') return !['rb', 'rt', 'rp', 'rtc'].includes(top.name)
  if (CLOSES_P.has(name)) return !inScope(stack, 'p')
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

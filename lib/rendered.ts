import { deflateRawSync, inflateRawSync } from 'node:zlib'
import { TreeBuilder, type INode } from './tree-index.js'
import { parseTree, type VNode } from './html-tree.js'
import { scan } from './scan.js'

const SCAN_KNOWN = 1
const SCANNABLE = 2
const IGNORE_KNOWN = 4
const IGNORABLE = 8
// A 4 KiB window and little state: zlib then allocates about 12 KiB a call instead of
// 256 KiB (what the allocator keeps shows in RSS), and a page compresses nearly as well.
const ZLIB = { windowBits: 12, memLevel: 4 }

/**
 * A render's HTML as an idle session keeps it: deflated, as a one-byte string (on the
 * heap, where it is counted). A page is mostly markup and indentation: the counter's 606
 * characters (1,232 bytes as V8 keeps them, two bytes a character once one `−` is in)
 * pack to under 300. The first character says how it was encoded: `8` UTF-8, `6` UTF-16
 * (for HTML with a lone surrogate, which UTF-8 cannot carry).
 */
export function pack (html: string): string {
  const utf16 = !(html as string & { isWellFormed: () => boolean }).isWellFormed()
  return (utf16 ? '6' : '8') + deflateRawSync(Buffer.from(html, utf16 ? 'utf16le' : 'utf8'), ZLIB).toString('latin1')
}

/** The HTML `pack` packed. */
export function unpack (packed: string): string {
  return inflateRawSync(Buffer.from(packed.slice(1), 'latin1'), ZLIB).toString(packed.startsWith('6') ? 'utf16le' : 'utf8')
}


/**
 * A rendered page: its HTML and, computed when first needed, its tree (for whole-tree
 * diffs) or its index (for the next diff, which then needs not read the unchanged text).

 */
export class Rendered {
  #html: string
  #tree: VNode | undefined
  #index: INode | undefined
  #flags = 0

  constructor (html: string) {
    // A template's output is a rope of many pieces: made flat once here, every later
    // comparison and search of it runs at memory speed.
    html.charCodeAt(0)
    this.#html = html
  }

  get html (): string { return this.#html }

  get tree (): VNode {
    this.#tree ??= parseTree(this.html)
    return this.#tree
  }

  /** False when the render has no `lv-update` attribute anywhere. */
  get ignorable (): boolean {
    if ((this.#flags & IGNORE_KNOWN) === 0) this.ignorable = this.html.includes('lv-update')
    return (this.#flags & IGNORABLE) !== 0
  }

  set ignorable (value: boolean) { this.#flags = (this.#flags & ~IGNORABLE) | IGNORE_KNOWN | (value ? IGNORABLE : 0) }

  /** Hands over the index (built by a full scan if need be): the next render's diff updates it in place. */
  takeIndex (): INode | undefined {
    if ((this.#flags & SCAN_KNOWN) === 0) {
      const builder = new TreeBuilder()
      const scannable = scan(this.html, builder)
      this.#index = scannable ? builder.roots[0] : undefined
      this.#flags |= SCAN_KNOWN | (scannable ? SCANNABLE : 0)
    }
    const index = this.#index
    this.#index = undefined
    return index
  }

  giveIndex (index: INode): void {
    this.#index = index
    this.#flags |= SCAN_KNOWN | SCANNABLE
  }
}

import { LiveView, type Params } from '../../plugin.js'
import { firstParam } from './counter.js'

const FRUITS = ['Apple', 'Apricot', 'Banana', 'Blackberry', 'Blueberry', 'Cherry', 'Coconut', 'Cranberry', 'Date', 'Dragonfruit',
  'Elderberry', 'Fig', 'Gooseberry', 'Grape', 'Grapefruit', 'Guava', 'Kiwi', 'Kumquat', 'Lemon', 'Lime', 'Lychee', 'Mango',
  'Melon', 'Mulberry', 'Nectarine', 'Olive', 'Orange', 'Papaya', 'Peach', 'Pear', 'Persimmon', 'Pineapple', 'Plum', 'Pomegranate',
  'Quince', 'Raspberry', 'Redcurrant', 'Strawberry', 'Tangerine', 'Watermelon']
const PER_PAGE = 8

/**
 * `/catalog?letter=B&page=2`: a list paged and filtered by its URL. Links patch the URL
 * (`lv-patch`) and `handleParams` reads it: no remount, and back and forward work.
 */
export class Catalog extends LiveView {
  static template = 'catalog'
  static title = 'Catalog'
  letter = ''
  page = 1

  handleParams (params: Params): void {
    const letter = (firstParam(params.letter) ?? '').toUpperCase()
    this.letter = /^[A-Z]$/.test(letter) ? letter : ''
    const page = Number(firstParam(params.page) ?? 1)
    this.page = Number.isSafeInteger(page) && page > 0 ? page : 1
    this.pageTitle = `Catalog${this.letter === '' ? '' : ` · ${this.letter}`} · page ${this.page}`
  }

  context () {
    const matching = FRUITS.filter((f) => this.letter === '' || f.startsWith(this.letter))
    const pages = Math.max(1, Math.ceil(matching.length / PER_PAGE))
    const page = Math.min(this.page, pages)
    const link = (p: number, letter = this.letter): string => `/catalog?${letter === '' ? '' : `letter=${letter}&`}page=${p}`
    return {
      items: matching.slice((page - 1) * PER_PAGE, page * PER_PAGE),
      page,
      pages,
      letter: this.letter,
      letters: [...new Set(FRUITS.map((f) => f[0] as string))].map((l) => ({ l, href: link(1, l), current: l === this.letter })),
      all: link(1, ''),
      prev: page > 1 ? link(page - 1) : '',
      next: page < pages ? link(page + 1) : ''
    }
  }
}

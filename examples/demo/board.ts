import { LiveComponent, LiveView, defineEvents, html, type DomParams, type Html } from '../../plugin.js'

export type ColumnId = 'todo' | 'doing' | 'done'
export interface CardData { id: number, column: ColumnId, title: string, notes: string }

export const COLUMNS: ReadonlyArray<{ id: ColumnId, title: string }> = [
  { id: 'todo', title: 'To do' },
  { id: 'doing', title: 'Doing' },
  { id: 'done', title: 'Done' }
]

/** What the components tell the board (their `sendParent`). */
export type BoardMessage =
  | { kind: 'add', column: ColumnId, title: string }
  | { kind: 'rename', id: number, title: string }
  | { kind: 'move', id: number, to: ColumnId }

/** A card title's problem, if any (the card editor and the column's add form share it). */
export function titleError (title: string): string | undefined {
  const t = title.trim()
  if (t === '') return 'A card needs a title.'
  if (t.length > 60) return `Keep it under 60 characters (${t.length} now).`
  return undefined
}

/** A function component in TypeScript: its props are checked where it is called from TS. */
export const Badge = (p: { count: number, tone?: 'info' | 'done' }): Html =>
  html`<span class="badge ${p.tone ?? 'info'}" aria-label="${p.count} cards">${p.count}</span>`

const isColumn = (v: unknown): v is ColumnId => COLUMNS.some((c) => c.id === v)

/** A card: shows its title, or edits it inline (its own state and validation), and moves between columns. */
export class Card extends LiveComponent<{ card: CardData }> {
  static template = 'board/card'
  static events = defineEvents<Card>({ edit: true, check: true, save: true, cancel: true, move: true })
  editing = false
  draft = ''
  error = ''

  edit (): void {
    this.editing = true
    this.draft = this.props.card.title
    this.error = ''
  }

  check (params: DomParams): void {
    this.draft = String(params.title ?? '')
    this.error = titleError(this.draft) ?? ''
  }

  save (params: DomParams): void {
    this.check(params)
    if (this.error !== '') return
    this.editing = false
    this.sendParent({ kind: 'rename', id: this.props.card.id, title: this.draft.trim() } satisfies BoardMessage)
  }

  cancel (): void { this.editing = false }

  move (params: DomParams): void {
    if (isColumn(params.to) && params.to !== this.props.card.column) this.sendParent({ kind: 'move', id: this.props.card.id, to: params.to } satisfies BoardMessage)
  }

  context () {
    const { card } = this.props
    return { id: card.id, title: card.title, column: card.column, columns: COLUMNS, editing: this.editing, draft: this.draft, error: this.error }
  }
}

/** A column: its cards (components), a count, and an inline form that adds a card (its own state). */
export class Column extends LiveComponent<{ title: string, cards: CardData[] }> {
  static template = 'board/column'
  static components = { card: Card }
  static events = defineEvents<Column>({ start: true, draft: true, add: true, cancel: true })
  adding = false
  draftTitle = ''
  error = ''

  start (): void {
    this.adding = true
    this.draftTitle = ''
    this.error = ''
  }

  draft (params: DomParams): void {
    this.draftTitle = String(params.title ?? '')
    this.error = titleError(this.draftTitle) ?? ''
  }

  add (params: DomParams): void {
    this.draft(params)
    if (this.error !== '') return
    this.sendParent({ kind: 'add', column: this.props.id as ColumnId, title: this.draftTitle.trim() } satisfies BoardMessage)
    this.draftTitle = ''
  }

  cancel (): void { this.adding = false }

  context () {
    const { id, title, cards } = this.props
    return { id, title, cards, adding: this.adding, draft: this.draftTitle, error: this.error, badge: Badge({ count: cards.length, tone: id === 'done' ? 'done' : 'info' }) }
  }
}

const NOTES_SCHEMA = { type: 'object', properties: { notes: { type: 'string', maxLength: 2000 } }, required: ['notes'] } as const

/**
 * `/board`: a kanban board built from components. Each column and card is a live
 * component with its own state (the add form, the inline editor with its validation);
 * their events re-render only them. The board owns the cards: components tell it what
 * changed (`sendParent`), and it re-renders, which passes new props to the parts that
 * changed. "Details" (a binding without `lv-target`) goes to the board, which opens a
 * modal: an Eta partial with slots.
 */
export class Board extends LiveView {
  static template = 'board/board'
  static title = 'Board'
  static components = { column: Column }
  static events = defineEvents<Board>({ open: true, close: true, notes: { schema: NOTES_SCHEMA } })
  cards: CardData[] = [
    { id: 1, column: 'todo', title: 'Write the README section', notes: '' },
    { id: 2, column: 'todo', title: 'Try components', notes: 'Column and card are live components.' },
    { id: 3, column: 'doing', title: 'Review the diff', notes: '' },
    { id: 4, column: 'done', title: 'Ship protocol 5', notes: '' }
  ]

  nextId = 5
  opened: number | undefined = undefined

  handleInfo (msg: BoardMessage): void {
    if (msg.kind === 'add') {
      this.cards.push({ id: this.nextId++, column: msg.column, title: msg.title, notes: '' })
      return
    }
    const card = this.cards.find((c) => c.id === msg.id)
    if (card === undefined) return
    if (msg.kind === 'rename') card.title = msg.title
    else card.column = msg.to
  }

  open (params: DomParams): void {
    const id = Number(params.id)
    this.opened = this.cards.some((c) => c.id === id) ? id : undefined
  }

  close (): void { this.opened = undefined }

  notes (params: { notes: string }): void {
    const card = this.cards.find((c) => c.id === this.opened)
    if (card !== undefined) card.notes = params.notes.trim()
    this.opened = undefined
    this.putFlash('info', 'Notes saved.')
  }

  context () {
    return {
      columns: COLUMNS.map((c) => ({ ...c, cards: this.cards.filter((card) => card.column === c.id) })),
      opened: this.cards.find((c) => c.id === this.opened),
      total: this.cards.length
    }
  }
}

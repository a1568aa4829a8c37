import { LiveView, defineEvents, type ParamsOf } from '../../plugin.js'

export interface Todo {
  id: number
  text: string
  done: boolean
}

// `lv-value-id` arrives as a string; ajv (coerceTypes) makes it an integer or refuses it.
/** `{ id: number }`: the params of toggle and remove, typed from the schema (ParamsOf). */
const ID_SCHEMA = { type: 'object', properties: { id: { type: 'integer', minimum: 1 } }, required: ['id'] } as const

/** `/todos`: add, toggle and delete items, each keyed by `id="todo-N"`. */
export class Todos extends LiveView {
  static template = 'todos'
  static title = 'Todos'
  static events = defineEvents<Todos>({
    add: { schema: { type: 'object', properties: { text: { type: 'string', maxLength: 200 } }, required: ['text'] } },
    edit: true,
    filter: true,
    toggle: { schema: ID_SCHEMA },
    remove: { schema: ID_SCHEMA }
  })

  todos: Todo[] = [
    { id: 1, text: 'Read the README', done: true },
    { id: 2, text: 'Try the counter', done: false }
  ]

  nextId = 3
  /** The filter field's text: the list shows the items that contain it. */
  query = ''
  /** What the add field holds, so that clearing it after an add is a change the diff sends. */
  draft = ''
  error = ''

  /** `lv-change` on the add form: keeps `draft` in step with the field. */
  edit (params: Record<string, unknown>): void {
    this.draft = typeof params.text === 'string' ? params.text : ''
    if (this.draft.trim() !== '') this.error = ''
  }

  /** `lv-input` with `lv-debounce` on the filter field: narrows the list as the user types. */
  filter (params: Record<string, unknown>): void {
    this.query = typeof params.query === 'string' ? params.query : ''
  }

  add (params: { text: string }): void {
    const text = params.text.trim()
    if (text === '') {
      this.error = 'Please type what there is to do.'
      return
    }
    this.todos.push({ id: this.nextId++, text, done: false })
    this.draft = ''
    this.error = ''
  }

  toggle (params: ParamsOf<typeof ID_SCHEMA>): void {
    const todo = this.todos.find((t) => t.id === params.id)
    if (todo !== undefined) todo.done = !todo.done
  }

  remove (params: ParamsOf<typeof ID_SCHEMA>): void {
    this.todos = this.todos.filter((t) => t.id !== params.id)
  }

  context (): { todos: Todo[], open: number, draft: string, error: string, query: string, total: number } {
    const q = this.query.trim().toLowerCase()
    const shown = q === '' ? this.todos : this.todos.filter((t) => t.text.toLowerCase().includes(q))
    return { todos: shown, open: this.todos.filter((t) => !t.done).length, draft: this.draft, error: this.error, query: this.query, total: this.todos.length }
  }
}

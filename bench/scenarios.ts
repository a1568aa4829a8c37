// The benchmark's scenarios: views written with the plugin's public API, and a harness
// that drives a session in-process (no socket), one event at a time.
import { randomBytes } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify'
import liveview, { LiveComponent, LiveView, defineEvents, type DomParams, type LiveViewOptions, type ParamsOf } from '../plugin.js'
import { kRuntime, type Runtime } from '../lib/runtime.js'
import { Session, type Transport } from '../lib/session/actor.js'
import { PROTOCOL_VERSION } from '../lib/protocol.js'

export const viewsRoot = fileURLToPath(new URL('../../bench/views/', import.meta.url))

export class Counter extends LiveView {
  static template = 'counter'
  static events = defineEvents<Counter>({ inc: true, dec: true, reset: true })
  count = 0
  inc (): void { this.count++ }
  dec (): void { this.count-- }
  reset (): void { this.count = 0 }
  context () { return { count: this.count } }
}

/** Rows `<tr id="row-N">`; each `bump` raises the quantity of the next row in turn. */
export function tableView (size: number): typeof LiveView & { template: string } {
  return class Table extends LiveView {
    static template = 'table'
    static events = defineEvents<Table>({ bump: true, churn: true })
    rows = Array.from({ length: size }, (_, id) => ({ id, qty: 0 }))
    next = 0
    inserted = false
    bump (): void {
      const row = this.rows[this.next % this.rows.length]!
      row.qty++
      this.next++
    }

    /** Inserts a row in the middle, or deletes it again: the table stays at `size` rows. */
    churn (): void {
      const middle = Math.floor(size / 2)
      if (this.inserted) this.rows.splice(middle, 1)
      else this.rows.splice(middle, 0, { id: 100000 + this.next++, qty: 0 })
      this.inserted = !this.inserted
    }

    context () { return { rows: this.rows } }
  }
}

export class List extends LiveView {
  static template = 'list'
  static events = defineEvents<List>({ reverse: true })
  items = Array.from({ length: 200 }, (_, i) => i)
  reverse (): void { this.items.reverse() }
  context () { return { items: this.items } }
}

export class Form extends LiveView {
  static template = 'form'
  static events = defineEvents<Form>({ validate: true })
  fields = Array.from({ length: 20 }, (_, i) => ({ name: `field${i}`, label: `Field ${i}`, value: `value ${i}`, error: '' }))
  turn = 0
  /** Each event changes one field's validation message. */
  validate (): void {
    const field = this.fields[this.turn % this.fields.length]!
    field.error = field.error === '' ? `Field ${this.turn % this.fields.length} looks wrong (${this.turn})` : ''
    this.turn++
  }

  context () { return { fields: this.fields } }
}

/** Issue 13: a row of `ComponentList`, with its own count. */
export class CountRow extends LiveComponent<{ label: string }> {
  static template = 'component_row'
  static events = defineEvents<CountRow>({ inc: true })
  count = 0
  inc (): void { this.count++ }
  context () { return { id: this.props.id, label: this.props.label, count: this.count } }
}

/** 100 row components; the bench clicks each row's `+` in turn (a component event: that row alone renders). */
export class ComponentList extends LiveView {
  static template = 'component_list'
  static components = { row: CountRow }
  rows = Array.from({ length: 100 }, (_, i) => ({ id: i + 1, label: `Row ${i + 1}` }))
  context () { return { rows: this.rows } }
}

/** The counter of issue 11 (as LiveViewJS's benchmark): two adjacent slots change per click, the count and its parity. */
export class CounterTwoSlots extends LiveView {
  static template = 'counter_two_slots'
  static events = defineEvents<CounterTwoSlots>({ inc: true, dec: true })
  count = 0
  inc (): void { this.count++ }
  dec (): void { this.count-- }
  context () { return { count: this.count } }
}

// `lv-value-id` arrives as a string; ajv (coerceTypes) makes it an integer, as in the demo.
const ID_SCHEMA = { type: 'object', properties: { id: { type: 'integer', minimum: 1 } }, required: ['id'] } as const
const TODO_TEXTS = ['Read the README', 'Try the counter', 'Water the plants', 'Answer the mail', 'Book the train', 'Fix the bike', 'Call the bank', 'Write the report']

/**
 * The demo's todo list (examples/demo/todos.ts and its template) with `size` items, `id="todo-N"`.
 * `toggle` flips one item's done class (and its aria-pressed); the open count in the
 * footer, far below, changes with it.
 */
export function todosView (size: number): typeof LiveView & { template: string } {
  return class Todos extends LiveView {
    static template = 'todos'
    // Every binding of the template has its handler (the boot check); the bench sends toggle.
    static events = defineEvents<Todos>({ toggle: { schema: ID_SCHEMA }, remove: { schema: ID_SCHEMA }, add: true, edit: true, filter: true })
    todos = Array.from({ length: size }, (_, i) => ({ id: i + 1, text: `${TODO_TEXTS[i % TODO_TEXTS.length]!} (${i + 1})`, done: i % 3 === 0 }))
    query = ''
    draft = ''
    error = ''
    toggle (params: ParamsOf<typeof ID_SCHEMA>): void {
      const todo = this.todos.find((t) => t.id === params.id)
      if (todo !== undefined) todo.done = !todo.done
    }

    remove (params: ParamsOf<typeof ID_SCHEMA>): void { this.todos = this.todos.filter((t) => t.id !== params.id) }
    add (params: DomParams): void {
      const text = String(params.text ?? '').trim()
      if (text !== '') this.todos.push({ id: this.todos.length + 1, text, done: false })
      this.draft = ''
    }

    edit (params: DomParams): void { this.draft = String(params.text ?? '') }
    filter (params: DomParams): void { this.query = String(params.query ?? '') }

    context () {
      const q = this.query.trim().toLowerCase()
      const shown = q === '' ? this.todos : this.todos.filter((t) => t.text.toLowerCase().includes(q))
      return { todos: shown, open: this.todos.filter((t) => !t.done).length, draft: this.draft, error: this.error, query: this.query, total: this.todos.length }
    }
  }
}

/** The toggles of a `size`-item todo list: item (7i mod size) + 1, so every item is flipped in turn, spread over the list. */
export const toggleParams = (size: number) => (i: number): string => `{"id":"${(i * 7) % size + 1}"}`

const SIGNUP_FIELDS = [
  ['first_name', 'First name', 'text', 'given-name', 'Ada'],
  ['last_name', 'Last name', 'text', 'family-name', 'Lovelace'],
  ['email', 'Email', 'email', 'email', 'ada@example.com'],
  ['username', 'Username', 'text', 'username', 'ada'],
  ['password', 'Password', 'password', 'new-password', 'correct horse'],
  ['phone', 'Phone', 'tel', 'tel', '+44 20 7946 0958'],
  ['street', 'Street', 'text', 'address-line1', '12 St James\'s Square'],
  ['city', 'City', 'text', 'address-level2', 'London'],
  ['postcode', 'Postcode', 'text', 'postal-code', 'SW1Y 4JH'],
  ['country', 'Country', 'text', 'country-name', 'United Kingdom']
] as const

/** What `lv-change` sends for the signup form: every field's value. */
export const SIGNUP_PARAMS = JSON.stringify(Object.fromEntries(SIGNUP_FIELDS.map((f) => [f[0], f[4]])))

/**
 * A signup form of ten fields (label, input with its value, aria-invalid, an error `<p>` per
 * field). Each `validate` (lv-change, with every field's value) sets or clears the error
 * messages of three fields at once: fields g, g+3 and g+6 (mod 10) for g = 0, 1, 2, …
 */
export class SignupForm extends LiveView {
  static template = 'signup'
  static events = defineEvents<SignupForm>({ validate: true, save: true })
  fields = SIGNUP_FIELDS.map(([name, label, type, autocomplete, value]) => ({ name, label, type, autocomplete, value: value as string, error: '' }))
  turn = 0
  save (params: DomParams): void { this.validate(params) }
  validate (params: DomParams): void {
    for (const f of this.fields) {
      const v = params[f.name]
      if (typeof v === 'string') f.value = v
    }
    const g = this.turn++
    for (const k of [0, 3, 6]) {
      const f = this.fields[(g + k) % this.fields.length]!
      f.error = f.error === '' ? `${f.label} is not valid (check ${g})` : ''
    }
  }

  context () { return { fields: this.fields } }
}

const NAMES = ['Ada', 'Grace', 'Alan', 'Edsger', 'Barbara', 'Ken', 'Margaret']
const message = (id: number): { id: number, name: string, text: string, at: string } => ({
  id,
  name: NAMES[id % NAMES.length]!,
  text: `Message number ${id}: see you at the meeting, I'll bring the notes & the slides.`,
  at: `12:${String(Math.floor(id / 60) % 60).padStart(2, '0')}:${String(id % 60).padStart(2, '0')}`
})

/**
 * An inbox of 200 messages (`id="msg-N"`). Each `receive` appends a message and drops the
 * oldest (the list stays at 200); the unread badge in the header counts up.
 */
export class Inbox extends LiveView {
  static template = 'inbox'
  static events = defineEvents<Inbox>({ receive: { hook: true }, send: true })
  messages = Array.from({ length: 200 }, (_, i) => message(i + 1))
  next = 201
  unread = 0
  send (params: DomParams): void { this.messages.push({ ...message(this.next++), text: String(params.text ?? '') }) }
  receive (): void {
    this.messages.push(message(this.next++))
    this.messages.shift()
    this.unread++
  }

  context () { return { messages: this.messages, unread: this.unread } }
}

const MOVE_SCHEMA = { type: 'object', properties: { from: { type: 'integer', minimum: 0 }, to: { type: 'integer', minimum: 0 } }, required: ['from', 'to'] } as const

/** A playlist of 200 keyed tracks (`id="track-N"`, `data-key`); each `move` (a drag and drop) moves one track to another place. */
export class Sortable extends LiveView {
  static template = 'sortable'
  static events = defineEvents<Sortable>({ move: { schema: MOVE_SCHEMA } })
  items = Array.from({ length: 200 }, (_, i) => ({ id: i + 1, title: `Track ${i + 1}`, length: `${3 + i % 4}:${String((i * 17) % 60).padStart(2, '0')}` }))
  move (params: { from: number, to: number }): void {
    const [item] = this.items.splice(params.from, 1)
    if (item !== undefined) this.items.splice(Math.min(params.to, this.items.length), 0, item)
  }

  context () { return { items: this.items } }
}

/** Event i of list200_move_one: from and to positions spread over the list (far and near moves, up and down), never equal. */
export const moveParams = (i: number): string => {
  const from = (i * 37) % 200
  let to = (i * 101 + 50) % 200
  if (to === from) to = (to + 1) % 200
  return `{"from":${from},"to":${to}}`
}

/** The chat room of the fan-out scenario (the demo's chat): subscribed to `CHAT_TOPIC` when connected, 50 messages shown. */
export const CHAT_TOPIC = 'bench:chat'
export const CHAT_PATH = '/chat'
export class ChatRoom extends LiveView {
  static template = 'chat'
  static events = defineEvents<ChatRoom>({ send: true })
  name = ''
  messages = Array.from({ length: 50 }, (_, i) => message(i + 1))
  mount (): void {
    if (this.connected) this.subscribe(CHAT_TOPIC)
  }

  handleInfo (msg: ReturnType<typeof message>): void {
    this.messages.push(msg)
    if (this.messages.length > 50) this.messages.shift()
  }

  send (params: DomParams): void { this.broadcast(CHAT_TOPIC, { ...message(this.messages.length + 1), text: String(params.text ?? '') }) }
  context () { return { messages: this.messages, name: this.name } }
}

/** The message of broadcast `id` in the fan-out scenario. */
export const chatMessage = message

/**
 * The rollback section's view (bench/rollback.ts): `size` rows of plain objects, of which the
 * page shows only the first 20 and two totals, so an event's cost is about the state's size,
 * not the render's. Each event that succeeds changes the shown total: every reply is a patch.
 */
export function rowsView (size: number): typeof LiveView & { template: string } {
  return class Rows extends LiveView {
    static template = 'rows'
    static events = defineEvents<Rows>({ edit: true, editById: true, fail: true })
    rows = Array.from({ length: size }, (_, id) => ({ id, label: `item ${id}`, qty: 0 }))
    next = 0
    total = 0
    /** Changes the next row in turn, found by index. */
    edit (): void {
      this.rows[this.next++ % this.rows.length]!.qty++
      this.total++
    }

    /** Changes the row with the id the client sent, found with `find`. */
    editById (params: { id?: number }): void {
      const id = params.id
      const row = this.rows.find((r) => r.id === id)
      if (row === undefined) throw new Error(`no row ${String(id)}`)
      row.qty++
      this.total++
    }

    /** Changes a row, then fails: the reply is an error frame, the change is rolled back. */
    fail (): void {
      this.rows[this.next++ % this.rows.length]!.qty++
      this.total++
      throw new Error('bench: this event fails on purpose')
    }

    context () { return { count: this.rows.length, total: this.total, rows: this.rows.slice(0, 20) } }
  }
}

/** The route of the rollback view (10,000 rows) in `buildRowsApp`. */
export const ROWS_PATH = '/rows10k'

/** An app with every scenario's route and the rollback view at `ROWS_PATH`; `rollback: false` turns the runtime's rollback off. */
export async function buildRowsApp (rollback: boolean, options: LiveViewOptions = {}): Promise<FastifyInstance> {
  const app = await buildApp(options)
  app.liveView(ROWS_PATH, rowsView(10_000) as never)
  runtimeOf(app).rollback = rollback
  return app
}

export const runtimeOf = (app: FastifyInstance): Runtime => (app as unknown as Record<symbol, Runtime>)[kRuntime]!

export interface Scenario {
  name: string
  path: string
  View: typeof LiveView & { template: string }
  event: string
  /** The params (JSON text) of the scenario's i-th event (counting from 0, warm-up included). Default: `{}`. */
  params?: (i: number) => string
  /** The scenario the issue compares this one's time with, in the same run (it then runs too). */
  ref?: string
  /** The component (its wire id) the i-th event goes to, as `lv-target` sends it. Default: the view. */
  cid?: (i: number) => number
}

export const SCENARIOS: Scenario[] = [
  { name: 'counter', path: '/counter', View: Counter, event: 'inc' },
  { name: 'table100_edit', path: '/table100', View: tableView(100), event: 'bump' },
  { name: 'table1000_edit', path: '/table1000', View: tableView(1000), event: 'bump' },
  { name: 'table1000_insert', path: '/table1000i', View: tableView(1000), event: 'churn' },
  { name: 'list200_reverse', path: '/list200', View: List, event: 'reverse' },
  { name: 'form20_change', path: '/form20', View: Form, event: 'validate' },
  // Issue 11: demo-like markup (forms, ids, aria, whitespace), growing lists in a steady state.
  { name: 'counter_two_slots', path: '/counter2', View: CounterTwoSlots, event: 'inc', ref: 'counter' },
  { name: 'todos_toggle_50', path: '/todos50', View: todosView(50), event: 'toggle', params: toggleParams(50), ref: 'counter' },
  { name: 'todos_toggle_500', path: '/todos500', View: todosView(500), event: 'toggle', params: toggleParams(500), ref: 'counter' },
  { name: 'form_errors_3', path: '/signup', View: SignupForm, event: 'validate', params: () => SIGNUP_PARAMS, ref: 'counter' },
  { name: 'list_append_200', path: '/inbox', View: Inbox, event: 'receive', ref: 'counter' },
  { name: 'list200_move_one', path: '/sortable', View: Sortable, event: 'move', params: moveParams, ref: 'counter' },
  { name: 'table10000_edit', path: '/table10000', View: tableView(10_000), event: 'bump', ref: 'table100_edit' },
  // Issue 13: one row component's event among 100 (the cids are 1…100, in page order).
  { name: 'component_list_100', path: '/components100', View: ComponentList, event: 'inc', cid: (i) => (i * 37) % 100 + 1, ref: 'counter' }
]

/** An app with every scenario's route. */
export async function buildApp (options: LiveViewOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({ logger: false })
  await app.register(liveview, { root: viewsRoot, secret: randomBytes(32).toString('base64url'), production: true, ...options })
  for (const s of SCENARIOS) app.liveView(s.path, s.View as never)
  app.liveView(CHAT_PATH, ChatRoom as never)
  return app
}

/** A transport that hands each outbound frame to a callback: the end of a measured event. */
class BenchTransport implements Transport {
  onFrame: (frame: string) => void = () => {}
  send (frame: string): void { this.onFrame(frame) }
  backlog (): number { return 0 }
  close (): void {}
}

/** A joined in-process session of `path`, and a function that sends one event and times it. */
export async function openSession (app: FastifyInstance, path: string): Promise<{
  /** Sends event `name` with `params` (JSON text) and resolves with its reply frame and the server time. */
  send: (event: string, params?: string, cid?: number) => Promise<{ us: number, frame: string }>
  session: Session
  /** Where the session's frames go: set `onFrame` to get server updates (ref 0) outside `send`. */
  transport: { onFrame: (frame: string) => void }
}> {
  const rt = runtimeOf(app)
  const page = await app.inject(path)
  const token = /data-lv-token="([^"]+)"/.exec(page.body)![1]!
  const transport = new BenchTransport()
  const request = { id: 'bench', log: app.log, headers: {} } as unknown as FastifyRequest
  const session = new Session(rt, transport, request)
  let ref = 1
  await new Promise<void>((resolve) => {
    transport.onFrame = () => { resolve() }
    session.receive(JSON.stringify([ref, 'join', { v: PROTOCOL_VERSION, token, url: `http://localhost${path}`, pristine: true }]))
  })
  const send = (event: string, params = '{}', cid?: number): Promise<{ us: number, frame: string }> => new Promise((resolve) => {
    const text = `[${++ref},"e",1,"${event}",${params}${cid === undefined ? '' : `,${cid}`}]`
    let start = 0n
    transport.onFrame = (frame) => { resolve({ us: Number(process.hrtime.bigint() - start) / 1000, frame }) }
    start = process.hrtime.bigint()
    session.receive(text)
  })
  return { send, session, transport }
}

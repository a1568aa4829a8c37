// The benchmark's scenarios: views written with the plugin's public API, and a harness
// that drives a session in-process (no socket), one event at a time.
import { randomBytes } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify'
import liveview, { LiveView, defineEvents, type LiveViewOptions } from '../plugin.js'
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
}

export const SCENARIOS: Scenario[] = [
  { name: 'counter', path: '/counter', View: Counter, event: 'inc' },
  { name: 'table100_edit', path: '/table100', View: tableView(100), event: 'bump' },
  { name: 'table1000_edit', path: '/table1000', View: tableView(1000), event: 'bump' },
  { name: 'table1000_insert', path: '/table1000i', View: tableView(1000), event: 'churn' },
  { name: 'list200_reverse', path: '/list200', View: List, event: 'reverse' },
  { name: 'form20_change', path: '/form20', View: Form, event: 'validate' }
]

/** An app with every scenario's route. */
export async function buildApp (options: LiveViewOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({ logger: false })
  await app.register(liveview, { root: viewsRoot, secret: randomBytes(32).toString('base64url'), production: true, ...options })
  for (const s of SCENARIOS) app.liveView(s.path, s.View as never)
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
  send: (event: string, params?: string) => Promise<{ us: number, frame: string }>
  session: Session
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
  const send = (event: string, params = '{}'): Promise<{ us: number, frame: string }> => new Promise((resolve) => {
    const text = `[${++ref},"e",1,"${event}",${params}]`
    let start = 0n
    transport.onFrame = (frame) => { resolve({ us: Number(process.hrtime.bigint() - start) / 1000, frame }) }
    start = process.hrtime.bigint()
    session.receive(text)
  })
  return { send, session }
}

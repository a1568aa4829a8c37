import { randomBytes } from 'node:crypto'
import type { Clock } from './clock.js'
import { MemoryPubSub, publish, type PubSub } from './pubsub.js'

// Presence: who is on a topic. Each process keeps a replica of every process's trackings,
// kept in step through the PubSub adapter (the in-memory one: this process; Redis: all of
// them): joins and leaves numbered per process, a heartbeat carrying the last number (a gap
// or an unknown process asks for its whole state), and expiry of a process whose heartbeats
// stop (killed, cut off): its users leave within `timeoutMs` plus one heartbeat.

/** The PubSub topic the processes' presence messages travel on. */
export const PRESENCE_TOPIC = 'fastify-liveview:presence'

/** Who is on a topic: each key (a user id, say) with the metas of its trackings (one per tab, say). */
export type PresenceList = Record<string, { metas: unknown[] }>

/** What a view subscribed to a topic gets in `handleInfo` when the topic's presence changes. */
export interface PresenceDiff {
  event: 'presence_diff'
  topic: string
  joins: PresenceList
  leaves: PresenceList
}

export interface PresenceOptions {
  /** Milliseconds between a process's heartbeats. */
  heartbeatMs: number
  /** Milliseconds without a heartbeat after which a process's trackings leave. */
  timeoutMs: number
}

type Row = [ref: string, topic: string, key: string, meta: unknown]
type Wire =
  | { t: 'j', n: string, v: number, e: Row }
  | { t: 'l', n: string, v: number, r: string }
  | { t: 'hb', n: string, v: number }
  | { t: 'ask', n: string, to: string }
  | { t: 'state', n: string, v: number, e: Row[] }
  | { t: 'bye', n: string }

interface Tracked { node: string, topic: string, key: string, meta: unknown }

/** This process's presence: its own trackings, and its replica of the others'. */
export class Presence {
  /** This process in presence messages. */
  readonly node = randomBytes(9).toString('base64url')
  readonly #pubsub: PubSub
  readonly #clock: Clock
  readonly #options: PresenceOptions
  readonly #onError: (err: unknown) => void
  /** Every tracking known, by ref (unique: the process's id and a count). */
  readonly #all = new Map<string, Tracked>()
  /** topic → key → ref → meta. */
  readonly #topics = new Map<string, Map<string, Map<string, unknown>>>()
  /** This process's watchers of each topic's changes (a watcher that throws is logged, the others still get it). */
  readonly #watchers: MemoryPubSub
  /** Other processes: the last message number applied, and when they were last heard from. */
  readonly #peers = new Map<string, { v: number, seen: number }>()
  #v = 0
  #refs = 0
  #timer: unknown
  #off: (() => void) | undefined
  /** Diffs gathered while a whole state is applied, by topic. */
  #batch: Map<string, PresenceDiff> | undefined

  constructor (pubsub: PubSub, clock: Clock, options: PresenceOptions, onError: (err: unknown) => void) {
    this.#pubsub = pubsub
    this.#clock = clock
    this.#options = options
    this.#onError = onError
    this.#watchers = new MemoryPubSub(onError)
  }

  /** Joins the other processes: subscribes, asks for their state, starts the heartbeat and the expiry sweep. */
  start (): void {
    this.#off = this.#pubsub.subscribe(PRESENCE_TOPIC, (m) => { this.#receive(m as Wire) })
    this.#send({ t: 'ask', n: this.node, to: '*' })
    this.#timer = this.#clock.setInterval(() => {
      this.#send({ t: 'hb', n: this.node, v: this.#v })
      const dead = this.#clock.now() - this.#options.timeoutMs
      for (const [node, peer] of this.#peers) if (peer.seen < dead) this.#dropNode(node)
    }, this.#options.heartbeatMs)
  }

  /** Leaves: the other processes drop this one's trackings at once. */
  stop (): void {
    this.#clock.clearInterval(this.#timer)
    this.#send({ t: 'bye', n: this.node })
    this.#off?.()
    this.#off = undefined
  }

  /** Tracks `key` with `meta` on `topic` for this process; returns the tracking's ref. */
  track (topic: string, key: string, meta: unknown): string {
    const ref = `${this.node}.${++this.#refs}`
    this.update(ref, topic, key, meta)
    return ref
  }

  /** Replaces the meta of a tracking (a leave of the old meta and a join of the new one). */
  update (ref: string, topic: string, key: string, meta: unknown): void {
    this.#put(ref, { node: this.node, topic, key, meta })
    this.#send({ t: 'j', n: this.node, v: ++this.#v, e: [ref, topic, key, meta] })
  }

  /** Ends a tracking of this process. */
  untrack (ref: string): void {
    if (!this.#all.has(ref)) return
    this.#drop(ref)
    this.#send({ t: 'l', n: this.node, v: ++this.#v, r: ref })
  }

  /** Who is on `topic` now, across the processes. */
  list (topic: string): PresenceList {
    const out: PresenceList = {}
    for (const [key, refs] of this.#topics.get(topic) ?? []) out[key] = { metas: [...refs.values()] }
    return out
  }

  /** Calls `fn` with each change of `topic`'s presence; returns what stops it. */
  watch (topic: string, fn: (diff: PresenceDiff) => void): () => void {
    return this.#watchers.subscribe(topic, fn as (msg: unknown) => void)
  }

  /** Trackings known (all processes), for tests and metrics. */
  get size (): number { return this.#all.size }

  #send (m: Wire): void { publish(this.#pubsub, PRESENCE_TOPIC, m, this.#onError) }

  #receive (m: Wire): void {
    if (m === null || typeof m !== 'object' || typeof m.n !== 'string' || m.n === this.node) return
    const now = this.#clock.now()
    const peer = this.#peers.get(m.n)
    if (peer !== undefined) peer.seen = now
    switch (m.t) {
      case 'j':
      case 'l':
        if (peer === undefined ? m.v !== 1 : m.v > peer.v + 1) return this.#ask(m.n)
        if (peer !== undefined && m.v <= peer.v) return
        this.#peers.set(m.n, { v: m.v, seen: now })
        if (m.t === 'l') this.#drop(m.r)
        else this.#put(m.e[0], { node: m.n, topic: m.e[1], key: m.e[2], meta: m.e[3] })
        return
      case 'hb':
        if (peer === undefined || peer.v !== m.v) this.#ask(m.n)
        return
      case 'ask':
        if (m.to === this.node || m.to === '*') this.#send({ t: 'state', n: this.node, v: this.#v, e: this.#rows(this.node) })
        // A process new to this one: ask for its state in turn (it is then known).
        if (peer === undefined) this.#ask(m.n)
        return
      case 'state':
        this.#peers.set(m.n, { v: m.v, seen: now })
        return this.#batched(() => {
          const keep = new Set(m.e.map((row) => row[0]))
          for (const ref of this.#refsOf(m.n)) if (!keep.has(ref)) this.#drop(ref)
          for (const [ref, topic, key, meta] of m.e) this.#put(ref, { node: m.n, topic, key, meta })
        })
      case 'bye':
        this.#dropNode(m.n)
    }
  }

  #ask (node: string): void { this.#send({ t: 'ask', n: this.node, to: node }) }

  #rows (node: string): Row[] {
    const rows: Row[] = []
    for (const [ref, e] of this.#all) if (e.node === node) rows.push([ref, e.topic, e.key, e.meta])
    return rows
  }

  #refsOf (node: string): string[] { return [...this.#all].filter(([, e]) => e.node === node).map(([ref]) => ref) }

  #dropNode (node: string): void {
    this.#peers.delete(node)
    this.#batched(() => { for (const ref of this.#refsOf(node)) this.#drop(ref) })
  }

  #put (ref: string, e: Tracked): void {
    const old = this.#all.get(ref)
    if (old !== undefined) {
      if (old.topic === e.topic && old.key === e.key && JSON.stringify(old.meta) === JSON.stringify(e.meta)) return
      // A change of meta is one diff: the old meta leaves, the new one joins.
      if (this.#batch === undefined) return this.#batched(() => { this.#put(ref, e) })
      this.#drop(ref)
    }
    this.#all.set(ref, e)
    let keys = this.#topics.get(e.topic)
    if (keys === undefined) this.#topics.set(e.topic, keys = new Map())
    let refs = keys.get(e.key)
    if (refs === undefined) keys.set(e.key, refs = new Map())
    refs.set(ref, e.meta)
    this.#diff(e.topic, 'joins', e.key, e.meta)
  }

  #drop (ref: string): void {
    const e = this.#all.get(ref)
    if (e === undefined) return
    this.#all.delete(ref)
    const keys = this.#topics.get(e.topic)!
    const refs = keys.get(e.key)!
    refs.delete(ref)
    if (refs.size === 0) keys.delete(e.key)
    if (keys.size === 0) this.#topics.delete(e.topic)
    this.#diff(e.topic, 'leaves', e.key, e.meta)
  }

  #diff (topic: string, side: 'joins' | 'leaves', key: string, meta: unknown): void {
    if (this.#watchers.subscribers(topic) === 0) return
    const diff = this.#batch?.get(topic) ?? { event: 'presence_diff', topic, joins: {}, leaves: {} }
    ;(diff[side][key] ??= { metas: [] }).metas.push(meta)
    if (this.#batch !== undefined) this.#batch.set(topic, diff)
    else this.#emit(diff)
  }

  #batched (work: () => void): void {
    if (this.#batch !== undefined) return work()
    this.#batch = new Map()
    try {
      work()
    } finally {
      const batch = this.#batch
      this.#batch = undefined
      for (const diff of batch.values()) this.#emit(diff)
    }
  }

  #emit (diff: PresenceDiff): void { this.#watchers.broadcast(diff.topic, diff) }
}

/**
 * The outbox: every report bound for the aggregator, committed to SQLite before it is sent. The
 * row id is the report's per-node sequence number (AUTOINCREMENT, so a seq is never reused even
 * after rows are deleted); a row is deleted only once the aggregator has acknowledged its seq.
 */
import type Database from 'better-sqlite3'
import type { Report } from '../core/protocol.js'

export type OutboxKind = Report['kind']

export interface OutboxRow {
  readonly seq: number
  readonly kind: OutboxKind
  readonly payload: unknown
  readonly createdAt: number
}

export class Outbox {
  readonly #insert: Database.Statement
  readonly #peek: Database.Statement
  readonly #ack: Database.Statement
  readonly #count: Database.Statement
  readonly #now: () => number
  readonly #onEnqueue: () => void

  /** `onEnqueue` wakes the pusher; it runs before the caller's transaction commits, so it must only schedule work. */
  constructor (db: Database.Database, now: () => number, onEnqueue: () => void = () => {}) {
    this.#now = now
    this.#onEnqueue = onEnqueue
    this.#insert = db.prepare('INSERT INTO outbox (kind, payload, created_at) VALUES (?, ?, ?)')
    this.#peek = db.prepare('SELECT seq, kind, payload, created_at FROM outbox WHERE seq > ? ORDER BY seq LIMIT ?')
    this.#ack = db.prepare('DELETE FROM outbox WHERE seq <= ?')
    this.#count = db.prepare('SELECT count(*) AS n, min(created_at) AS oldest FROM outbox')
  }

  /** Queues one report; call inside the transaction that commits what it reports. Returns its seq. */
  enqueue (kind: OutboxKind, payload: unknown): number {
    const seq = Number(this.#insert.run(kind, JSON.stringify(payload), this.#now()).lastInsertRowid)
    this.#onEnqueue()
    return seq
  }

  /** The oldest pending reports with seq > afterSeq, in seq order. */
  peek (limit: number, afterSeq = 0): OutboxRow[] {
    return (this.#peek.all(afterSeq, limit) as Array<{ seq: number, kind: OutboxKind, payload: string, created_at: number }>)
      .map(r => ({ seq: r.seq, kind: r.kind, payload: JSON.parse(r.payload) as unknown, createdAt: r.created_at }))
  }

  /** Deletes everything up to and including seq (the aggregator applied it). Returns rows deleted. */
  ack (seq: number): number {
    return this.#ack.run(seq).changes
  }

  /** Pending reports and the creation time of the oldest (null when empty). */
  backlog (): { count: number, oldestAt: number | null } {
    const r = this.#count.get() as { n: number, oldest: number | null }
    return { count: r.n, oldestAt: r.oldest }
  }
}

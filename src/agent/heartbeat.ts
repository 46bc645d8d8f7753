/**
 * Heartbeats tell the aggregator the agent is alive and what it is doing. Only the newest one is
 * worth sending, so enqueueing a heartbeat replaces one still waiting in the outbox: an outage of
 * any length leaves at most one heartbeat behind (seqs then have gaps, which the protocol allows).
 */
import type Database from 'better-sqlite3'
import type { HeartbeatPayload } from '../core/protocol.js'
import type { Outbox } from './outbox.js'

export interface HeartbeatOptions {
  readonly db: Database.Database
  readonly outbox: Outbox
  readonly intervalMs: number
  /** The payload as of now (state, backlog, versions, last scan, directive version). */
  readonly payload: () => HeartbeatPayload
}

export class Heartbeat {
  readonly #o: HeartbeatOptions
  readonly #dropPending: Database.Statement
  #timer: NodeJS.Timeout | null = null

  constructor (opts: HeartbeatOptions) {
    this.#o = opts
    this.#dropPending = opts.db.prepare("DELETE FROM outbox WHERE kind = 'heartbeat'")
  }

  /** Enqueues a heartbeat in place of any unsent one. Returns its seq. */
  beat (): number {
    return this.#o.db.transaction(() => {
      this.#dropPending.run()
      return this.#o.outbox.enqueue('heartbeat', this.#o.payload())
    })()
  }

  start (): void {
    this.beat()
    this.#timer = setInterval(() => this.beat(), this.#o.intervalMs)
  }

  close (): void {
    if (this.#timer !== null) clearInterval(this.#timer)
    this.#timer = null
  }
}

/**
 * Sends the outbox to the aggregator, oldest first, in batches (at most 500 reports and about
 * maxBatchBytes of JSON, but always at least one report). A report leaves the outbox only when an
 * Ack for this node covers its seq; everything else is sent again. No answer, 429 and 5xx are
 * retried with exponential backoff and full jitter; a refusal (400/401/403) is logged as an error
 * and backed off the same way, so a misconfigured node neither spins nor gives up.
 */
import { isAppError } from '../core/errors.js'
import type { Logger } from '../core/log.js'
import { checkAck, PROTOCOL_PATHS, type Report, type ReportBatch } from '../core/protocol.js'
import type { AggregatorLink } from './aggregator-link.js'
import { Backoff, DEFAULT_BACKOFF, realSleep, type BackoffOptions, type Sleep } from './backoff.js'
import type { CursorStore } from './cursor-store.js'
import type { Outbox } from './outbox.js'

const MAX_REPORTS = 500
export const LAST_ACK_CURSOR = 'pusher.lastAck'

export interface PusherOptions {
  readonly link: AggregatorLink
  readonly outbox: Outbox
  readonly cursors: CursorStore
  /** Runs fn in one SQLite transaction of the state database. */
  readonly transaction: <T>(fn: () => T) => T
  readonly node: string
  readonly log: Logger
  readonly now: () => number
  readonly backoff?: BackoffOptions
  readonly sleep?: Sleep
  /** Refusals wait at least this long, whatever the jitter drew. */
  readonly refusedMinMs?: number
  readonly maxBatchBytes?: number
  /** Looks at the outbox this often even without a wake-up (reports enqueued by another connection). */
  readonly idlePollMs?: number
}

export interface LastAck {
  readonly seq: number
  readonly at: number
}

interface Batch {
  readonly body: ReportBatch
  readonly firstSeq: number
  readonly lastSeq: number
}

export class Pusher {
  readonly #o: PusherOptions
  readonly #abort = new AbortController()
  readonly #backoff: Backoff
  readonly #sleep: Sleep
  #wake: (() => void) | null = null
  #isWoken = false
  #loop: Promise<void> | null = null

  constructor (opts: PusherOptions) {
    this.#o = opts
    this.#backoff = new Backoff(opts.backoff ?? DEFAULT_BACKOFF)
    this.#sleep = opts.sleep ?? realSleep
  }

  get lastAck (): LastAck | null {
    return this.#o.cursors.get<LastAck>(LAST_ACK_CURSOR)
  }

  start (): void {
    this.#loop ??= this.#run()
  }

  /** Something was enqueued: send it now rather than at the next idle poll. */
  notify (): void {
    this.#isWoken = true
    this.#wake?.()
  }

  #batch (): Batch | null {
    const rows = this.#o.outbox.peek(MAX_REPORTS)
    const maxBytes = this.#o.maxBatchBytes ?? 16 * 1024 * 1024
    const reports: Report[] = []
    let bytes = 0
    for (const row of rows) {
      const report = { seq: row.seq, at: new Date(row.createdAt).toISOString(), kind: row.kind, payload: row.payload } as Report
      bytes += JSON.stringify(report).length
      if (reports.length > 0 && bytes > maxBytes) break
      reports.push(report)
    }
    const first = reports[0]
    const last = reports[reports.length - 1]
    if (first === undefined || last === undefined) return null
    return { body: { node: this.#o.node, reports }, firstSeq: first.seq, lastSeq: last.seq }
  }

  /** Waits for a wake-up or the idle poll; a wake-up cancels the idle timer. */
  async #idle (): Promise<void> {
    if (this.#isWoken) return
    const idle = new AbortController()
    this.#wake = () => idle.abort()
    await this.#sleep(this.#o.idlePollMs ?? 5000, AbortSignal.any([this.#abort.signal, idle.signal]))
    this.#wake = null
  }

  async #run (): Promise<void> {
    const signal = this.#abort.signal
    while (!signal.aborted) {
      this.#isWoken = false
      const batch = this.#batch()
      if (batch === null) {
        await this.#idle()
        continue
      }
      try {
        await this.#send(batch, signal)
      } catch (err) {
        if (signal.aborted) return
        await this.#pause(err)
      }
    }
  }

  async #send (batch: Batch, signal: AbortSignal): Promise<void> {
    const ack = await this.#o.link.exchange('POST', PROTOCOL_PATHS.reports, batch.body, checkAck, { signal })
    if (ack === null) throw new Error('the aggregator answered a report batch with no Ack (204)')
    const { outbox, cursors, now, log, transaction } = this.#o
    const upTo = Math.min(ack.ackedSeq, batch.lastSeq)
    // The delete and the remembered ack commit together, so status never shows an ack for rows still queued.
    const deleted = transaction(() => {
      cursors.set(LAST_ACK_CURSOR, { seq: ack.ackedSeq, at: now() })
      return upTo >= batch.firstSeq ? outbox.ack(upTo) : 0
    })
    if (upTo < batch.firstSeq) throw new Error(`the aggregator acknowledged seq ${ack.ackedSeq}, none of ${batch.firstSeq}..${batch.lastSeq}`)
    log.debug({ first: batch.firstSeq, last: batch.lastSeq, acked: ack.ackedSeq, deleted }, 'reports acknowledged')
    this.#backoff.reset()
  }

  async #pause (err: unknown): Promise<void> {
    const isRefused = isAppError(err) && err.code === 'PFIM_AGGREGATOR_REJECTED'
    let waitMs = this.#backoff.next()
    if (isRefused) {
      waitMs = Math.max(waitMs, this.#o.refusedMinMs ?? 10_000)
      this.#o.log.error({ err, retryInMs: waitMs }, 'the aggregator refused the reports; check the node\'s credentials and the aggregator\'s log')
    } else {
      this.#o.log.warn({ err, retryInMs: waitMs, attempt: this.#backoff.attempt }, 'cannot deliver reports to the aggregator; retrying')
    }
    await this.#sleep(waitMs, this.#abort.signal)
  }

  /** Aborts a request in flight and waits for the loop to end; the outbox keeps what was not acknowledged. */
  async close (): Promise<void> {
    this.#abort.abort()
    this.#wake?.()
    await this.#loop
  }
}

/**
 * The findings repository (FindingSink) over the findings table.
 *
 * Collapsing: a finding with a fingerprint whose kind has a burst window collapses into the newest
 * finding with the same kind and fingerprint first observed less than a window ago: its count and
 * last_seen_at grow, nothing new is inserted. The window is anchored at the first observation, so
 * a sustained stream still yields one finding per window, never one that grows forever. Which
 * bursts are open is kept in memory (open-bursts.ts, filled from the table on start), not looked up
 * in an index of the table.
 *
 * What is announced: the first observation is queued for the aggregator at once (count 1, in the
 * same transaction as the row). Repeats are not queued one by one; when the window has closed,
 * closeBursts() queues the same findingId once more with the final count (the aggregator keeps the
 * highest count per findingId) and tells the kind's listeners (the watcher writes one summary
 * syslog line). reported_count remembers what was announced, so restarts announce nothing twice.
 * Nothing is queued when the agent has no aggregator (outbox null).
 */
import type Database from 'better-sqlite3'
import { checkFindingPayload, type FindingPayload } from '../core/protocol.js'
import type { FindingInput, FindingKind, FindingSeverity, FindingSink } from './finding-types.js'
import { DEFAULT_MAX_OPEN_BURSTS, OpenBursts } from './open-bursts.js'
import type { Outbox } from './outbox.js'

/** Every kind, checked complete by the compiler; the CLI validates --kind against it. */
const KINDS: Record<FindingKind, true> = {
  'audit-denial': true, 'container-file': true, 'container-summary': true, 'container-storage': true, policy: true, 'policy-file': true, 'file-event': true,
}
export const FINDING_KINDS = Object.keys(KINDS) as readonly FindingKind[]

export interface Finding {
  readonly id: number
  readonly kind: FindingKind
  readonly severity: FindingSeverity
  readonly observedAt: number
  readonly lastSeenAt: number
  readonly subject: string
  readonly message: string
  readonly details: Record<string, unknown>
  readonly count: number
  readonly fingerprint: string | null
}

/** A collapsed burst whose window closed: `repeats` observations were not announced before. */
export interface ClosedBurst {
  readonly finding: Finding
  readonly repeats: number
}

export interface FindingQuery {
  readonly kind?: FindingKind
  /** Only findings last seen at or after this time (ms). */
  readonly sinceMs?: number
  readonly limit: number
}

export interface FindingStoreOptions {
  readonly now: () => number
  /** Where reports for the aggregator go; null when the agent is standalone. */
  readonly outbox: Outbox | null
  /** Burst window per kind in ms; kinds without one (or 0) never collapse. */
  readonly burstMs?: Partial<Record<FindingKind, number>>
  /** Open bursts remembered per kind (open-bursts.ts); the default suits production. */
  readonly maxOpenBursts?: number
}

interface Row {
  id: number, kind: FindingKind, severity: FindingSeverity, observed_at: number, last_seen_at: number,
  subject: string, message: string, details: string, count: number, fingerprint: string | null
}

const COLUMNS = 'id, kind, severity, observed_at, last_seen_at, subject, message, details, count, fingerprint'
const MAX_SUBJECT = 8192
const MAX_MESSAGE = 16_384
const MAX_DETAILS_BYTES = 64 * 1024

function toFinding (r: Row): Finding {
  return {
    id: r.id, kind: r.kind, severity: r.severity, observedAt: r.observed_at, lastSeenAt: r.last_seen_at,
    subject: r.subject, message: r.message, details: JSON.parse(r.details) as Record<string, unknown>, count: r.count, fingerprint: r.fingerprint,
  }
}

function cut (text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`
}

/**
 * The protocol payload of a finding. Oversized text is cut and oversized details replaced by a
 * note, because a payload the aggregator rejects would block the outbox behind it for good.
 */
export function findingPayload (f: Finding): FindingPayload {
  const json = JSON.stringify(f.details)
  const details = json.length <= MAX_DETAILS_BYTES ? f.details : { truncated: true, detailsBytes: json.length }
  return checkFindingPayload({
    findingId: f.id, kind: f.kind, severity: f.severity, observedAt: new Date(f.observedAt).toISOString(),
    subject: cut(f.subject, MAX_SUBJECT), message: cut(f.message, MAX_MESSAGE), count: f.count, details,
  }, 'finding')
}

/** Findings newest first; works on a read-only connection (the CLI). */
export function listFindings (db: Database.Database, q: FindingQuery): Finding[] {
  const rows = db.prepare(`SELECT ${COLUMNS} FROM findings WHERE (@kind IS NULL OR kind = @kind) AND last_seen_at >= @since ORDER BY id DESC LIMIT @limit`)
    .all({ kind: q.kind ?? null, since: q.sinceMs ?? 0, limit: q.limit }) as Row[]
  return rows.map(toFinding)
}

export class FindingStore implements FindingSink {
  readonly #db: Database.Database
  readonly #o: FindingStoreOptions
  readonly #listeners = new Map<FindingKind, Array<(b: ClosedBurst) => void>>()
  readonly #stmts
  readonly #open: OpenBursts
  // Made once: better-sqlite3 prepares a transaction's own statements on every db.transaction().
  readonly #recordAllTx: (inputs: readonly FindingInput[]) => Array<{ id: number, isNew: boolean }>
  readonly #closeTx: () => ClosedBurst[]

  constructor (db: Database.Database, opts: FindingStoreOptions) {
    this.#db = db
    this.#o = opts
    this.#stmts = {
      insert: db.prepare('INSERT INTO findings (kind, severity, observed_at, last_seen_at, subject, message, details, fingerprint) VALUES (?, ?, ?, ?, ?, ?, ?, ?)'),
      byId: db.prepare(`SELECT ${COLUMNS} FROM findings WHERE id = ?`),
      // kind and fingerprint too: an open burst may name a row an outer transaction rolled back,
      // whose id SQLite then gives to another finding.
      repeat: db.prepare('UPDATE findings SET count = count + 1, last_seen_at = ? WHERE id = ? AND kind = ? AND fingerprint = ?'),
      recent: db.prepare('SELECT id, fingerprint, observed_at FROM findings WHERE kind = ? AND observed_at > ? AND fingerprint IS NOT NULL ORDER BY observed_at DESC, id DESC LIMIT ?'),
      unreported: db.prepare(`SELECT ${COLUMNS}, reported_count FROM findings INDEXED BY findings_open_bursts WHERE kind = ? AND count > reported_count AND observed_at <= ?`),
      reported: db.prepare('UPDATE findings SET reported_count = ? WHERE id = ?'),
    }
    this.#recordAllTx = db.transaction((inputs: readonly FindingInput[]) => inputs.map(i => this.#insertOrCollapse(i)))
    this.#closeTx = db.transaction(() => this.#announceClosed())
    this.#open = this.#loadOpenBursts(opts.maxOpenBursts ?? DEFAULT_MAX_OPEN_BURSTS)
  }

  /** The bursts whose windows are still open, newest last, as a restart finds them. */
  #loadOpenBursts (max: number): OpenBursts {
    const open = new OpenBursts(max)
    const now = this.#o.now()
    for (const kind of FINDING_KINDS) {
      const window = this.#windowMs(kind)
      if (window <= 0) continue
      const rows = this.#stmts.recent.all(kind, now - window, max) as Array<{ id: number, fingerprint: string, observed_at: number }>
      for (const r of rows.reverse()) open.open(kind, r.fingerprint, r.id, r.observed_at)
    }
    return open
  }

  #windowMs (kind: FindingKind): number {
    return this.#o.burstMs?.[kind] ?? 0
  }

  /** Inserts or collapses; returns the id of the finding the input ended up in. */
  record (input: FindingInput): number {
    return (this.#recordAllTx([input])[0] as { id: number }).id
  }

  /**
   * As record() for many, in one transaction (a savepoint inside the caller's: a batch of audit
   * denials would otherwise pay one per finding), and says for each whether a new finding was made
   * (false: collapsed into an open burst).
   */
  recordAll (inputs: readonly FindingInput[]): ReadonlyArray<{ readonly id: number, readonly isNew: boolean }> {
    return inputs.length === 0 ? [] : this.#recordAllTx(inputs)
  }

  #insertOrCollapse (input: FindingInput): { id: number, isNew: boolean } {
    const now = this.#o.now()
    const window = this.#windowMs(input.kind)
    const collapses = input.fingerprint !== undefined && window > 0
    if (collapses) {
      const open = this.#open.find(input.kind, input.fingerprint, now - window)
      // A row an outer transaction rolled back does not match: a new finding then replaces the entry.
      if (open !== null && this.#stmts.repeat.run(now, open, input.kind, input.fingerprint).changes === 1) return { id: open, isNew: false }
    }
    const details = JSON.stringify(input.details ?? {})
    const id = Number(this.#stmts.insert.run(input.kind, input.severity, now, now, input.subject, input.message, details, input.fingerprint ?? null).lastInsertRowid)
    this.#o.outbox?.enqueue('finding', findingPayload(this.get(id)))
    if (collapses) this.#open.open(input.kind, input.fingerprint, id, now)
    return { id, isNew: true }
  }

  get (id: number): Finding {
    return toFinding(this.#stmts.byId.get(id) as Row)
  }

  list (q: FindingQuery): Finding[] {
    return listFindings(this.#db, q)
  }

  /** `listener` hears of every closed burst of `kind` (after it is committed). */
  onBurstClosed (kind: FindingKind, listener: (b: ClosedBurst) => void): void {
    this.#listeners.set(kind, [...(this.#listeners.get(kind) ?? []), listener])
  }

  /**
   * Announces every burst whose window has closed and whose count grew since it was last
   * announced: queues the final count and calls the kind's listeners. Cheap (a partial index);
   * the daemon calls it every second.
   */
  closeBursts (): ClosedBurst[] {
    const closed = this.#closeTx()
    for (const b of closed) for (const listener of this.#listeners.get(b.finding.kind) ?? []) listener(b)
    return closed
  }

  #announceClosed (): ClosedBurst[] {
    const now = this.#o.now()
    const out: ClosedBurst[] = []
    for (const kind of FINDING_KINDS) {
      this.#open.expire(kind, now - this.#windowMs(kind))
      const rows = this.#stmts.unreported.all(kind, now - this.#windowMs(kind)) as Array<Row & { reported_count: number }>
      for (const r of rows) {
        this.#stmts.reported.run(r.count, r.id)
        const finding = toFinding(r)
        this.#o.outbox?.enqueue('finding', findingPayload(finding))
        out.push({ finding, repeats: r.count - r.reported_count })
      }
    }
    return out
  }
}

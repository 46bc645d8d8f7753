/**
 * Reads the watchers' findings (table `findings`) for reports: what is new or was seen again since
 * a mail cursor, and counts per kind in a time window. Writing findings is the FindingSink's job;
 * this repository only reads, so it works on the CLI's read-only connection.
 */
import type Database from 'better-sqlite3'
import type { FindingSeverity } from './finding-types.js'

export interface StoredFinding {
  readonly id: number
  readonly kind: string
  readonly severity: FindingSeverity
  readonly observedAt: number
  readonly lastSeenAt: number
  readonly subject: string
  readonly message: string
  readonly details: Readonly<Record<string, unknown>>
  readonly count: number
}

export interface KindCount {
  readonly kind: string
  /** Rows (collapsed bursts count once). */
  readonly findings: number
  /** Occurrences: the sum of the rows' counts. */
  readonly events: number
}

interface FindingRow {
  id: number, kind: string, severity: FindingSeverity, observed_at: number, last_seen_at: number
  subject: string, message: string, details: string, count: number
}

/** A details column that is not a JSON object is shown as empty details rather than failing the report. */
function parseDetails (text: string): Record<string, unknown> {
  try {
    const v = JSON.parse(text) as unknown
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? v as Record<string, unknown> : {}
  } catch {
    return {}
  }
}

function toFinding (r: FindingRow): StoredFinding {
  return {
    id: r.id, kind: r.kind, severity: r.severity, observedAt: r.observed_at, lastSeenAt: r.last_seen_at,
    subject: r.subject, message: r.message, details: parseDetails(r.details), count: r.count,
  }
}

const COLUMNS = 'id, kind, severity, observed_at, last_seen_at, subject, message, details, count'

export class FindingQuery {
  readonly #since: Database.Statement
  readonly #counts: Database.Statement

  constructor (db: Database.Database) {
    this.#since = db.prepare(`SELECT ${COLUMNS} FROM findings WHERE id > ? OR last_seen_at > ? ORDER BY id`)
    this.#counts = db.prepare('SELECT kind, count(*) AS findings, sum(count) AS events FROM findings WHERE last_seen_at >= ? AND observed_at < ? GROUP BY kind ORDER BY kind')
  }

  /**
   * Findings after `afterId`, and older ones whose burst grew after `seenAfter` (a collapsed
   * finding keeps its id while its count and last_seen_at grow).
   */
  since (afterId: number, seenAfter: number): StoredFinding[] {
    return (this.#since.all(afterId, seenAfter) as FindingRow[]).map(toFinding)
  }

  /** Per kind, the findings active in [from, to): observed before `to`, last seen at or after `from`. */
  countsByKind (from: number, to: number): KindCount[] {
    return this.#counts.all(from, to) as KindCount[]
  }
}

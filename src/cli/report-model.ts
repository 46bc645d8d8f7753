/**
 * What `podsec-fim report` says, as data: the events report (integrity failures and findings new
 * since the mail cursor) and the daily digest. Both are read in one read transaction, so the
 * cursor they return describes exactly the rows they contain.
 */
import { FindingQuery, type KindCount, type StoredFinding } from '../agent/finding-query.js'
import type { Store } from '../agent/store.js'
import { isoTime, type ScanView } from '../core/control-api.js'
import { scanView } from '../agent/scan-view.js'
import { entryReader, errorIssue, failureIssue, openFailure, scansBetween, type ScanIssue } from './report-scans.js'

/** Where the last mailed events report ended. */
export interface MailCursor {
  readonly scanId: number
  readonly findingId: number
  /** Highest last_seen_at mailed: a collapsed finding seen again after it is news again. */
  readonly findingSeenAt: number
}

export const CURSOR_START: MailCursor = { scanId: 0, findingId: 0, findingSeenAt: 0 }

export interface FindingView {
  readonly id: number
  readonly kind: string
  readonly severity: string
  readonly observedAt: string
  readonly lastSeenAt: string
  readonly subject: string
  readonly message: string
  readonly count: number
  /** Mailed before; listed again because its burst grew (count is the total so far). */
  readonly isRepeat: boolean
  readonly details: Readonly<Record<string, unknown>>
}

export interface EventReport {
  readonly kind: 'events'
  readonly node: string
  readonly generatedAt: string
  readonly since: MailCursor
  readonly next: MailCursor
  readonly failures: readonly ScanIssue[]
  readonly errors: readonly ScanIssue[]
  readonly findings: readonly FindingView[]
}

export interface DigestReport {
  readonly kind: 'digest'
  readonly node: string
  readonly generatedAt: string
  readonly from: string
  readonly to: string
  readonly scans: Readonly<Record<string, number>>
  readonly findings: readonly KindCount[]
  readonly baseline: { readonly scanId: number, readonly createdAt: string, readonly sha256: string, readonly size: number } | null
  readonly lastCheck: ScanView | null
  /** The failure still open (the newest scan Failed or Errored), and the scan it started with. */
  readonly open: (ScanIssue & { readonly since: number }) | null
}

export type Report = EventReport | DigestReport

function findingView (f: StoredFinding, cursor: MailCursor): FindingView {
  return {
    id: f.id, kind: f.kind, severity: f.severity, observedAt: isoTime(f.observedAt) as string, lastSeenAt: isoTime(f.lastSeenAt) as string,
    subject: f.subject, message: f.message, count: f.count, isRepeat: f.id <= cursor.findingId, details: f.details,
  }
}

export function isEmpty (r: EventReport): boolean {
  return r.failures.length === 0 && r.errors.length === 0 && r.findings.length === 0
}

/**
 * Scans are taken only below the oldest scan still Running: a running scan gets its id at start,
 * and the cursor must not pass it before it has finished and been looked at.
 */
export function readEventReport (store: Store, node: string, cursor: MailCursor, now: number): EventReport {
  return store.db.transaction(() => {
    const running = store.runningScans().map(s => s.id)
    const scans = scansBetween(store, cursor.scanId, Math.min(Number.MAX_SAFE_INTEGER, ...running))
    const failures: ScanIssue[] = []
    const errors: ScanIssue[] = []
    const entries = entryReader(store)
    for (const s of scans) {
      const issue = s.condition === 'Failed' ? failureIssue(store, entries, s) : s.condition === 'Errored' ? errorIssue(store, s) : null
      if (issue !== null) (s.condition === 'Failed' ? failures : errors).push(issue)
    }
    const found = new FindingQuery(store.db).since(cursor.findingId, cursor.findingSeenAt)
    const next: MailCursor = {
      scanId: Math.max(cursor.scanId, ...scans.map(s => s.id)),
      findingId: Math.max(cursor.findingId, ...found.map(f => f.id)),
      findingSeenAt: Math.max(cursor.findingSeenAt, ...found.map(f => f.lastSeenAt)),
    }
    return {
      kind: 'events' as const, node, generatedAt: isoTime(now) as string, since: cursor, next,
      failures, errors, findings: found.map(f => findingView(f, cursor)),
    }
  })()
}

function scanCounts (store: Store, from: number, to: number): Record<string, number> {
  const counts: Record<string, number> = { Succeeded: 0, Failed: 0, Errored: 0, Interrupted: 0 }
  let beforeId = Number.MAX_SAFE_INTEGER
  for (;;) {
    const page = store.listScans({ limit: 200, beforeId })
    for (const s of page) {
      if (s.condition !== 'Running' && s.startedAt >= from && s.startedAt < to) counts[s.condition] = (counts[s.condition] ?? 0) + 1
    }
    const last = page[page.length - 1]
    if (page.length < 200 || last === undefined || last.startedAt < from) return counts
    beforeId = last.id
  }
}

/** The digest of [from, to): counts, the baseline, the last check and what is still open. */
export function readDigest (store: Store, node: string, from: number, to: number): DigestReport {
  return store.db.transaction(() => {
    const b = store.currentBaseline()
    const last = store.lastScan('check')
    const open = openFailure(store)
    return {
      kind: 'digest' as const, node, generatedAt: isoTime(to) as string, from: isoTime(from) as string, to: isoTime(to) as string,
      scans: scanCounts(store, from, to),
      findings: new FindingQuery(store.db).countsByKind(from, to),
      baseline: b === null ? null : { scanId: b.scanId, createdAt: isoTime(b.createdAt) as string, sha256: b.sha256, size: b.size },
      lastCheck: last === null ? null : scanView(last),
      open: open === null ? null : { ...open.issue, since: open.since },
    }
  })()
}

/**
 * Writes rows of the real `findings` table the way the watchers' FindingSink does (the audit
 * tailer's denials keep the whole AuditDenial as details). The report only reads this table; the
 * sink is built in parallel, so the tests write the rows with SQL of their own.
 */
import type Database from 'better-sqlite3'
import type { AuditDenial } from '../../src/agent/audit-event.js'

export interface FindingRow {
  readonly kind: string
  readonly severity?: 'critical' | 'warning' | 'info'
  readonly subject: string
  readonly message: string
  readonly details?: Record<string, unknown>
  readonly count?: number
  readonly at?: number
}

export function insertFinding (db: Database.Database, f: FindingRow): number {
  const at = f.at ?? Date.now()
  return Number(db.prepare('INSERT INTO findings (kind, severity, observed_at, last_seen_at, subject, message, details, count) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
    .run(f.kind, f.severity ?? 'warning', at, at, f.subject, f.message, JSON.stringify(f.details ?? {}), f.count ?? 1).lastInsertRowid)
}

/** A burst collapsed into an existing finding: its count and last_seen_at grow, its id stays. */
export function seenAgain (db: Database.Database, id: number, at = Date.now()): void {
  db.prepare('UPDATE findings SET count = count + 1, last_seen_at = ? WHERE id = ?').run(at, id)
}

export function denial (over: Partial<AuditDenial> = {}): AuditDenial {
  return {
    time: '2026-11-23T10:00:00.123456Z', auditId: 'a1', user: 'system:anonymous', groups: ['system:unauthenticated'],
    verb: 'get', resource: 'secrets', subresource: null, namespace: 'kube-system', name: 'admin-token',
    requestUri: '/api/v1/namespaces/kube-system/secrets/admin-token', sourceIps: ['192.168.122.1'],
    userAgent: 'curl/8.5.0', code: 403, message: 'forbidden: User "system:anonymous" cannot get resource "secrets"', ...over,
  }
}

export function insertDenial (db: Database.Database, d: AuditDenial, count = 1): number {
  return insertFinding(db, { kind: 'audit-denial', severity: 'critical', subject: d.user, message: d.message, details: { ...d }, count })
}

/**
 * What the watchers (audit log, container storage, policy) hand to the agent: findings and
 * podsec-compatible syslog lines. The implementations live in findings.ts and syslog.ts; watchers
 * receive these interfaces so they never touch the store or spawn `logger` themselves.
 */

export type FindingSeverity = 'critical' | 'warning' | 'info'

/** Finding kinds in use; `podsec-fim findings --kind` accepts these. */
export type FindingKind = 'audit-denial' | 'container-file' | 'container-summary' | 'container-storage' | 'policy' | 'policy-file' | 'file-event'

export interface FindingInput {
  readonly kind: FindingKind
  readonly severity: FindingSeverity
  /** What the finding is about: a path, a user, a container; shown in lists. */
  readonly subject: string
  /** One line for people (mail, syslog, events). */
  readonly message: string
  /** Structured data (JSON-serialisable) kept with the finding and pushed to the aggregator. */
  readonly details?: Readonly<Record<string, unknown>>
  /**
   * Identical fingerprints within the kind's burst window are collapsed into one finding whose
   * count grows; omit to never collapse.
   */
  readonly fingerprint?: string
}

export interface FindingSink {
  /** Commits the finding (and its outbox entry) to SQLite; returns the finding id. */
  record (finding: FindingInput): number
}

/** podsec's syslog priorities (`logger -p`), by the Nagios-relevant prefix they go with. */
export type SyslogPriority = 'crit' | 'err' | 'warning' | 'notice' | 'info'

export interface SyslogSink {
  /** One line under `tag` (e.g. `podsec-inotify-check-kubeapi`); never throws, never blocks. */
  write (tag: string, priority: SyslogPriority, message: string): void
}

import type { WatcherHealth } from '../core/control-api.js'

/** A watcher the daemon starts and closes; its health is shown by `podsec-fim status`. */
export interface Watcher {
  readonly name: string
  start (): Promise<void>
  health (): WatcherHealth
  close (): Promise<void>
}

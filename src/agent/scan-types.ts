/** What a scan is, as the scanner produces it and the store keeps it. */
import type { ScanView } from '../core/control-api.js'
import type { ReportEntry } from './aide-report.js'

export type ScanKind = 'init' | 'check'
/** Why a scan ran: at start (no baseline yet), by the timer, on request (CLI), from the cluster. */
export type ScanTrigger = 'startup' | 'schedule' | 'manual' | 'directive' | 'event'
export type Condition = 'Running' | 'Succeeded' | 'Failed' | 'Errored' | 'Interrupted'

export interface UnverifiedPath {
  readonly path: Buffer
  readonly reason: string
}

export interface ScanOutcome {
  readonly condition: Exclude<Condition, 'Running'>
  readonly exitCode: number | null
  readonly added: number
  readonly changed: number
  readonly removed: number
  readonly errorCode: string | null
  readonly error: string | null
  /** AIDE's plain-text report (FIO publishes it as `integritylog`). */
  readonly log: Buffer | null
  readonly entries: readonly ReportEntry[]
  readonly unverified: readonly UnverifiedPath[]
}

/** A stored scan: the control socket's ScanView with times as epoch milliseconds. */
export interface ScanSummary extends Omit<ScanView, 'kind' | 'trigger' | 'startedAt' | 'finishedAt'> {
  readonly kind: ScanKind
  readonly trigger: ScanTrigger
  readonly startedAt: number
  readonly finishedAt: number | null
}

export interface StoredEntry {
  readonly path: Buffer
  readonly change: ReportEntry['change']
  readonly summary: string
  readonly attributes: ReportEntry['attributes']
}

export interface Baseline {
  readonly id: number
  readonly scanId: number
  readonly createdAt: number
  readonly sha256: string
  readonly size: number
}

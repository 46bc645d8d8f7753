/**
 * The agent's control socket API (HTTP over a unix socket), shared by the agent and the CLI.
 * Times are ISO-8601 strings in UTC; paths in scan details are rendered by the CLI from the store.
 */

export const CONTROL_PATHS = {
  status: '/v1/status',
  check: '/v1/check',
  reinit: '/v1/reinit',
} as const

export interface ScanView {
  readonly id: number
  readonly kind: 'init' | 'check'
  readonly trigger: string
  readonly startedAt: string
  readonly finishedAt: string | null
  readonly condition: 'Running' | 'Succeeded' | 'Failed' | 'Errored' | 'Interrupted'
  readonly exitCode: number | null
  readonly added: number
  readonly changed: number
  readonly removed: number
  readonly unverified: number
  readonly errorCode: string | null
  readonly error: string | null
  readonly detailsPruned: boolean
}

export interface StatusView {
  readonly node: string
  readonly agentVersion: string
  readonly aideVersion: string
  readonly pid: number
  readonly startedAt: string
  readonly stateDir: string
  readonly baseline: { readonly scanId: number, readonly createdAt: string, readonly sha256: string, readonly size: number } | null
  readonly running: { readonly kind: 'init' | 'check' } | null
  readonly lastScan: ScanView | null
  readonly lastCheck: ScanView | null
  readonly nextCheckAt: string | null
  readonly totals: { readonly scans: number, readonly failed: number }
  /** One entry per running watcher (audit log, container storage, policy, fast path). */
  readonly watchers: readonly WatcherHealth[]
  /** The link to podsec-fim-aggregator; null when the agent runs standalone (no aggregator.url). */
  readonly aggregator: AggregatorView | null
}

export interface AggregatorView {
  readonly url: string
  /** The last request to the aggregator got an answer it accepted. */
  readonly isConnected: boolean
  readonly lastAckSeq: number | null
  readonly lastAckAt: string | null
  /** Reports waiting in the outbox, and when the oldest was queued. */
  readonly backlog: number
  readonly oldestAt: string | null
  readonly lastError: string | null
  readonly lastErrorAt: string | null
  /** The directive version last applied, and whether the cluster holds checks off (FileIntegrity holdoff). */
  readonly directiveVersion: string | null
  readonly isHeld: boolean
}

export interface WatcherHealth {
  readonly name: string
  readonly running: boolean
  readonly lastEventAt: string | null
  /** inotify watches in use and the budget they may use; null where the watcher has no budget. */
  readonly watches: number | null
  readonly budget: number | null
  /** inotify queue overflows (each triggers a full check) and errors since start. */
  readonly overflows: number
  readonly errors: number
  /** One line for people, e.g. what is not covered. */
  readonly detail: string | null
}

export interface ScanResponse {
  readonly scan: ScanView
}

export interface ErrorResponse {
  readonly error: { readonly code: string, readonly message: string }
}

export function isoTime (ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString()
}

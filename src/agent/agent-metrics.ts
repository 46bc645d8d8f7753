/**
 * The agent's Prometheus metrics (`podsec_fim_agent_*`), rebuilt at every scrape. Counters that
 * must survive restarts (scans, findings, durations) are counted in SQLite, the node's truth, not
 * in memory; only the watchers' own counters (overflows, errors) restart with the agent.
 */
import type Database from 'better-sqlite3'
import type { StatusView } from '../core/control-api.js'
import { MetricsRegistry } from '../core/metrics.js'
import { Outbox } from './outbox.js'
import type { Store } from './store.js'

const P = 'podsec_fim_agent_'
const KINDS = ['init', 'check'] as const
const CONDITIONS = ['Succeeded', 'Failed', 'Errored', 'Interrupted'] as const
/** AIDE runs take seconds on a small tree and up to an hour on a big node. */
export const SCAN_DURATION_BUCKETS: readonly number[] = [1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600]

/** Counts and durations of finished scans in one pass over the table (it keeps every summary). */
function scanStatsSql (): string {
  const buckets = SCAN_DURATION_BUCKETS.map((b, i) => `sum(ms <= ${b * 1000}) AS b${i}`).join(', ')
  return `SELECT kind, condition, count(*) AS n, total(ms) / 1000.0 AS sum, ${buckets}
    FROM (SELECT kind, condition, finished_at - started_at AS ms FROM scans WHERE condition <> 'Running')
    GROUP BY kind, condition`
}

type ScanStatsRow = Record<string, number> & { kind: string, condition: string, n: number, sum: number }

function seconds (ms: number | null): number | null {
  return ms === null ? null : ms / 1000
}

export interface AgentMetricsDeps {
  readonly store: Store
  readonly now: () => number
}

export class AgentMetrics {
  readonly #now: () => number
  readonly #store: Store
  readonly #outbox: Outbox
  readonly #scanStats: Database.Statement
  readonly #findings: Database.Statement

  constructor (deps: AgentMetricsDeps) {
    this.#now = deps.now
    this.#store = deps.store
    const db = deps.store.db
    this.#outbox = new Outbox(db, deps.now)
    this.#scanStats = db.prepare(scanStatsSql())
    this.#findings = db.prepare('SELECT kind, severity, sum(count) AS n FROM findings GROUP BY kind, severity')
  }

  /** A registry filled from SQLite and the status view; render() it for the exposition. */
  collect (status: StatusView): MetricsRegistry {
    const reg = new MetricsRegistry()
    this.#info(reg, status)
    this.#scanCounts(reg)
    this.#lastScans(reg, status)
    this.#findingCounts(reg)
    this.#backlog(reg)
    watcherMetrics(reg, status)
    aggregatorMetrics(reg, status)
    return reg
  }

  #info (reg: MetricsRegistry, status: StatusView): void {
    reg.gauge({ name: `${P}info`, help: 'Always 1; the labels say which agent and AIDE run on this node.', labelNames: ['node', 'version', 'aide_version'] })
      .set({ node: status.node, version: status.agentVersion, aide_version: status.aideVersion }, 1)
    reg.gauge({ name: `${P}start_time_seconds`, help: 'When the agent started, in seconds since the epoch.' }).set({}, Date.parse(status.startedAt) / 1000)
    const baseline = reg.gauge({ name: `${P}baseline_timestamp_seconds`, help: 'When the current AIDE baseline was made, in seconds since the epoch (absent without one).' })
    if (status.baseline !== null) baseline.set({}, Date.parse(status.baseline.createdAt) / 1000)
    const running = reg.gauge({ name: `${P}scan_running`, help: '1 while a scan of this kind runs.', labelNames: ['kind'] })
    for (const kind of KINDS) running.set({ kind }, status.running?.kind === kind ? 1 : 0)
  }

  #scanCounts (reg: MetricsRegistry): void {
    const total = reg.counter({ name: `${P}scans_total`, help: 'Finished scans by kind and condition (kept in the state database, so they survive restarts).', labelNames: ['kind', 'condition'] })
    for (const kind of KINDS) for (const condition of CONDITIONS) total.ensure({ kind, condition })
    const duration = reg.histogram({ name: `${P}scan_duration_seconds`, help: 'How long finished scans took (Interrupted ones excluded).', labelNames: ['kind'], buckets: SCAN_DURATION_BUCKETS })
    const byKind = new Map<string, { cumulative: number[], sum: number, count: number }>(KINDS.map(k => [k, { cumulative: SCAN_DURATION_BUCKETS.map(() => 0), sum: 0, count: 0 }]))
    for (const r of this.#scanStats.all() as ScanStatsRow[]) {
      total.set({ kind: r.kind, condition: r.condition }, r.n)
      // Interrupted scans ran until the agent died, not until AIDE finished: not a scan's duration.
      if (r.condition === 'Interrupted') continue
      const d = byKind.get(r.kind) ?? { cumulative: SCAN_DURATION_BUCKETS.map(() => 0), sum: 0, count: 0 }
      SCAN_DURATION_BUCKETS.forEach((_b, i) => { d.cumulative[i] = (d.cumulative[i] as number) + (r[`b${i}`] ?? 0) })
      d.sum += r.sum
      d.count += r.n
      byKind.set(r.kind, d)
    }
    for (const [kind, d] of byKind) duration.set({ kind }, d)
  }

  #lastScans (reg: MetricsRegistry, status: StatusView): void {
    const at = reg.gauge({ name: `${P}last_scan_timestamp_seconds`, help: 'When the last scan of this kind finished, in seconds since the epoch.', labelNames: ['kind'] })
    const condition = reg.gauge({ name: `${P}last_scan_condition`, help: '1 for the condition of the last scan of this kind, 0 for the others.', labelNames: ['kind', 'condition'] })
    for (const kind of KINDS) {
      const last = this.#store.lastScan(kind)
      if (last === null) continue
      const finished = seconds(last.finishedAt)
      if (finished !== null) at.set({ kind }, finished)
      for (const c of CONDITIONS) condition.set({ kind, condition: c }, last.condition === c ? 1 : 0)
    }
    const files = reg.gauge({ name: `${P}last_check_files`, help: 'Files added, changed and removed against the baseline in the last check.', labelNames: ['change'] })
    const check = status.lastCheck
    files.set({ change: 'added' }, check?.added ?? 0)
    files.set({ change: 'changed' }, check?.changed ?? 0)
    files.set({ change: 'removed' }, check?.removed ?? 0)
    reg.gauge({ name: `${P}unverified_files`, help: 'Files AIDE could not read in the last scan (not verified, never reported as removed).' })
      .set({}, status.lastScan?.unverified ?? 0)
    const next = reg.gauge({ name: `${P}next_check_timestamp_seconds`, help: 'When the next periodic check is due, in seconds since the epoch.' })
    if (status.nextCheckAt !== null) next.set({}, Date.parse(status.nextCheckAt) / 1000)
  }

  #findingCounts (reg: MetricsRegistry): void {
    const total = reg.counter({ name: `${P}findings_total`, help: 'Findings of the watchers by kind and severity, collapsed bursts counted in full (kept in the state database).', labelNames: ['kind', 'severity'] })
    for (const r of this.#findings.all() as Array<{ kind: string, severity: string, n: number }>) total.set({ kind: r.kind, severity: r.severity }, r.n)
  }

  #backlog (reg: MetricsRegistry): void {
    const { count, oldestAt } = this.#outbox.backlog()
    reg.gauge({ name: `${P}outbox_backlog`, help: 'Reports committed locally and not yet acknowledged by the aggregator.' }).set({}, count)
    reg.gauge({ name: `${P}outbox_oldest_age_seconds`, help: 'Age of the oldest unacknowledged report (0 when none is pending).' })
      .set({}, oldestAt === null ? 0 : Math.max(0, (this.#now() - oldestAt) / 1000))
  }
}

function watcherMetrics (reg: MetricsRegistry, status: StatusView): void {
  const labelNames = ['watcher']
  const running = reg.gauge({ name: `${P}watcher_running`, help: '1 while the watcher runs.', labelNames })
  const watches = reg.gauge({ name: `${P}watcher_watches`, help: 'inotify watches the watcher uses (absent for watchers without a budget).', labelNames })
  const budget = reg.gauge({ name: `${P}watcher_watch_budget`, help: 'inotify watches the watcher may use.', labelNames })
  const overflows = reg.counter({ name: `${P}watcher_overflows_total`, help: 'inotify queue overflows since the agent started (each triggers a full check).', labelNames })
  const errors = reg.counter({ name: `${P}watcher_errors_total`, help: 'Watcher errors since the agent started.', labelNames })
  const lastEvent = reg.gauge({ name: `${P}watcher_last_event_timestamp_seconds`, help: 'When the watcher last saw an event, in seconds since the epoch.', labelNames })
  for (const w of status.watchers) {
    const l = { watcher: w.name }
    running.set(l, w.running ? 1 : 0)
    if (w.watches !== null) watches.set(l, w.watches)
    if (w.budget !== null) budget.set(l, w.budget)
    overflows.set(l, w.overflows)
    errors.set(l, w.errors)
    if (w.lastEventAt !== null) lastEvent.set(l, Date.parse(w.lastEventAt) / 1000)
  }
}

/** The link to the aggregator; absent when the agent runs standalone (no aggregator.url). */
function aggregatorMetrics (reg: MetricsRegistry, status: StatusView): void {
  const connected = reg.gauge({ name: `${P}aggregator_connected`, help: '1 while the aggregator accepts the agent\'s requests (absent when standalone).' })
  const lastAck = reg.gauge({ name: `${P}aggregator_last_ack_timestamp_seconds`, help: 'When the aggregator last acknowledged reports, in seconds since the epoch.' })
  const held = reg.gauge({ name: `${P}held`, help: '1 while the cluster holds checks off (FileIntegrity holdoff).' })
  const link = status.aggregator
  if (link === null) return
  connected.set({}, link.isConnected ? 1 : 0)
  if (link.lastAckAt !== null) lastAck.set({}, Date.parse(link.lastAckAt) / 1000)
  held.set({}, link.isHeld ? 1 : 0)
}

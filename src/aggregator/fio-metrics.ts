/**
 * FIO's metrics (fio-compat.md §5): same names, types and labels, so dashboards and the
 * NodeHasIntegrityFailure alert work unchanged. Counters are per aggregator process, as FIO's are
 * per operator process; with several replicas Prometheus sums them. The node_failed gauge is set by
 * whichever replica applied the node's latest result and re-derived on the next result after a
 * restart (FIO's OCPBUGS-42807 behaviour). DaemonSet counters exist for compatibility and stay at
 * zero: there are no DaemonSets here.
 */
import { MetricsRegistry, type Counter, type Gauge } from '../core/metrics.js'

const P = 'file_integrity_operator'

export interface FioMetrics {
  readonly registry: MetricsRegistry
  readonly phase: Counter
  readonly error: Counter
  readonly pause: Counter
  readonly unpause: Counter
  readonly reinit: Counter
  readonly nodeStatus: Counter
  readonly nodeStatusError: Counter
  readonly daemonsetUpdate: Counter
  readonly reinitDaemonsetUpdate: Counter
  readonly nodeFailed: Gauge
  /** Ours: reports applied and refused, and findings turned into events. */
  readonly reports: Counter
  readonly findings: Counter
}

export function createFioMetrics (): FioMetrics {
  const r = new MetricsRegistry()
  return {
    registry: r,
    phase: r.counter({ name: `${P}_phase_total`, help: 'The total number of transitions to the FileIntegrity phase', labelNames: ['phase'] }),
    error: r.counter({ name: `${P}_error_total`, help: 'The total number of FileIntegrity errors, by error', labelNames: ['error'] }),
    pause: r.counter({ name: `${P}_pause_total`, help: 'The total number of FileIntegrity scan pause actions (during node updates)', labelNames: ['node'] }),
    unpause: r.counter({ name: `${P}_unpause_total`, help: 'The total number of FileIntegrity scan unpause actions (during node updates)', labelNames: ['node'] }),
    reinit: r.counter({ name: `${P}_reinit_total`, help: 'The total number of FileIntegrity database re-initialization triggers (annotation), by method and node', labelNames: ['by', 'node'] }),
    nodeStatus: r.counter({ name: `${P}_node_status_total`, help: 'The total number of FileIntegrityNodeStatus transitions, by condition and node', labelNames: ['condition', 'node'] }),
    nodeStatusError: r.counter({ name: `${P}_node_status_error_total`, help: 'The total number of FileIntegrityNodeStatus transitions to Errored, by error and node', labelNames: ['error', 'node'] }),
    daemonsetUpdate: r.counter({ name: `${P}_daemonset_update_total`, help: 'The total number of updates to the FileIntegrity AIDE daemonSet (always 0: agents are systemd services)', labelNames: ['operation'] }),
    reinitDaemonsetUpdate: r.counter({ name: `${P}_reinit_daemonset_update_total`, help: 'The total number of updates to the FileIntegrity re-init signaling daemonSet (always 0: re-init is a directive)', labelNames: ['operation'] }),
    nodeFailed: r.gauge({ name: `${P}_node_failed`, help: 'A gauge that is set to 1 when a node has unresolved integrity failures, and 0 when it is healthy', labelNames: ['node'] }),
    reports: r.counter({ name: 'podsec_fim_aggregator_reports_total', help: 'Agent reports received, by kind and outcome (applied, duplicate, ignored)', labelNames: ['kind', 'outcome'] }),
    findings: r.counter({ name: 'podsec_fim_aggregator_findings_total', help: 'Agent findings published as events, by node, kind and severity', labelNames: ['node', 'kind', 'severity'] }),
  }
}

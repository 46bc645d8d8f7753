/**
 * Applies an authenticated node's report batch to the API server, in seq order, at most once:
 * a scan result is written together with the node's applied seq in the same object update (the
 * node status), so a re-sent report is recognised; events carry names derived from the report, so
 * a re-sent one meets AlreadyExists. The ack is the last seq applied; a failure mid-batch acks
 * what was applied before it and the agent re-sends the rest.
 */
import type { Logger } from '../core/log.js'
import type { Ack, FindingPayload, HeartbeatPayload, Report, ReportBatch, ScanPayload } from '../core/protocol.js'
import { fileIntegrityFor, type ClusterCache, type FileIntegrity } from './cluster-cache.js'
import { recordEvent } from './event-recorder.js'
import { eventName, nodeIntegrityEvent } from './fio-events.js'
import type { FioMetrics } from './fio-metrics.js'
import { nodeStatusName, OUR_KEYS } from './fio-names.js'
import { isAlreadyExists, NODESTATUSES, updateWithRetry, type KubeClient } from './kube-client.js'
import { appliedSeq, isNewFailureOrTransition, mergeResult, newNodeStatus, scanResult, type NodeStatusObject, type ScanResult } from './node-status.js'
import type { HeartbeatSeen } from './node-table.js'
import { failedConfigMap, writeFailedConfigMap } from './result-configmap.js'

export interface ApplierDeps {
  readonly kube: KubeClient
  readonly cache: ClusterCache
  readonly metrics: FioMetrics
  readonly log: Logger
  readonly now: () => number
}

interface Target { readonly fi: FileIntegrity, readonly ref: { name: string, namespace: string, uid: string }, readonly node: string }

function errorMessage (p: ScanPayload): string {
  const msg = p.error ?? `AIDE error: ${p.exitCode ?? 'none'}`
  return p.kind === 'init' ? `Error initializing the AIDE DB: ${msg}` : msg
}

/**
 * A result equal to the last one but for its time changes nothing a reader acts on, so it is not
 * written (the API server is not a time-series store): lastProbeTime is when the node entered its
 * current result. A re-sent report is then re-applied as the same no-op, so idempotence holds.
 */
function sameState (current: NodeStatusObject, result: ScanResult, annotations: Record<string, string>): boolean {
  const timeless = (r: ScanResult | undefined): string => JSON.stringify({ ...r, lastProbeTime: undefined })
  const reinitDone = annotations[OUR_KEYS.reinitDone]
  return timeless(current.lastResult) === timeless(result) && (reinitDone === undefined || current.metadata.annotations?.[OUR_KEYS.reinitDone] === reinitDone)
}

export class ReportApplier {
  readonly #chains = new Map<string, Promise<unknown>>()
  /** The last heartbeat each node sent to this replica (backlog for `podsec-fim top`); memory only. */
  readonly heartbeats = new Map<string, HeartbeatSeen>()

  constructor (private readonly d: ApplierDeps) {}

  /** Batches of one node are applied one after the other, never interleaved. */
  async apply (node: string, batch: ReportBatch): Promise<Ack> {
    const prev = this.#chains.get(node) ?? Promise.resolve()
    const run = prev.catch(() => undefined).then(async () => await this.#applyBatch(node, batch))
    this.#chains.set(node, run)
    try {
      return await run
    } finally {
      if (this.#chains.get(node) === run) this.#chains.delete(node)
    }
  }

  async #applyBatch (node: string, batch: ReportBatch): Promise<Ack> {
    let fi = fileIntegrityFor(this.d.cache.snapshot, node)
    if (fi === null && batch.reports.length > 0) {
      // The cache may predate the node or the FileIntegrity; look again before dropping results.
      await this.d.cache.refresh()
      fi = fileIntegrityFor(this.d.cache.snapshot, node)
    }
    let acked = 0
    for (const report of batch.reports) {
      try {
        if (fi === null) this.d.metrics.reports.inc({ kind: report.kind, outcome: 'ignored' })
        else await this.#applyOne({ fi, node, ref: { name: fi.metadata.name, namespace: fi.metadata.namespace ?? '', uid: fi.metadata.uid ?? '' } }, report)
        acked = report.seq
      } catch (err) {
        this.d.log.warn({ err, node, seq: report.seq }, 'report not applied; the agent will send it again')
        if (acked === 0) throw err
        break
      }
    }
    return { node, ackedSeq: acked }
  }

  async #applyOne (t: Target, report: Report): Promise<void> {
    if (report.kind === 'scan') return await this.#scan(t, report.seq, report.payload)
    if (report.kind === 'finding') return await this.#finding(t, report.payload)
    await this.#heartbeat(t, report.payload)
  }

  async #scan (t: Target, seq: number, p: ScanPayload): Promise<void> {
    const ref = { ...NODESTATUSES, namespace: t.ref.namespace, name: nodeStatusName(t.ref.name, t.node) }
    const existing = await this.d.kube.find<NodeStatusObject>(ref)
    if (appliedSeq(existing) >= seq || p.condition === 'Interrupted') {
      this.d.metrics.reports.inc({ kind: 'scan', outcome: p.condition === 'Interrupted' ? 'ignored' : 'duplicate' })
      return
    }
    let configMap: { name: string, namespace: string } | undefined
    if (p.condition === 'Failed') {
      const cm = failedConfigMap(t.ref.name, t.ref.namespace, t.node, p)
      await writeFailedConfigMap(this.d.kube, cm)
      configMap = { name: cm.metadata.name, namespace: t.ref.namespace }
    }
    const result = scanResult({ condition: p.condition, at: p.finishedAt, added: p.added, changed: p.changed, removed: p.removed, configMap, error: errorMessage(p) })
    const annotations: Record<string, string> = { [OUR_KEYS.appliedSeq]: String(seq) }
    if (p.reinitToken !== null) annotations[OUR_KEYS.reinitDone] = p.reinitToken
    const previous = await this.#writeStatus(t, ref, existing, seq, result, annotations)
    if (previous === undefined) return
    this.d.metrics.reports.inc({ kind: 'scan', outcome: 'applied' })
    await this.#announce(t, seq, previous, result)
  }

  /** Creates or merges the node status; returns the previous lastResult, or undefined if seq was already applied. */
  async #writeStatus (t: Target, ref: typeof NODESTATUSES & { namespace: string, name: string }, existing: NodeStatusObject | null, seq: number, result: ScanResult, annotations: Record<string, string>): Promise<ScanResult | null | undefined> {
    if (existing === null) {
      const fresh = newNodeStatus(t.ref, t.node, result)
      fresh.metadata.annotations = annotations
      try {
        await this.d.kube.create(ref, fresh)
        return null
      } catch (err) {
        if (!isAlreadyExists(err)) throw err
      }
    }
    let previous: ScanResult | null | undefined
    await updateWithRetry<NodeStatusObject>(this.d.kube, ref, current => {
      if (appliedSeq(current) >= seq) { previous = undefined; return null }
      previous = current.lastResult ?? null
      if (sameState(current, result, annotations)) return null
      current.metadata.annotations = { ...current.metadata.annotations, ...annotations }
      return mergeResult(current, result)
    })
    return previous
  }

  /** FIO's metrics and NodeIntegrityStatus event, only for a new failure or a transition. */
  async #announce (t: Target, seq: number, previous: ScanResult | null, result: ScanResult): Promise<void> {
    const m = this.d.metrics
    if (!isNewFailureOrTransition(previous, result, m.nodeFailed.get({ node: t.node }))) return
    m.nodeStatus.inc({ condition: result.condition, node: t.node })
    if (result.condition === 'Errored') m.nodeStatusError.inc({ error: result.errorMessage ?? '', node: t.node })
    if (result.condition === 'Failed') m.nodeFailed.set({ node: t.node }, 1)
    if (result.condition === 'Succeeded') m.nodeFailed.set({ node: t.node }, 0)
    await recordEvent(this.d.kube, nodeIntegrityEvent(t.ref, t.node, result, `${t.node}.${seq}`), new Date(this.d.now()).toISOString())
  }

  async #finding (t: Target, p: FindingPayload): Promise<void> {
    const created = await recordEvent(this.d.kube, {
      name: eventName(nodeStatusName(t.ref.name, t.node), `finding.${p.findingId}`),
      reason: 'NodeSecurityFinding',
      type: p.severity === 'info' ? 'Normal' : 'Warning',
      message: `node ${t.node}: ${p.kind}: ${p.message}`.slice(0, 1024),
      component: 'podsec-fim-agent',
      involved: { kind: 'FileIntegrity', ...t.ref },
      count: p.count,
    }, p.observedAt, { refresh: true })
    if (created) this.d.metrics.findings.inc({ node: t.node, kind: p.kind, severity: p.severity })
    this.d.metrics.reports.inc({ kind: 'finding', outcome: created ? 'applied' : 'duplicate' })
  }

  /** The agent's state goes on its node status, written only when it changed (read fresh: caches lag). */
  async #heartbeat (t: Target, p: HeartbeatPayload): Promise<void> {
    this.heartbeats.set(t.node, { backlog: p.backlog, at: new Date(this.d.now()).toISOString() })
    const ref = { ...NODESTATUSES, namespace: t.ref.namespace, name: nodeStatusName(t.ref.name, t.node) }
    const status = await this.d.kube.find<NodeStatusObject>(ref)
    const changed = status !== null && status.metadata.annotations?.[OUR_KEYS.agentState] !== p.state
    if (changed) await this.d.kube.patch(ref, { metadata: { annotations: { [OUR_KEYS.agentState]: p.state } } })
    this.d.metrics.reports.inc({ kind: 'heartbeat', outcome: changed ? 'applied' : 'ignored' })
  }
}

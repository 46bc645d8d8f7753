/**
 * The leader's periodic work per FileIntegrity: turn the `re-init` and `re-init-on-failed`
 * annotations (and a changed config) into re-init tokens handed to agents, drop tokens agents
 * report done, delete node statuses of deleted nodes, and keep `status.phase` with FIO's events
 * and metric. Phases: Pending until a selected node reports (initialDelay delays agents' first
 * check, not their baseline, so unlike FIO it does not hold the phase at Pending),
 * Initializing while any selected node re-initializes or has not reported yet, Error when any
 * lastResult is Errored, Active otherwise.
 */
import { createHash, randomUUID } from 'node:crypto'
import type { Logger } from '../core/log.js'
import { configText, selects, type ClusterCache, type FileIntegrity, type Snapshot } from './cluster-cache.js'
import { inNodeList, pendingReinits } from './directive-builder.js'
import { recordEvent } from './event-recorder.js'
import { phaseEvent } from './fio-events.js'
import type { FioMetrics } from './fio-metrics.js'
import { FIO_KEYS, OUR_KEYS } from './fio-names.js'
import { FILEINTEGRITIES, NODESTATUSES, updateWithRetry, type KubeClient } from './kube-client.js'
import type { NodeStatusObject } from './node-status.js'

export type Phase = 'Pending' | 'Initializing' | 'Active' | 'Error'

export interface ReconcilerDeps {
  readonly kube: KubeClient
  readonly cache: ClusterCache
  readonly metrics: FioMetrics
  readonly log: Logger
  readonly now: () => number
}

const ownedBy = (snap: Snapshot, fi: FileIntegrity): NodeStatusObject[] =>
  snap.nodeStatuses.filter(s => s.metadata.labels?.[FIO_KEYS.owner] === fi.metadata.name && s.metadata.namespace === fi.metadata.namespace)

const selectedNodes = (snap: Snapshot, fi: FileIntegrity): string[] =>
  [...snap.nodes].filter(([, labels]) => selects(fi, labels)).map(([name]) => name)

const configHash = (text: string | null): string => createHash('sha256').update(text ?? '').digest('hex').slice(0, 32)

/** The annotations the FileIntegrity should carry after this round, or null if unchanged. */
export function nextAnnotations (snap: Snapshot, fi: FileIntegrity, newToken: () => string): Record<string, string | null> | null {
  const a = fi.metadata.annotations ?? {}
  const selected = selectedNodes(snap, fi)
  const statuses = ownedBy(snap, fi)
  const pending = pendingReinits(fi)
  const before = JSON.stringify(pending)
  for (const s of statuses) if (pending[s.nodeName] !== undefined && s.metadata.annotations?.[OUR_KEYS.reinitDone] === pending[s.nodeName]) delete pending[s.nodeName]
  const wanted = new Set<string>()
  if (a[FIO_KEYS.reinit] !== undefined) for (const n of selected) if (inNodeList(a[FIO_KEYS.reinit], n)) wanted.add(n)
  if (a[FIO_KEYS.reinitOnFailed] !== undefined) for (const s of statuses) if (s.lastResult?.condition === 'Failed' && selected.includes(s.nodeName)) wanted.add(s.nodeName)
  const hash = configHash(configText(snap, fi))
  if (a[OUR_KEYS.configHash] !== undefined && a[OUR_KEYS.configHash] !== hash) for (const n of selected) wanted.add(n)
  for (const n of wanted) pending[n] = newToken()
  const out: Record<string, string | null> = {}
  if (a[FIO_KEYS.reinit] !== undefined) out[FIO_KEYS.reinit] = null
  if (a[FIO_KEYS.reinitOnFailed] !== undefined) out[FIO_KEYS.reinitOnFailed] = null
  if (a[OUR_KEYS.configHash] !== hash) out[OUR_KEYS.configHash] = hash
  if (JSON.stringify(pending) !== before) out[OUR_KEYS.reinitPending] = Object.keys(pending).length === 0 ? null : JSON.stringify(pending)
  return Object.keys(out).length === 0 ? null : out
}

export function computePhase (snap: Snapshot, fi: FileIntegrity): Phase {
  const selected = selectedNodes(snap, fi)
  const statuses = ownedBy(snap, fi).filter(s => selected.includes(s.nodeName))
  if (statuses.length === 0) return 'Pending'
  const pending = pendingReinits(fi)
  const initializing = selected.some(n => pending[n] !== undefined) || statuses.length < selected.length ||
    statuses.some(s => s.metadata.annotations?.[OUR_KEYS.agentState] === 'initializing')
  if (initializing) return 'Initializing'
  return statuses.some(s => s.lastResult?.condition === 'Errored') ? 'Error' : 'Active'
}

export class PhaseReconciler {
  constructor (private readonly d: ReconcilerDeps) {}

  async reconcileAll (): Promise<void> {
    await this.d.cache.refresh()
    let wrote = false
    for (const fi of this.d.cache.snapshot.fileIntegrities) {
      try {
        wrote = (await this.#annotations(fi)) || wrote
        wrote = (await this.#staleStatuses(fi)) || wrote
      } catch (err) {
        this.d.log.warn({ err, fileIntegrity: fi.metadata.name }, 'reconcile failed; retrying next round')
      }
    }
    if (wrote) await this.d.cache.refresh()
    for (const fi of this.d.cache.snapshot.fileIntegrities) await this.#phase(fi).catch((err: unknown) => { this.d.log.warn({ err, fileIntegrity: fi.metadata.name }, 'phase update failed') })
  }

  async #annotations (fi: FileIntegrity): Promise<boolean> {
    if (nextAnnotations(this.d.cache.snapshot, fi, randomUUID) === null) return false
    const ref = { ...FILEINTEGRITIES, namespace: fi.metadata.namespace ?? '', name: fi.metadata.name }
    const snap = this.d.cache.snapshot
    await updateWithRetry<FileIntegrity>(this.d.kube, ref, current => {
      const change = nextAnnotations(snap, current, randomUUID)
      if (change === null) return null
      const annotations: Record<string, string> = { ...current.metadata.annotations }
      for (const [k, v] of Object.entries(change)) { if (v === null) delete annotations[k]; else annotations[k] = v }
      this.#countReinits(current, annotations)
      current.metadata.annotations = annotations
      return current
    })
    return true
  }

  #countReinits (fi: FileIntegrity, next: Record<string, string>): void {
    const before = pendingReinits(fi)
    const after = pendingReinits({ ...fi, metadata: { ...fi.metadata, annotations: next } })
    const by = fi.metadata.annotations?.[OUR_KEYS.configHash] !== next[OUR_KEYS.configHash] && fi.metadata.annotations?.[OUR_KEYS.configHash] !== undefined ? 'config' : 'demand'
    for (const [node, token] of Object.entries(after)) if (before[node] !== token) this.d.metrics.reinit.inc({ by, node: '' })
  }

  /** FIO (OCPBUGS-15090): statuses of nodes that no longer exist are deleted. */
  async #staleStatuses (fi: FileIntegrity): Promise<boolean> {
    const snap = this.d.cache.snapshot
    const stale = ownedBy(snap, fi).filter(s => !snap.nodes.has(s.nodeName))
    for (const s of stale) {
      await this.d.kube.delete({ ...NODESTATUSES, namespace: s.metadata.namespace ?? '', name: s.metadata.name })
      this.d.log.info({ node: s.nodeName, status: s.metadata.name }, 'deleted the status of a node that no longer exists')
    }
    return stale.length > 0
  }

  async #phase (fi: FileIntegrity): Promise<void> {
    const phase = computePhase(this.d.cache.snapshot, fi)
    if (fi.status?.phase === phase) return
    const ref = { ...FILEINTEGRITIES, namespace: fi.metadata.namespace ?? '', name: fi.metadata.name, subresource: 'status' }
    await this.d.kube.patch(ref, { status: { phase } })
    this.d.metrics.phase.inc({ phase })
    const at = new Date(this.d.now()).toISOString()
    const key = `phase.${createHash('sha1').update(`${fi.metadata.uid ?? ''}.${fi.status?.phase ?? ''}.${phase}.${at}`).digest('hex').slice(0, 16)}`
    await recordEvent(this.d.kube, phaseEvent({ name: fi.metadata.name, namespace: fi.metadata.namespace ?? '', uid: fi.metadata.uid ?? '' }, phase, key), at)
    this.d.log.info({ fileIntegrity: fi.metadata.name, from: fi.status?.phase ?? null, to: phase }, 'phase changed')
  }
}

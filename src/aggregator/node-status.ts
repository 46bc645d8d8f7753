/**
 * FileIntegrityNodeStatus as FIO keeps it (fio-compat.md §1.2, §4.2): at most one result per
 * condition, `lastResult` the newest, zero counts omitted, and the rule deciding when a result is
 * news (a new failure or a transition) that earns an event and a metric update.
 */
import { FIO_API_VERSION, FIO_KEYS, nodeStatusName, OUR_KEYS } from './fio-names.js'
import type { KubeObject } from './kube-client.js'

export type ResultCondition = 'Succeeded' | 'Failed' | 'Errored'

export interface ScanResult {
  lastProbeTime: string
  condition: ResultCondition
  resultConfigMapName?: string
  resultConfigMapNamespace?: string
  errorMessage?: string
  filesAdded?: number
  filesChanged?: number
  filesRemoved?: number
}

export interface NodeStatusObject extends KubeObject {
  nodeName: string
  results: ScanResult[]
  lastResult: ScanResult
}

export interface FileIntegrityRef { readonly name: string, readonly namespace: string, readonly uid: string }

/** Builds a result with FIO's omitempty rules: counts and config map only on Failed, message only on Errored. */
export function scanResult (r: {
  condition: ResultCondition, at: string, added?: number, changed?: number, removed?: number, configMap?: { name: string, namespace: string }, error?: string
}): ScanResult {
  const out: ScanResult = { lastProbeTime: secondPrecision(r.at), condition: r.condition }
  if (r.condition === 'Failed') {
    if (r.configMap !== undefined) { out.resultConfigMapName = r.configMap.name; out.resultConfigMapNamespace = r.configMap.namespace }
    if ((r.added ?? 0) > 0) out.filesAdded = r.added
    if ((r.changed ?? 0) > 0) out.filesChanged = r.changed
    if ((r.removed ?? 0) > 0) out.filesRemoved = r.removed
  }
  if (r.condition === 'Errored') out.errorMessage = r.error ?? ''
  return out
}

/** FIO's lastProbeTime is a creationTimestamp: RFC 3339 with second precision. */
export function secondPrecision (iso: string): string {
  return `${iso.slice(0, 19)}Z`
}

export function newNodeStatus (fi: FileIntegrityRef, node: string, result: ScanResult): NodeStatusObject {
  return {
    apiVersion: FIO_API_VERSION,
    kind: 'FileIntegrityNodeStatus',
    metadata: {
      name: nodeStatusName(fi.name, node),
      namespace: fi.namespace,
      labels: { [FIO_KEYS.owner]: fi.name },
      annotations: {},
      ownerReferences: [{ apiVersion: FIO_API_VERSION, kind: 'FileIntegrity', name: fi.name, uid: fi.uid, controller: true, blockOwnerDeletion: true }],
    },
    nodeName: node,
    results: [result],
    lastResult: result,
  }
}

/**
 * FIO's update: keep results of other conditions, append the new one. Unlike FIO, lastResult
 * always moves to the new result: reports are applied in the node's sequence order, so the newest
 * is known without comparing second-precision times (FIO kept the older one within a second).
 */
export function mergeResult (status: NodeStatusObject, result: ScanResult): NodeStatusObject {
  status.results = [...status.results.filter(r => r.condition !== result.condition), result]
  status.lastResult = result
  return status
}

/**
 * conditionIsNewFailureOrTransition (fio-compat.md §4.2). `failedGauge` is node_failed{node}
 * (0 when never set, which is how FIO re-derives it after a restart, OCPBUGS-42807).
 */
export function isNewFailureOrTransition (previous: ScanResult | null, next: ScanResult, failedGauge: number): boolean {
  if (previous === null) return true
  if (next.condition === 'Failed' && failedGauge === 0) return true
  if (next.condition === 'Succeeded' && failedGauge === 1) return true
  if (previous.condition === 'Failed' && next.condition === 'Failed') {
    return previous.filesAdded !== next.filesAdded || previous.filesChanged !== next.filesChanged || previous.filesRemoved !== next.filesRemoved
  }
  return previous.condition !== next.condition
}

export function appliedSeq (status: KubeObject | null): number {
  const v = status?.metadata.annotations?.[OUR_KEYS.appliedSeq]
  const n = v === undefined ? 0 : Number.parseInt(v, 10)
  return Number.isSafeInteger(n) && n > 0 ? n : 0
}

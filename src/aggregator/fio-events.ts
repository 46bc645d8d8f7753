/**
 * Events with FIO's exact reasons, types and messages (fio-compat.md §4.5), plus our findings.
 * Event names are derived from what they report (node, seq, finding id), so a report applied a
 * second time after a lost ack meets AlreadyExists instead of a duplicate event.
 */
import { createHash } from 'node:crypto'
import { FIO_API_VERSION } from './fio-names.js'
import type { ScanResult } from './node-status.js'

export interface EventSpec {
  readonly name: string
  readonly reason: string
  readonly type: 'Normal' | 'Warning'
  readonly message: string
  readonly component: string
  readonly involved: { readonly kind: string, readonly name: string, readonly namespace: string, readonly uid?: string }
  readonly count?: number
}

export function eventName (object: string, key: string): string {
  const name = `${object}.${key}`
  return name.length <= 253 ? name : `${object.slice(0, 200)}.${createHash('sha1').update(name).digest('hex')}`
}

export function nodeIntegrityEvent (fi: { name: string, namespace: string, uid: string }, node: string, r: ScanResult, key: string): EventSpec {
  const involved = { kind: 'FileIntegrity', name: fi.name, namespace: fi.namespace, uid: fi.uid }
  const base = { name: eventName(fi.name, key), reason: 'NodeIntegrityStatus', component: 'configmapctrl', involved }
  if (r.condition === 'Succeeded') return { ...base, type: 'Normal', message: `no changes to node ${node}` }
  if (r.condition === 'Errored') return { ...base, type: 'Warning', message: `node ${node} has an error! ${r.errorMessage ?? ''}` }
  const log = `${r.resultConfigMapNamespace ?? ''}/${r.resultConfigMapName ?? ''}`
  return { ...base, type: 'Warning', message: `node ${node} has changed! a:${r.filesAdded ?? 0},c:${r.filesChanged ?? 0},r:${r.filesRemoved ?? 0} log:${log}` }
}

export function phaseEvent (fi: { name: string, namespace: string, uid: string }, phase: string, key: string): EventSpec {
  return {
    name: eventName(fi.name, key),
    reason: 'FileIntegrityStatus',
    type: phase === 'Error' ? 'Warning' : 'Normal',
    message: phase,
    component: 'statusctrl',
    involved: { kind: 'FileIntegrity', name: fi.name, namespace: fi.namespace, uid: fi.uid },
  }
}

export function eventObject (e: EventSpec, at: string): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: { name: e.name, namespace: e.involved.namespace },
    involvedObject: { apiVersion: FIO_API_VERSION, ...e.involved },
    reason: e.reason,
    message: e.message,
    type: e.type,
    source: { component: e.component },
    reportingComponent: 'podsec-fim-aggregator',
    firstTimestamp: at,
    lastTimestamp: at,
    count: e.count ?? 1,
  }
}

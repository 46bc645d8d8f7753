/**
 * What the container watcher says about a change, a held-back burst or unreadable storage: the
 * finding and the podsec-inotify-check-containers syslog line that go with it. Every name that
 * came from disk (file names, container names, storage paths) is escaped into one printable line.
 */
import { isoTime } from '../core/control-api.js'
import type { AppError } from '../core/errors.js'
import { podsecLine, prefixOf, safeToken, type Verdict } from './container-classify.js'
import type { Suppressed } from './container-rate.js'
import type { ContainerRecord } from './container-storage.js'
import type { TreeChange } from './container-tree.js'
import { displayPath } from './file-path.js'
import type { FindingInput, SyslogPriority } from './finding-types.js'

export interface Report {
  readonly finding: FindingInput
  /** null: no syslog line (info, which podsec never logged and nagwad would drop). */
  readonly line: { readonly priority: SyslogPriority, readonly message: string } | null
}

/** `namespace/pod/container` for a Kubernetes container, the name otherwise. */
export function containerLabel (r: ContainerRecord): string {
  return safeToken(r.pod !== null && r.namespace !== null ? `${r.namespace}/${r.pod}/${r.name}` : r.name)
}

export function fileReport (storage: string, r: ContainerRecord, change: TreeChange, verdict: Verdict): Report {
  const path = displayPath(change.path)
  const label = containerLabel(r)
  return {
    finding: {
      kind: 'container-file', severity: verdict.severity, subject: path,
      message: podsecLine(verdict.prefix ?? 'Info', change.event, label, verdict.where, path),
      details: {
        containerId: r.id, container: r.name, pod: r.pod, namespace: r.namespace, image: r.image, infra: r.infra,
        event: change.event, layer: r.layer, storage, reason: verdict.reason, whiteout: change.whiteout,
        mode: change.mode === null ? null : (change.mode & 0o7777).toString(8).padStart(4, '0'),
      },
      fingerprint: `container-file:${r.id}:${change.event}:${path}`,
    },
    line: verdict.prefix === null || verdict.priority === null ? null : { priority: verdict.priority, message: podsecLine(verdict.prefix, change.event, label, verdict.where, path) },
  }
}

export function summaryReport (r: ContainerRecord | undefined, s: Suppressed, windowMs: number, limit: number): Report {
  const label = r === undefined ? safeToken(s.key.slice(s.key.indexOf('\0') + 1)) : containerLabel(r)
  const text = `${s.count} more events occurred in the container ${label} within ${Math.round(windowMs / 1000)} s and were not reported one by one (limit ${limit})`
  const p = prefixOf(s.worst)
  return {
    finding: {
      kind: 'container-summary', severity: s.worst, subject: label, message: text,
      details: { containerId: r?.id ?? null, container: r?.name ?? null, pod: r?.pod ?? null, namespace: r?.namespace ?? null, suppressed: s.count, windowStart: isoTime(s.windowStart), windowMs, limit },
    },
    line: p === null ? null : { priority: p.priority, message: `${p.prefix}: ${text}` },
  }
}

/**
 * A burst beyond the tree's bound: a rescan reported what was created, deleted or changed, but not
 * each event (a file written ten times is one change). A warning: it is about what we could see.
 */
export function overflowReport (storage: string, r: ContainerRecord, dropped: number, coalesceMs: number): Report {
  const label = containerLabel(r)
  const text = `${dropped} more file events in the container ${label} within ${coalesceMs} ms were beyond the watcher's bound; the container was rescanned, and created, deleted and changed files are reported once each, not every event`
  return {
    finding: {
      kind: 'container-summary', severity: 'warning', subject: label, message: text,
      details: { containerId: r.id, container: r.name, pod: r.pod, namespace: r.namespace, storage, overflow: true, dropped },
    },
    line: { priority: 'notice', message: `Warning: ${text}` },
  }
}

export function storageReport (storage: string, err: AppError): Report {
  const text = displayPath(Buffer.from(err.message))
  return {
    finding: {
      kind: 'container-storage', severity: 'warning', subject: err.where ?? storage,
      message: `container storage cannot be read: ${text}`,
      details: { storage, code: err.code, error: err.message }, fingerprint: `container-storage:${err.message}`,
    },
    line: { priority: 'notice', message: `Warning: The container storage ${safeToken(storage)} cannot be read: ${text}` },
  }
}

/**
 * What an agent should do, derived only from API objects (any replica computes the same answer):
 * the FileIntegrity serving its node, that FileIntegrity's config ConfigMap, and our re-init
 * bookkeeping on it. The version is a hash of the content, so it changes exactly when the agent
 * has something new to apply.
 */
import { createHash } from 'node:crypto'
import type { Directive } from '../core/protocol.js'
import { configText, fileIntegrityFor, type FileIntegrity, type Snapshot } from './cluster-cache.js'
import { FIO_KEYS, OUR_KEYS } from './fio-names.js'

/** FIO clamps the interval to at least 10 seconds. */
const MIN_GRACE_PERIOD = 10

/** `holdoff` is "" for every node or a comma list of nodes; entries are trimmed (FIO's list bugs, OCPBUGS-37300, avoided). */
export function inNodeList (value: string | undefined, node: string): boolean {
  if (value === undefined) return false
  if (value.trim() === '') return true
  return value.split(',').map(s => s.trim()).includes(node)
}

export function pendingReinits (fi: FileIntegrity): Record<string, string> {
  const raw = fi.metadata.annotations?.[OUR_KEYS.reinitPending]
  if (raw === undefined) return {}
  try {
    const v = JSON.parse(raw) as unknown
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return {}
    return Object.fromEntries(Object.entries(v).filter((e): e is [string, string] => typeof e[1] === 'string'))
  } catch {
    return {}
  }
}

export function buildDirective (snap: Snapshot, node: string): Directive {
  const fi = fileIntegrityFor(snap, node)
  const body: Omit<Directive, 'version'> = fi === null
    ? { fileIntegrity: null, gracePeriod: undefined, initialDelay: undefined, maxBackups: undefined, debug: false, aideConfig: null, holdoff: false, reinitToken: null }
    : {
        fileIntegrity: { name: fi.metadata.name, namespace: fi.metadata.namespace ?? '' },
        gracePeriod: Math.max(MIN_GRACE_PERIOD, fi.spec?.config?.gracePeriod ?? 900),
        initialDelay: Math.max(0, fi.spec?.config?.initialDelay ?? 0),
        maxBackups: Math.max(0, fi.spec?.config?.maxBackups ?? 5),
        debug: fi.spec?.debug === true,
        aideConfig: configText(snap, fi),
        holdoff: inNodeList(fi.metadata.annotations?.[FIO_KEYS.holdoff], node),
        reinitToken: pendingReinits(fi)[node] ?? null,
      }
  const version = createHash('sha256').update(JSON.stringify(body)).digest('hex').slice(0, 32)
  return { version, ...body }
}

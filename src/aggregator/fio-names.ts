/**
 * Object names and keys exactly as the File Integrity Operator builds them (fio-compat.md §0, §2),
 * so existing FIO tooling finds our objects, plus the few keys of our own under our domain.
 */
import { createHash } from 'node:crypto'

export const FIO_GROUP = 'fileintegrity.openshift.io'
export const FIO_API_VERSION = `${FIO_GROUP}/v1alpha1`
const KEY = 'file-integrity.openshift.io'

export const FIO_KEYS = {
  reinit: `${KEY}/re-init`,
  reinitOnFailed: `${KEY}/re-init-on-failed`,
  holdoff: `${KEY}/holdoff`,
  owner: `${KEY}/owner`,
  node: `${KEY}/node`,
  resultLog: `${KEY}/result-log`,
  filesAdded: `${KEY}/files-added`,
  filesChanged: `${KEY}/files-changed`,
  filesRemoved: `${KEY}/files-removed`,
  compressed: `${KEY}/compressed`,
} as const

/** Our own bookkeeping, kept in annotations so the aggregator stays stateless. */
const OURS = 'podsec-fim.altlinux.org'
export const OUR_KEYS = {
  /** On a node status: the highest report seq of that node already applied (idempotency). */
  appliedSeq: `${OURS}/applied-seq`,
  /** On a node status: the re-init token of the last init the node reported. */
  reinitDone: `${OURS}/reinit-done`,
  /** On a node status: the agent's state (active, initializing, holding) from its heartbeats. */
  agentState: `${OURS}/agent-state`,
  /** On a FileIntegrity: JSON {node: token} of re-inits handed out and not yet reported done. */
  reinitPending: `${OURS}/reinit-pending`,
  /** On a FileIntegrity: hash of the aide.conf last handed out (a change re-inits every node). */
  configHash: `${OURS}/config-hash`,
} as const

/** common.DNSLengthName: names of 64 characters or more become prefix + sha1 hex of the full name. */
export function dnsLengthName (prefix: string, name: string): string {
  return name.length >= 64 ? `${prefix}${createHash('sha1').update(name).digest('hex')}` : name
}

/** The scanner DaemonSet name FIO would use; result ConfigMaps are named after it. */
export function daemonSetName (fi: string): string {
  return dnsLengthName('aide', `aide-${fi}`)
}

export function failedConfigMapName (fi: string, node: string): string {
  return `${daemonSetName(fi)}-${node}-failed`
}

export function nodeStatusName (fi: string, node: string): string {
  return `${fi}-${node}`
}

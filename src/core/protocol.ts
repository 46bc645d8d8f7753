/**
 * Protocol v1 between an agent and the aggregator: JSON over HTTPS. The only contract the two
 * programs share. Every body is validated on receipt with the checks below; unknown fields and
 * wrong types are rejected (HTTP 400) with the offending field named.
 *
 *   POST /v1/reports        ReportBatch  -> Ack          (agent pushes its outbox, oldest first)
 *   GET  /v1/nodes                       -> NodeTable  (every node's state, for `podsec-fim top`)
 *   GET  /v1/directives?after=<version>&waitSeconds=<n>
 *                                        -> DirectiveResponse (long-poll: answers when the
 *                                           directive differs from `after`, or after n seconds)
 *
 * The node is the authenticated identity (client certificate CN system:node:<name> or a
 * TokenReview'd token); `node` in a body must equal it, or the request is refused with 403.
 */
import { arrayOf, bool, int, nullable, object, oneOf, optional, record, str, SchemaError, type Check } from './schema.js'

export const PROTOCOL_PATHS = { reports: '/v1/reports', directives: '/v1/directives', nodes: '/v1/nodes' } as const

/** A Kubernetes node name (DNS subdomain). */
const nodeName = str({ max: 253, pattern: /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/ })
const time = str({ max: 40, pattern: /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/ })
const count = int(0)
const paths = arrayOf(str({ max: 8192 }), 5000)

export const checkScanPayload = object({
  scanId: int(1),
  kind: oneOf('init', 'check'),
  trigger: str({ max: 32 }),
  condition: oneOf('Succeeded', 'Failed', 'Errored', 'Interrupted'),
  startedAt: time,
  finishedAt: time,
  exitCode: nullable(int(-1, 255)),
  added: count,
  changed: count,
  removed: count,
  unverified: count,
  errorCode: nullable(str({ max: 64 })),
  error: nullable(str({ max: 16_384 })),
  /** AIDE's plain log, gzip then base64; null when AIDE wrote none. */
  logGzipBase64: nullable(str({ max: 32 * 1024 * 1024 })),
  logBytes: count,
  /** Display paths (see file-path.ts), at most 5000 per list; `filesTruncated` says if any were cut. */
  files: object({ added: paths, changed: paths, removed: paths }),
  filesTruncated: bool,
  /** The re-init token of the directive this init carried out, so the aggregator can finish it. */
  reinitToken: nullable(str({ max: 128 })),
})

export const checkFindingPayload = object({
  findingId: int(1),
  kind: str({ max: 64 }),
  severity: oneOf('critical', 'warning', 'info'),
  observedAt: time,
  subject: str({ max: 8192 }),
  message: str({ max: 16_384 }),
  count: int(1),
  details: record(64 * 1024),
})

export const checkHeartbeatPayload = object({
  agentVersion: str({ max: 64 }),
  aideVersion: str({ max: 64 }),
  state: oneOf('initializing', 'holding', 'active'),
  backlog: count,
  lastScanId: nullable(int(1)),
  directiveVersion: nullable(str({ max: 128 })),
})

export type ScanPayload = ReturnType<typeof checkScanPayload>
export type FindingPayload = ReturnType<typeof checkFindingPayload>
export type HeartbeatPayload = ReturnType<typeof checkHeartbeatPayload>

export type Report =
  | { seq: number, at: string, kind: 'scan', payload: ScanPayload }
  | { seq: number, at: string, kind: 'finding', payload: FindingPayload }
  | { seq: number, at: string, kind: 'heartbeat', payload: HeartbeatPayload }

const PAYLOADS: Record<Report['kind'], Check<unknown>> = {
  scan: checkScanPayload,
  finding: checkFindingPayload,
  heartbeat: checkHeartbeatPayload,
}

const checkReport: Check<Report> = (v, where) => {
  const head = object({ seq: int(1), at: time, kind: oneOf('scan', 'finding', 'heartbeat'), payload: (p: unknown) => p })(v, where)
  const payload = PAYLOADS[head.kind](head.payload, `${where}.payload`)
  return { ...head, payload } as Report
}

export interface ReportBatch {
  node: string
  reports: Report[]
}

/** Reports must be in increasing seq order: the aggregator applies them in that order, once each. */
export const checkReportBatch: Check<ReportBatch> = (v, where) => {
  const batch = object({ node: nodeName, reports: arrayOf(checkReport, 500) })(v, where)
  batch.reports.forEach((r, i) => {
    const prev = batch.reports[i - 1]
    if (prev !== undefined && r.seq <= prev.seq) throw new SchemaError(`${where}.reports[${i}].seq`, `a seq greater than ${prev.seq}`)
  })
  return batch
}

/** The highest seq the aggregator has applied for this node; the agent deletes up to it. */
export const checkAck = object({ node: nodeName, ackedSeq: int(0) })
export type Ack = ReturnType<typeof checkAck>

export const checkDirective = object({
  /** Changes whenever anything below changes; the agent applies a version once. */
  version: str({ max: 128 }),
  /** The FileIntegrity selecting this node, or null when none does (the agent runs on its own config). */
  fileIntegrity: nullable(object({ name: str({ max: 253 }), namespace: str({ max: 63 }) })),
  gracePeriod: optional(int(10)),
  initialDelay: optional(int(0)),
  maxBackups: optional(int(0)),
  debug: bool,
  /** aide.conf text from the FileIntegrity's config ConfigMap; null means the agent's own rules. */
  aideConfig: nullable(str({ max: 1024 * 1024 })),
  holdoff: bool,
  /** A new token asks for one re-init; the agent reports it back in the init's scan payload. */
  reinitToken: nullable(str({ max: 128 })),
})
export type Directive = ReturnType<typeof checkDirective>

export const checkDirectiveResponse = object({ node: nodeName, directive: checkDirective })
export type DirectiveResponse = ReturnType<typeof checkDirectiveResponse>

const nodeRow = object({
  node: nodeName,
  fileIntegrity: nullable(str({ max: 253 })),
  condition: nullable(oneOf('Succeeded', 'Failed', 'Errored')),
  lastProbeTime: nullable(time),
  filesAdded: count,
  filesChanged: count,
  filesRemoved: count,
  agentState: nullable(str({ max: 32 })),
  /** Reports the agent still had to deliver at its last heartbeat to this replica; null: not heard yet. */
  backlog: nullable(count),
  lastHeartbeatAt: nullable(time),
})

/** `node` is the caller (as in every answer); `nodes` the cluster, sorted by name. */
export const checkNodeTable = object({ node: nodeName, nodes: arrayOf(nodeRow, 100_000) })
export type NodeTable = ReturnType<typeof checkNodeTable>

/** Parses JSON text and validates it; both failures are SchemaErrors (HTTP 400). */
export function parseBody<T> (text: string, check: Check<T>): T {
  let raw: unknown
  try {
    raw = JSON.parse(text)
  } catch (err) {
    throw new SchemaError('body', `JSON (${(err as Error).message})`)
  }
  return check(raw, 'body')
}

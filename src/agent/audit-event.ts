/**
 * One line of the kube-apiserver audit log (JSON lines, audit.k8s.io/v1) turned into a denial.
 * Unlike podsec-inotify-check-kubeapi, which keeps only time, first source IP and message of every
 * status >= 400, a denial keeps who, what and from where, and only the configured codes (401 and
 * 403 by default) count. The podsec forbidden.log record is still produced, byte-compatible.
 */
import { AppError } from '../core/errors.js'

export interface AuditDenial {
  readonly time: string
  readonly auditId: string
  readonly user: string
  readonly groups: readonly string[]
  readonly verb: string
  readonly resource: string | null
  readonly subresource: string | null
  readonly namespace: string | null
  readonly name: string | null
  readonly requestUri: string
  readonly sourceIps: readonly string[]
  readonly userAgent: string | null
  readonly code: number
  readonly message: string
}

export const DEFAULT_DENIAL_CODES: readonly number[] = [401, 403]
export const MAX_AUDIT_LINE_BYTES = 1024 * 1024

function invalid (lineNo: number, why: string): AppError {
  return new AppError('PFIM_AUDIT_LINE_INVALID', `audit log line ${lineNo}: ${why}`, { where: `line ${lineNo}` })
}

type Json = Record<string, unknown>

const asObject = (v: unknown): Json | null => (typeof v === 'object' && v !== null && !Array.isArray(v) ? v as Json : null)
const asString = (v: unknown): string | null => (typeof v === 'string' ? v : null)
const asStrings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [])

function parseObject (line: string, lineNo: number): Json {
  if (Buffer.byteLength(line) > MAX_AUDIT_LINE_BYTES) throw invalid(lineNo, `longer than ${MAX_AUDIT_LINE_BYTES} bytes`)
  let raw: unknown
  try {
    raw = JSON.parse(line)
  } catch (err) {
    throw invalid(lineNo, `not JSON (${(err as Error).message})`)
  }
  const event = asObject(raw)
  if (event === null) throw invalid(lineNo, 'not a JSON object')
  if (event.kind !== 'Event' || event.apiVersion !== 'audit.k8s.io/v1') throw invalid(lineNo, 'not an audit.k8s.io/v1 Event')
  return event
}

/**
 * Returns the denial in this line, or null when the line is a well-formed event that is not a
 * denial (another code, or a stage without a response). Throws PFIM_AUDIT_LINE_INVALID otherwise;
 * the tailer counts and skips such lines and goes on.
 */
export function parseAuditLine (line: string, lineNo: number, codes: readonly number[] = DEFAULT_DENIAL_CODES): AuditDenial | null {
  const event = parseObject(line, lineNo)
  const status = asObject(event.responseStatus)
  if (status === null) return null
  const code = status.code
  if (typeof code !== 'number' || !Number.isInteger(code)) throw invalid(lineNo, 'responseStatus.code is not an integer')
  if (!codes.includes(code)) return null
  const user = asObject(event.user)
  const ref = asObject(event.objectRef)
  const time = asString(event.requestReceivedTimestamp)
  const verb = asString(event.verb)
  const uri = asString(event.requestURI)
  if (time === null || verb === null || uri === null || user === null) throw invalid(lineNo, 'a denial without requestReceivedTimestamp, verb, requestURI or user')
  return {
    time,
    auditId: asString(event.auditID) ?? '',
    user: asString(user.username) ?? '',
    groups: asStrings(user.groups),
    verb,
    resource: asString(ref?.resource),
    subresource: asString(ref?.subresource),
    namespace: asString(ref?.namespace),
    name: asString(ref?.name),
    requestUri: uri,
    sourceIps: asStrings(event.sourceIPs),
    userAgent: asString(event.userAgent),
    code,
    message: asString(status.message) ?? '',
  }
}

/** How the kube-apiserver (Go's encoder, TypeMeta first) begins every audit event line. */
const EVENT_PREFIX = Buffer.from('{"kind":"Event","apiVersion":"audit.k8s.io/v1",')
const CLOSE_BRACE = 0x7d

/**
 * Which lines need JSON.parse: parsing every line costs more than the rest of the tailer, while
 * denials are few. A line is skipped unparsed only when it begins as the kube-apiserver writes
 * every event, ends with `}`, and holds the digits of none of the denial codes anywhere: then its
 * responseStatus.code cannot be one of them (a code spelt as 4.03e2 would be missed; Go never
 * writes one). Every other line is parsed, so a malformed line that might be a denial is still
 * counted; a malformed line that passes this screen could not have been a denial.
 */
export function denialScreen (codes: readonly number[]): (line: Buffer) => boolean {
  const needles = codes.map(c => Buffer.from(String(c)))
  return line => {
    if (line.length < EVENT_PREFIX.length || line[line.length - 1] !== CLOSE_BRACE || EVENT_PREFIX.compare(line, 0, EVENT_PREFIX.length) !== 0) return true
    return needles.some(n => line.includes(n, EVENT_PREFIX.length))
  }
}

/** podsec's forbidden.log record: `["<requestReceivedTimestamp>","<first source IP>","<message>"]`. */
export function forbiddenLogRecord (d: AuditDenial): string {
  return JSON.stringify([d.time, d.sourceIps[0] ?? null, d.message])
}

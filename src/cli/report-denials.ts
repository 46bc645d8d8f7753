/**
 * Denied API requests in the mail. The audit tailer keeps the whole denial (src/agent/audit-event.ts
 * AuditDenial) as the finding's details; each field is read defensively, so a finding written by
 * an older or newer agent still renders, falling back to its subject and message.
 */
import type { FindingView } from './report-model.js'
import { isoSeconds } from './scan-text.js'
import { oneLine } from './table.js'

export const DENIAL_KIND = 'audit-denial'

/** podsec-inotify-check-kubeapi's mail subject, kept as the heading of the denials for continuity. */
export const KUBEAPI_SUBJECT = 'Detected requests to the kubernetes cluster with excess authority'

export interface DenialView {
  readonly time: string
  readonly code: number | null
  readonly user: string
  readonly verb: string
  readonly resource: string
  readonly sourceIp: string
  readonly userAgent: string
}

function text (v: unknown): string | null {
  return typeof v === 'string' && v !== '' ? v : null
}

/** `secrets/token (kube-system/foo)` or the request URI when the request named no object. */
function resource (d: Readonly<Record<string, unknown>>): string {
  const res = text(d.resource)
  if (res === null) return text(d.requestUri) ?? '-'
  const sub = text(d.subresource)
  const where = [text(d.namespace), text(d.name)].filter(x => x !== null).join('/')
  return `${res}${sub === null ? '' : `/${sub}`}${where === '' ? '' : ` (${where})`}`
}

export function denialView (f: FindingView): DenialView {
  const d = f.details
  const ips = Array.isArray(d.sourceIps) ? d.sourceIps.filter((x): x is string => typeof x === 'string') : []
  return {
    time: text(d.time) ?? f.observedAt,
    code: typeof d.code === 'number' ? d.code : null,
    user: text(d.user) ?? f.subject,
    verb: text(d.verb) ?? '-',
    resource: resource(d),
    sourceIp: ips.join(', ') || '-',
    userAgent: text(d.userAgent) ?? '-',
  }
}

export function denialLines (f: FindingView): string[] {
  const v = denialView(f)
  const repeat = f.count > 1 ? `  (x${f.count}, last ${isoSeconds(f.lastSeenAt)})` : ''
  return [
    `${isoSeconds(v.time.replace(/\.\d+Z$/, '.000Z'))}  ${v.code ?? ''}  ${oneLine(v.user)}${repeat}${f.isRepeat ? ' [seen again]' : ''}`,
    `  ${oneLine(v.verb)} ${oneLine(v.resource)}`,
    `  from ${oneLine(v.sourceIp)}`,
    `  user agent: ${oneLine(v.userAgent)}`,
    '',
  ]
}

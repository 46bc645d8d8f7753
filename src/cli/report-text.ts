/**
 * The reports as mail: a subject that says what happened on which node, and a plain-text body for
 * `mail`/mutt at 80 columns: the summary first, then each failure with its files, then the denied
 * API requests, then the other findings. File names arrive already escaped (path-view.ts); every
 * other value from the store passes through oneLine, so no byte of a finding can break the layout.
 */
import type { KindCount } from '../agent/finding-query.js'
import { changes, isoSeconds, scanLine } from './scan-text.js'
import type { DigestReport, EventReport, FindingView } from './report-model.js'
import type { ScanIssue } from './report-scans.js'
import { denialLines, DENIAL_KIND, KUBEAPI_SUBJECT } from './report-denials.js'
import { oneLine } from './table.js'

export interface RenderOptions {
  /** Most files listed per scan and most findings listed per section; the rest are counted. */
  readonly limit: number
}

function plural (n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`
}

function heading (title: string): string[] {
  return ['', title, '-'.repeat(title.length), '']
}

function events (findings: readonly FindingView[]): number {
  return findings.reduce((n, f) => n + f.count, 0)
}

function eventParts (r: EventReport): string[] {
  const denials = r.findings.filter(f => f.kind === DENIAL_KIND)
  const others = r.findings.length - denials.length
  const parts: string[] = []
  if (r.failures.length > 0) parts.push(plural(r.failures.length, 'integrity failure'))
  if (r.errors.length > 0) parts.push(plural(r.errors.length, 'scan error'))
  if (denials.length > 0) parts.push(plural(events(denials), 'denied API request'))
  if (others > 0) parts.push(plural(others, 'other finding'))
  return parts
}

export function eventSubject (r: EventReport): string {
  return `podsec-fim: ${oneLine(r.node)}: ${eventParts(r).join(', ')}`
}

function issueLines (issue: ScanIssue, limit: number): string[] {
  const s = issue.scan
  const lines = [scanLine(s), `  finished ${isoSeconds(s.finishedAt)}`]
  if (s.error !== null) lines.push(`  error: ${oneLine(s.error)}${s.errorCode === null ? '' : ` (${s.errorCode})`}`)
  for (const f of issue.files.slice(0, limit)) lines.push(`  ${f.change.padEnd(8)} ${f.path}`)
  if (issue.files.length > limit) lines.push(`  ... and ${issue.files.length - limit} more`)
  if (issue.stillPresent > 0) lines.push(`  (${plural(issue.stillPresent, 'difference')} already seen in scan ${issue.comparedWith ?? '?'} ${issue.stillPresent === 1 ? 'is' : 'are'} still present)`)
  if (s.detailsPruned) lines.push('  (per-file details were pruned by retention before this report)')
  if (s.condition === 'Failed') lines.push(`  files: podsec-fim scan ${s.id}    AIDE log: podsec-fim log ${s.id}`)
  return [...lines, '']
}

function findingLines (f: FindingView): string[] {
  const seen = f.count > 1 ? ` (x${f.count}, last ${isoSeconds(f.lastSeenAt)})` : ''
  const again = f.isRepeat ? ' [seen again]' : ''
  return [`${isoSeconds(f.observedAt)}  ${f.severity}  ${oneLine(f.kind)}  ${oneLine(f.subject)}${seen}${again}`, `  ${oneLine(f.message)}`, '']
}

function listed<T> (items: readonly T[], limit: number, render: (item: T) => string[], more: string): string[] {
  const lines = items.slice(0, limit).flatMap(render)
  if (items.length > limit) lines.push(`... and ${items.length - limit} more ${more}`, '')
  return lines
}

function findingSections (findings: readonly FindingView[], limit: number): string[] {
  const denials = findings.filter(f => f.kind === DENIAL_KIND)
  const others = findings.filter(f => f.kind !== DENIAL_KIND)
  const lines: string[] = []
  if (denials.length > 0) {
    lines.push(...heading('Denied API requests'), KUBEAPI_SUBJECT, '')
    lines.push(...listed(denials, limit, denialLines, 'denials (all of them: podsec-fim report --json)'))
  }
  if (others.length > 0) lines.push(...heading('Other findings'), ...listed(others, limit, findingLines, 'findings (all of them: podsec-fim report --json)'))
  return lines
}

function footer (node: string): string[] {
  return ['-- ', `podsec-fim on ${oneLine(node)}. Run the commands above on the node as u7s-admin:`, '  nsenter_u7s podsec-fim <command>']
}

export function eventBody (r: EventReport, opts: RenderOptions): string {
  const lines = [`podsec-fim report for node ${oneLine(r.node)}, ${isoSeconds(r.generatedAt)}`, '', 'New since the last report:', '']
  for (const p of eventParts(r)) lines.push(`  ${p}`)
  if (r.failures.length > 0) lines.push(...heading('Integrity failures (files differ from the baseline)'), ...r.failures.flatMap(i => issueLines(i, opts.limit)))
  if (r.errors.length > 0) lines.push(...heading('Scan errors'), ...r.errors.flatMap(i => issueLines(i, opts.limit)))
  lines.push(...findingSections(r.findings, opts.limit), '', ...footer(r.node))
  return `${lines.join('\n').replace(/\n{3,}/g, '\n\n')}\n`
}

function digestState (r: DigestReport): string {
  if (r.open !== null) return r.open.scan.condition === 'Failed' ? 'FAILED' : 'ERRORED'
  if (r.lastCheck === null) return 'no check yet'
  return 'OK'
}

export function digestSubject (r: DigestReport): string {
  const denials = r.findings.find(k => k.kind === DENIAL_KIND)?.events ?? 0
  const parts = [digestState(r), plural(r.scans.Failed ?? 0, 'integrity failure'), plural(denials, 'denied API request')]
  return `podsec-fim: ${oneLine(r.node)}: daily digest: ${parts.join(', ')}`
}

function countLines (r: DigestReport): string[] {
  const scans = Object.entries(r.scans).map(([c, n]) => `  ${c.padEnd(12)} ${String(n).padStart(6)}`)
  const findings = r.findings.map((k: KindCount) => `  ${oneLine(k.kind).padEnd(20)} ${String(k.findings).padStart(6)} ${String(k.events).padStart(8)}`)
  return ['Scans by condition:', ...scans, '', 'Findings by kind:     findings   events', ...(findings.length > 0 ? findings : ['  (none)'])]
}

function stateLines (r: DigestReport): string[] {
  const b = r.baseline
  const c = r.lastCheck
  return [
    `baseline:    ${b === null ? 'none yet' : `scan ${b.scanId}, taken ${isoSeconds(b.createdAt)}`}`,
    ...(b === null ? [] : [`             AIDE database ${b.size} bytes, sha256 ${b.sha256.slice(0, 16)}...`]),
    `last check:  ${c === null ? 'none yet' : `${isoSeconds(c.startedAt)}  scan ${c.id} ${c.condition} (${changes(c)})`}`,
  ]
}

export function digestBody (r: DigestReport, opts: RenderOptions): string {
  const lines = [
    `podsec-fim daily digest for node ${oneLine(r.node)}`, `from ${isoSeconds(r.from)} to ${isoSeconds(r.to)}`, '',
    `state:       ${digestState(r)}`, ...stateLines(r), '', ...countLines(r),
  ]
  if (r.open !== null) {
    lines.push(...heading(`Still open: failing since scan ${r.open.since}`), ...issueLines(r.open, opts.limit))
    lines.push('Accept the changes with `podsec-fim reinit` (a new baseline),', 'or restore the files.')
  }
  lines.push('', ...footer(r.node))
  return `${lines.join('\n').replace(/\n{3,}/g, '\n\n')}\n`
}

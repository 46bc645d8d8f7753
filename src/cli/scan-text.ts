/** How a scan summary reads for humans: in the `scans` table, and as the head of `scan` and `check`. */
import type { ScanView } from '../core/control-api.js'
import type { Column } from './table.js'

/** ISO-8601 in UTC to the second: what an admin compares with journal and AIDE times. */
export function isoSeconds (iso: string | null): string {
  return iso === null ? '-' : iso.replace(/\.\d{3}Z$/, 'Z')
}

export function duration (scan: ScanView): string {
  if (scan.finishedAt === null) return scan.condition === 'Running' ? 'running' : '-'
  const ms = Date.parse(scan.finishedAt) - Date.parse(scan.startedAt)
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`
  const s = Math.round(ms / 1000)
  const [h, m, sec] = [Math.floor(s / 3600), Math.floor(s / 60) % 60, s % 60]
  return h > 0 ? `${h}h${String(m).padStart(2, '0')}m` : `${m}m${String(sec).padStart(2, '0')}s`
}

export function changes (scan: ScanView): string {
  return `+${scan.added} ~${scan.changed} -${scan.removed}`
}

export const SCAN_COLUMNS: readonly Column[] = [
  { header: 'ID', isNumeric: true },
  { header: 'KIND' },
  { header: 'TRIGGER' },
  { header: 'STARTED' },
  { header: 'DURATION', isNumeric: true },
  { header: 'CONDITION' },
  { header: 'CHANGES' },
  { header: 'UNVERIFIED', isNumeric: true },
]

export function scanRow (scan: ScanView): string[] {
  return [String(scan.id), scan.kind, scan.trigger, isoSeconds(scan.startedAt), duration(scan),
    scan.condition, changes(scan), String(scan.unverified)]
}

/** One line: "check 12 (manual) Failed: +0 ~1 -0, 0 unverified". */
export function scanLine (scan: ScanView): string {
  return `${scan.kind} ${scan.id} (${scan.trigger}) ${scan.condition}: ${changes(scan)}, ${scan.unverified} unverified`
}

export function scanPairs (scan: ScanView): Array<[string, string]> {
  const pairs: Array<[string, string]> = [
    ['scan', `${scan.id} ${scan.kind} (${scan.trigger})`],
    ['condition', scan.condition],
    ['started', isoSeconds(scan.startedAt)],
    ['finished', scan.finishedAt === null ? '-' : `${isoSeconds(scan.finishedAt)} (${duration(scan)})`],
    ['changes', `${changes(scan)} (added, changed, removed)`],
    ['unverified', `${scan.unverified} (files AIDE could not read)`],
  ]
  if (scan.exitCode !== null) pairs.push(['aide exit', String(scan.exitCode)])
  if (scan.error !== null) pairs.push(['error', `${scan.error}${scan.errorCode === null ? '' : ` (${scan.errorCode})`}`])
  if (scan.detailsPruned) pairs.push(['details', 'pruned by retention (summary only)'])
  return pairs
}

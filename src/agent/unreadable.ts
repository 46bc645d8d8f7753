/**
 * AIDE running as u7s-admin cannot read every file. It reports the children of a directory it
 * cannot open as "removed" and only warns on stderr. Those entries are not removals: they become
 * unverified, so a permission problem never reads as a deleted file and is never silently dropped.
 */
import type { AideReport, ReportEntry } from './aide-report.js'
import type { ScanOutcome, UnverifiedPath } from './scan-types.js'

function isInside (path: Buffer, dirs: readonly Buffer[]): boolean {
  return dirs.some(d => path.length > d.length && path[d.length] === 0x2f && path.subarray(0, d.length).equals(d))
}

export function reclassifyUnreadable (report: AideReport, unverified: readonly UnverifiedPath[]): Pick<ScanOutcome, 'condition' | 'added' | 'changed' | 'removed' | 'entries' | 'unverified'> {
  const dirs = unverified.map(u => u.path)
  const entries: ReportEntry[] = []
  const extra: UnverifiedPath[] = []
  for (const e of report.entries) {
    if (e.change === 'removed' && isInside(e.path, dirs)) extra.push({ path: e.path, reason: 'inside a directory AIDE could not read' })
    else entries.push(e)
  }
  const removed = Math.max(0, report.removed - extra.length)
  const total = report.added + report.changed + removed
  return {
    condition: total === 0 ? 'Succeeded' : 'Failed',
    added: report.added,
    changed: report.changed,
    removed,
    entries,
    unverified: [...unverified, ...extra],
  }
}

/** Stored scans as the control socket and the CLI's --json show them. */
import { isoTime, type ScanView } from '../core/control-api.js'
import type { ScanSummary } from './scan-types.js'

export function scanView (s: ScanSummary): ScanView {
  return { ...s, startedAt: isoTime(s.startedAt) as string, finishedAt: isoTime(s.finishedAt) }
}

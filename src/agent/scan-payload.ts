/**
 * A finished scan as the aggregator receives it (protocol v1 ScanPayload): the counts, the
 * condition, AIDE's plain log gzip+base64 (what FIO publishes as `integritylog`), and the display
 * paths of the files that differ, bounded so that one report always fits the protocol's limits.
 */
import { gzipSync } from 'node:zlib'
import type { ScanPayload } from '../core/protocol.js'
import { displayPath } from './file-path.js'
import type { FinishedScan } from './scanner.js'

export const MAX_FILES_PER_LIST = 5000
const MAX_PATH_CHARS = 8192
const MAX_ERROR_CHARS = 16_384
const MAX_LOG_BASE64 = 32 * 1024 * 1024

function iso (ms: number): string {
  return new Date(ms).toISOString()
}

function fileLists (finished: FinishedScan): { files: ScanPayload['files'], filesTruncated: boolean } {
  const files: ScanPayload['files'] = { added: [], changed: [], removed: [] }
  let filesTruncated = false
  for (const e of finished.outcome.entries) {
    const list = files[e.change]
    if (list.length >= MAX_FILES_PER_LIST) {
      filesTruncated = true
      continue
    }
    const shown = displayPath(e.path)
    if (shown.length > MAX_PATH_CHARS) filesTruncated = true
    list.push(shown.slice(0, MAX_PATH_CHARS))
  }
  return { files, filesTruncated }
}

/** gzip+base64 of AIDE's log; a log too large for one report is left out (logBytes still says its size). */
function encodedLog (log: Buffer | null): string | null {
  if (log === null || log.length === 0) return null
  const encoded = gzipSync(log).toString('base64')
  return encoded.length > MAX_LOG_BASE64 ? null : encoded
}

export function scanPayload (finished: FinishedScan): ScanPayload {
  const s = finished.summary
  if (s.condition === 'Running') throw new Error(`scan ${s.id} is still running`)
  return {
    scanId: s.id,
    kind: s.kind,
    trigger: s.trigger,
    condition: s.condition,
    startedAt: iso(s.startedAt),
    finishedAt: iso(s.finishedAt ?? s.startedAt),
    exitCode: s.exitCode,
    added: s.added,
    changed: s.changed,
    removed: s.removed,
    unverified: s.unverified,
    errorCode: s.errorCode,
    error: s.error === null ? null : s.error.slice(0, MAX_ERROR_CHARS),
    logGzipBase64: encodedLog(finished.outcome.log),
    logBytes: finished.outcome.log?.length ?? 0,
    ...fileLists(finished),
    // An interrupted init did not carry the re-init out; it is retried and reported then.
    reinitToken: s.condition === 'Interrupted' ? null : finished.reinitToken,
  }
}

/**
 * What `status` shows: the agent's own view when it answers on the socket, otherwise what the state
 * database says (read-only), with the reason the rest is missing.
 */
import type { AggregatorView, ScanView, StatusView } from '../core/control-api.js'
import { isoTime } from '../core/control-api.js'
import { isAppError } from '../core/errors.js'
import { VERSION } from '../core/version.js'
import { scanView } from '../agent/scan-view.js'
import { withStore } from './read-store.js'
import { isoSeconds, scanLine } from './scan-text.js'
import { renderPairs } from './table.js'

type Nullable<T> = { readonly [K in keyof T]: T[K] | null }

export type StatusReport = Nullable<StatusView> & {
  readonly isAgentRunning: boolean
  readonly socket: string
  readonly cliVersion: string
  /** Why the agent or the stored state could not be read; null when both were. */
  readonly problems: readonly string[]
}

export function liveStatus (view: StatusView, socket: string): StatusReport {
  return { isAgentRunning: true, socket, cliVersion: VERSION, problems: [], ...view }
}

/** The stored half of a status; a missing or unreadable database is a problem to show, not a crash. */
export function storedStatus (stateDir: string, socket: string, why: string): StatusReport {
  const empty = {
    node: null, agentVersion: null, aideVersion: null, pid: null, startedAt: null, stateDir,
    baseline: null, running: null, lastScan: null, lastCheck: null, nextCheckAt: null, totals: null, watchers: null, aggregator: null,
  }
  const base = { isAgentRunning: false, socket, cliVersion: VERSION }
  try {
    const stored = withStore(stateDir, store => {
      const b = store.currentBaseline()
      const last = store.lastScan()
      const lastCheck = store.lastScan('check')
      return {
        baseline: b === null ? null : { scanId: b.scanId, createdAt: isoTime(b.createdAt) as string, sha256: b.sha256, size: b.size },
        lastScan: last === null ? null : scanView(last),
        lastCheck: lastCheck === null ? null : scanView(lastCheck),
        totals: store.totals(),
      }
    })
    return { ...base, ...empty, ...stored, problems: [why] }
  } catch (err) {
    if (!isAppError(err) || (err.code !== 'PFIM_STORE_NOT_FOUND' && err.code !== 'PFIM_STORE_FAILED')) throw err
    return { ...base, ...empty, problems: [why, err.message] }
  }
}

function scanText (scan: ScanView | null): string {
  return scan === null ? 'none' : `${scanLine(scan)}, ${isoSeconds(scan.finishedAt ?? scan.startedAt)}`
}

function agentPairs (r: StatusReport): Array<[string, string]> {
  if (!r.isAgentRunning) return [['agent', 'not running'], ['cli', `podsec-fim ${r.cliVersion}`]]
  return [
    ['agent', `running, pid ${String(r.pid)}, since ${isoSeconds(r.startedAt)}`],
    ['node', String(r.node)],
    ['versions', `agent ${String(r.agentVersion)}, cli ${r.cliVersion}, ${String(r.aideVersion)}`],
  ]
}

function ageText (iso: string, nowMs: number): string {
  const s = Math.max(0, Math.round((nowMs - Date.parse(iso)) / 1000))
  return s < 120 ? `${s} s` : s < 7200 ? `${Math.round(s / 60)} min` : `${Math.round(s / 3600)} h`
}

/** The aggregator link: where, whether it answers, what it acknowledged, what waits, what the cluster asked. */
export function aggregatorPairs (a: AggregatorView, nowMs: number): Array<[string, string]> {
  const pairs: Array<[string, string]> = [
    ['aggregator', `${a.url}, ${a.isConnected ? 'connected' : 'not connected'}`],
    ['last ack', a.lastAckSeq === null || a.lastAckAt === null ? 'none' : `seq ${a.lastAckSeq}, ${isoSeconds(a.lastAckAt)}`],
    ['backlog', a.oldestAt === null ? `${a.backlog} reports` : `${a.backlog} reports, oldest ${ageText(a.oldestAt, nowMs)} old`],
  ]
  if (a.lastError !== null) pairs.push(['last error', `${a.lastErrorAt === null ? '' : `${isoSeconds(a.lastErrorAt)} `}${a.lastError}`])
  pairs.push(['directive', a.directiveVersion ?? 'none'], ['holding', a.isHeld ? 'yes: checks are held off by the cluster (FileIntegrity holdoff)' : 'no'])
  return pairs
}

export function renderStatus (r: StatusReport, nowMs = Date.now()): string {
  const b = r.baseline
  const pairs: Array<[string, string]> = [
    ...agentPairs(r),
    ['socket', r.socket],
    ['state dir', r.stateDir ?? '-'],
    ['baseline', b === null ? 'none' : `scan ${b.scanId}, ${isoSeconds(b.createdAt)}, ${b.size} bytes, sha256 ${b.sha256.slice(0, 16)}...`],
  ]
  if (r.isAgentRunning) pairs.push(['running', r.running === null ? 'nothing' : r.running.kind])
  pairs.push(['last scan', scanText(r.lastScan)], ['last check', scanText(r.lastCheck)])
  if (r.isAgentRunning) pairs.push(['next check', isoSeconds(r.nextCheckAt)])
  if (r.totals !== null) pairs.push(['scans', `${r.totals.scans} recorded, ${r.totals.failed} failed`])
  if (r.isAgentRunning) pairs.push(...(r.aggregator === null ? [['aggregator', 'none (standalone)'] as [string, string]] : aggregatorPairs(r.aggregator, nowMs)))
  for (const p of r.problems) pairs.push(['note', p])
  return renderPairs(pairs)
}

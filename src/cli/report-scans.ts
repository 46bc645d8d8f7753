/**
 * Integrity failures as the mail reports see them. A Failed check repeats the same differences
 * at every check until someone re-initializes, and a broken aide.conf makes every check Errored;
 * mailing each of those every ten minutes would bury the news (Samhain's ReportOnlyOnce, FIO's
 * "an Event only when the counts change"). So a scan is an issue when it is the first of its kind
 * or brings differences or an error the previous comparable scan did not have.
 */
import { scanView } from '../agent/scan-view.js'
import type { ScanSummary, StoredEntry } from '../agent/scan-types.js'
import type { Store } from '../agent/store.js'
import type { ScanView } from '../core/control-api.js'
import { pathView, type PathView } from './path-view.js'

export interface FileLine extends PathView {
  readonly change: StoredEntry['change']
}

export interface ScanIssue {
  readonly scan: ScanView
  /** Differences not present in `comparedWith` (all of them when there is nothing to compare with). */
  readonly files: readonly FileLine[]
  /** Differences this scan still shows that an earlier scan already had. */
  readonly stillPresent: number
  /** The earlier scan the differences were compared with, or null. */
  readonly comparedWith: number | null
}

const PAGE = 200

export type EntryReader = (scanId: number) => StoredEntry[]

/**
 * Reads a scan's entries, remembering the last two: consecutive Failed scans are each compared
 * with the one before, so every scan's entries are read once instead of twice.
 */
export function entryReader (store: Store): EntryReader {
  const recent = new Map<number, StoredEntry[]>()
  return id => {
    const hit = recent.get(id)
    if (hit !== undefined) return hit
    const entries = store.listEntries(id)
    recent.set(id, entries)
    if (recent.size > 2) recent.delete(recent.keys().next().value as number)
    return entries
  }
}

/** Finished scans with from < id < before, oldest first. */
export function scansBetween (store: Store, from: number, before: number): ScanSummary[] {
  const out: ScanSummary[] = []
  let beforeId = before
  for (;;) {
    const page = store.listScans({ limit: PAGE, beforeId }).filter(s => s.id > from)
    out.push(...page.filter(s => s.condition !== 'Running'))
    const last = page[page.length - 1]
    if (page.length < PAGE || last === undefined) return out.reverse()
    beforeId = last.id
  }
}

/** The newest scan before `id` whose condition passes `accept`, looking back page by page. */
function previous (store: Store, id: number, accept: (s: ScanSummary) => boolean): ScanSummary | null {
  let beforeId = id
  for (;;) {
    const page = store.listScans({ limit: PAGE, beforeId })
    const hit = page.find(accept)
    if (hit !== undefined) return hit
    const last = page[page.length - 1]
    if (page.length < PAGE || last === undefined) return null
    beforeId = last.id
  }
}

function entryKey (e: StoredEntry): string {
  return `${e.path.toString('base64')}\0${e.change}\0${JSON.stringify(e.attributes)}`
}

function fileLine (e: StoredEntry): FileLine {
  return { ...pathView(e.path), change: e.change }
}

/** All differences of a scan, as an issue of its own (the digest's open failure). */
export function wholeIssue (entries: EntryReader, scan: ScanSummary): ScanIssue {
  return { scan: scanView(scan), files: entries(scan.id).map(fileLine), stillPresent: 0, comparedWith: null }
}

/**
 * A Failed scan compared with the previous scan that compared files with the baseline
 * (Succeeded or Failed; an init that Succeeded is a new baseline). Returns null when it shows
 * nothing new. Pruned details cannot be compared, so such a scan is always an issue.
 */
export function failureIssue (store: Store, entries: EntryReader, scan: ScanSummary): ScanIssue | null {
  const prev = previous(store, scan.id, s => s.condition === 'Succeeded' || s.condition === 'Failed')
  if (prev === null || prev.condition !== 'Failed' || prev.detailsPruned || scan.detailsPruned) {
    return { ...wholeIssue(entries, scan), comparedWith: prev?.condition === 'Failed' ? prev.id : null }
  }
  const seen = new Set(entries(prev.id).map(entryKey))
  const all = entries(scan.id)
  const fresh = all.filter(e => !seen.has(entryKey(e)))
  if (fresh.length === 0) return null
  return { scan: scanView(scan), files: fresh.map(fileLine), stillPresent: all.length - fresh.length, comparedWith: prev.id }
}

/** An Errored scan is news unless the scan before it (Interrupted ones aside) failed the same way. */
export function errorIssue (store: Store, scan: ScanSummary): ScanIssue | null {
  const prev = previous(store, scan.id, s => s.condition !== 'Interrupted' && s.condition !== 'Running')
  const isRepeat = prev !== null && prev.condition === 'Errored' && prev.errorCode === scan.errorCode && prev.error === scan.error
  return isRepeat ? null : { scan: scanView(scan), files: [], stillPresent: 0, comparedWith: prev?.id ?? null }
}

/**
 * The failure still open now: the newest finished scan when it is Failed or Errored, with the id
 * of the first scan of the unbroken run of failures it ends (`since`).
 */
export function openFailure (store: Store): { issue: ScanIssue, since: number } | null {
  const last = previous(store, Number.MAX_SAFE_INTEGER, s => s.condition !== 'Interrupted' && s.condition !== 'Running')
  if (last === null || (last.condition !== 'Failed' && last.condition !== 'Errored')) return null
  const ok = previous(store, last.id, s => s.condition === 'Succeeded')
  const first = scansBetween(store, ok?.id ?? 0, last.id + 1).find(s => s.condition === 'Failed' || s.condition === 'Errored')
  return { issue: wholeIssue(entryReader(store), last), since: first?.id ?? last.id }
}

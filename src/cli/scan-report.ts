/** One scan in full, from the read-only store: its summary, every changed file, every unverified file. */
import type { ScanView } from '../core/control-api.js'
import { scanView } from '../agent/scan-view.js'
import type { Store } from '../agent/store.js'
import { pathView, type PathView } from './path-view.js'
import { scanPairs } from './scan-text.js'
import { oneLine, renderPairs } from './table.js'

type AttributeValue = string | number | null

export interface EntryView extends PathView {
  readonly change: 'added' | 'removed' | 'changed'
  readonly summary: string
  readonly attributes: Readonly<Record<string, { readonly old: AttributeValue, readonly new: AttributeValue }>>
}

export type UnverifiedView = PathView & { readonly reason: string }

export interface ScanReport {
  readonly scan: ScanView
  readonly entries: readonly EntryView[]
  readonly unverified: readonly UnverifiedView[]
}

export function readScanReport (store: Store, id: number): ScanReport {
  const scan = scanView(store.getScan(id))
  const entries = store.listEntries(id).map((e): EntryView => ({
    ...pathView(e.path),
    change: e.change,
    summary: e.summary,
    attributes: Object.fromEntries(Object.entries(e.attributes).map(([k, v]) => [k, { old: v.old ?? null, new: v.new ?? null }])),
  }))
  const unverified = store.listUnverified(id).map(u => ({ ...pathView(u.path), reason: u.reason }))
  return { scan, entries, unverified }
}

function value (v: AttributeValue): string {
  return v === null ? '(none)' : oneLine(String(v))
}

function entryLines (e: EntryView): string[] {
  const head = `${e.change.padEnd(8)} ${e.path}`
  const attrs = Object.entries(e.attributes)
  const size = Math.max(0, ...attrs.map(([k]) => k.length))
  return [head, ...attrs.map(([k, v]) => `         ${k.padEnd(size)}  ${value(v.old)} -> ${value(v.new)}`)]
}

export function renderScanReport (r: ScanReport): string {
  const parts = [renderPairs(scanPairs(r.scan))]
  if (r.entries.length > 0) parts.push(`files (${r.entries.length}):\n${r.entries.flatMap(entryLines).map(l => `  ${l}`).join('\n')}`)
  else if (r.scan.kind === 'check' && r.scan.condition === 'Succeeded') parts.push('files: no differences')
  if (r.unverified.length > 0) {
    const size = Math.max(...r.unverified.map(u => u.path.length))
    parts.push(`unverified (${r.unverified.length}):\n${r.unverified.map(u => `  ${u.path.padEnd(size)}  ${oneLine(u.reason)}`).join('\n')}`)
  }
  return parts.join('\n\n')
}

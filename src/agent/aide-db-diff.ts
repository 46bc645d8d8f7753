/**
 * Compares two AIDE database entries the way AIDE 0.18's --check does (compare_db.c
 * get_changed_attributes and report.c): an attribute counts only when BOTH entries recorded it;
 * ftype compares the type bits of the mode, perm the whole mode, sizeg only a shrink, digests,
 * link names, ACLs, SELinux contexts and capabilities as "none or value". An entry is changed when
 * any such attribute differs; a different attribute set alone is not a change. The summary string
 * and the per-attribute old/new values match AIDE's report, so a fast check's result is an
 * `aide --check` result.
 */
import type { AttributeChange, ReportEntry } from './aide-report.js'
import { BIT, DIGESTS, REPORT_NAME, REPORT_ORDER, SUMMARY_CHAR, hasAttr, type AttributeName } from './aide-attributes.js'
import type { AideDbEntry } from './aide-db.js'
import { FIELD, numeric, perm, raw, reportValue, sameFileType, typeChar } from './aide-db-values.js'
import { decodeLinkName } from './aide-db.js'

const NUMERIC: readonly AttributeName[] = ['size', 'bcount', 'uid', 'gid', 'atime', 'mtime', 'ctime', 'inode', 'linkcount', 'e2fsattrs']
const AS_TEXT: readonly AttributeName[] = ['linkname', 'acl', 'selinux', 'capabilities']

function xattrSet (v: string | null): string {
  if (v === null || v === '0') return ''
  const parts = v.split(',').slice(1)
  const pairs: string[] = []
  for (let i = 0; i + 1 < parts.length; i += 2) pairs.push(`${parts[i] ?? ''}=${parts[i + 1] ?? ''}`)
  return pairs.sort().join(',')
}

function sameBytes (a: Buffer | null, b: Buffer | null): boolean {
  return a === null || b === null ? a === b : a.equals(b)
}

function differs (name: AttributeName, a: AideDbEntry, b: AideDbEntry): boolean {
  if (name === 'ftype') return !sameFileType(a, b)
  if (name === 'perm') return perm(a) !== perm(b)
  if (name === 'sizeg') return numeric(a, 'size') > numeric(b, 'size')
  if (name === 'linkname') return !sameBytes(decodeLinkName(raw(a, 'lname') ?? '0'), decodeLinkName(raw(b, 'lname') ?? '0'))
  if (name === 'xattrs') return xattrSet(raw(a, 'xattrs')) !== xattrSet(raw(b, 'xattrs'))
  const field = FIELD[name] ?? name
  if (NUMERIC.includes(name)) return numeric(a, field) !== numeric(b, field)
  // Digests and text fields: '0' is "none", anything else is compared as written.
  return (raw(a, field) ?? '0') !== (raw(b, field) ?? '0')
}

const COMPARED: readonly AttributeName[] = ['ftype', 'sizeg', ...NUMERIC, 'perm', ...AS_TEXT, 'xattrs', ...DIGESTS]

/** The attributes AIDE would report as changed between `old` and `neu` (empty: unchanged). */
export function changedAttributes (old: AideDbEntry, neu: AideDbEntry): Set<AttributeName> {
  const out = new Set<AttributeName>()
  for (const name of COMPARED) {
    const bit = BIT[name]
    if (hasAttr(old.attr, bit) && hasAttr(neu.attr, bit) && differs(name, old, neu)) out.add(name)
  }
  return out
}

function positionAttrs (position: AttributeName | 'digests'): readonly AttributeName[] {
  if (position === 'digests') return DIGESTS
  if (position === 'size') return ['size', 'sizeg']
  return [position]
}

/** AIDE's 18-character summary of a changed entry (report.c get_summarize_changes_string). */
export function changeSummary (old: AideDbEntry, neu: AideDbEntry, changed: ReadonlySet<AttributeName>): string {
  let out = typeChar(neu)
  for (let i = 1; i < REPORT_ORDER.length; i++) {
    const names = positionAttrs(REPORT_ORDER[i] as AttributeName | 'digests')
    const inBoth = names.some(n => hasAttr(old.attr, BIT[n]) && hasAttr(neu.attr, BIT[n]))
    const isSize = REPORT_ORDER[i] === 'size'
    const removed = names.some(n => hasAttr(old.attr, BIT[n]) && !hasAttr(neu.attr, BIT[n]))
    const added = names.some(n => !hasAttr(old.attr, BIT[n]) && hasAttr(neu.attr, BIT[n]))
    if (names.some(n => changed.has(n))) {
      out += isSize && numeric(old, 'size') > numeric(neu, 'size') ? '<' : SUMMARY_CHAR[i]
    } else if (removed) out += '-'
    else if (added) out += '+'
    else if (inBoth) out += isSize ? '=' : '.'
    else out += ' '
  }
  return out
}

/** The changed attributes' old and new values in AIDE's report order, keyed by JSON report names. */
export function changeDetails (old: AideDbEntry, neu: AideDbEntry, changed: ReadonlySet<AttributeName>): Record<string, AttributeChange> {
  const details: Record<string, AttributeChange> = {}
  for (const position of REPORT_ORDER) {
    for (const name of positionAttrs(position)) {
      if (!changed.has(name)) continue
      const isDigest = position === 'digests'
      const o = reportValue(old, name, isDigest)
      const n = reportValue(neu, name, isDigest)
      Object.defineProperty(details, REPORT_NAME[name] ?? name, {
        value: { ...(o === undefined ? {} : { old: o }), ...(n === undefined ? {} : { new: n }) },
        enumerable: true,
      })
    }
  }
  return details
}

export function changedEntry (old: AideDbEntry, neu: AideDbEntry, changed: ReadonlySet<AttributeName>): ReportEntry {
  return { path: neu.path, change: 'changed', summary: changeSummary(old, neu, changed), attributes: changeDetails(old, neu, changed) }
}

export function addedEntry (e: AideDbEntry): ReportEntry {
  return { path: e.path, change: 'added', summary: typeChar(e) + '+'.repeat(REPORT_ORDER.length - 1), attributes: {} }
}

/** What --check reports for a path: `old` is its baseline entry (null: not in the baseline), `neu` what is there now. */
export function compareEntry (old: AideDbEntry | null, neu: AideDbEntry): ReportEntry | null {
  if (old === null) return addedEntry(neu)
  const attrs = changedAttributes(old, neu)
  return attrs.size === 0 ? null : changedEntry(old, neu, attrs)
}

export function removedEntry (e: AideDbEntry): ReportEntry {
  return { path: e.path, change: 'removed', summary: typeChar(e) + '-'.repeat(REPORT_ORDER.length - 1), attributes: {} }
}

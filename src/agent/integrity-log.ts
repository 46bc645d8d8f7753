/**
 * Renders a check result in AIDE 0.18's plain report layout, the text FIO publishes as
 * `integritylog` and parses with its regexps (`  Added entries:\t\tN` etc.), for checks whose
 * result our code computed (the fast full check). Paths use AIDE's plain escaping (controls and
 * DEL as \ooo, a backslash before three digits as \134, bytes >= 0x80 raw), so the log reads back
 * through the same parser as AIDE's own. Not rendered: the `databases` block (AIDE's hashes of
 * its own database files), which describes no file.
 */
import { DIGESTS } from './aide-attributes.js'
import type { AideReport, AttributeChange, ChangeKind, ReportEntry } from './aide-report.js'

const RULER = '---------------------------------------------------'
const WIDTH = 32
const LABELS: Readonly<Record<string, string>> = {
  file_type: 'File type', link_name: 'Lname', perm: 'Perm', uid: 'Uid', gid: 'Gid', size: 'Size', growing_size: 'Size (>)',
  block_count: 'Bcount', access_time: 'Atime', modify_time: 'Mtime', change_time: 'Ctime', inode: 'Inode',
  link_count: 'Linkcount', acl: 'ACL', xattrs: 'XAttrs', selinux: 'SELinux', e2fsattrs: 'E2FSAttrs', capabilities: 'Caps',
  ...Object.fromEntries(DIGESTS.map(d => [d, d.toUpperCase()])),
}
const TYPE_NAMES: Readonly<Record<string, string>> = { f: 'File', d: 'Directory', l: 'Link', p: 'FIFO', b: 'Block device', c: 'Character device', s: 'Socket' }

/** AIDE's plain-report escaping of path bytes, the inverse of decodeAidePlainPath. */
export function encodeAidePlainPath (p: Buffer): string {
  let out = ''
  for (let i = 0; i < p.length; i++) {
    const b = p[i] ?? 0
    const isDigitRun = b === 0x5c && [1, 2, 3].every(k => (p[i + k] ?? 0) >= 0x30 && (p[i + k] ?? 0) <= 0x39)
    if ((b < 0x20 && b !== 0x1f) || b === 0x7f || isDigitRun) out += '\\' + b.toString(8).padStart(3, '0')
    else out += String.fromCharCode(b)
  }
  return out
}

function chunks (value: string | number | undefined): string[] {
  if (value === undefined) return []
  const out: string[] = []
  for (const line of String(value).split('\n')) {
    for (let i = 0; i < Math.max(line.length, 1); i += WIDTH) out.push(line.slice(i, i + WIDTH))
  }
  return out
}

function detailLines (name: string, change: AttributeChange): string[] {
  const old = chunks(change.old)
  const neu = chunks(change.new)
  const lines: string[] = []
  for (let i = 0; i < Math.max(old.length, neu.length); i++) {
    const head = i === 0 ? ` ${(LABELS[name] ?? name).padEnd(10)}: ` : ' '.repeat(13)
    lines.push(`${head}${(old[i] ?? '').padEnd(WIDTH)} | ${neu[i] ?? ''}`)
  }
  return lines
}

function section (title: string): string[] {
  return ['', RULER, `${title}:`, RULER, '']
}

function listSection (entries: readonly ReportEntry[], kind: ChangeKind, title: string): string[] {
  const listed = entries.filter(e => e.change === kind)
  if (listed.length === 0) return []
  return [...section(title), ...listed.map(e => `${e.summary}: ${encodeAidePlainPath(e.path)}`)]
}

function detailSection (entries: readonly ReportEntry[]): string[] {
  const changed = entries.filter(e => e.change === 'changed')
  if (changed.length === 0) return []
  const lines = section('Detailed information about changes')
  for (const e of changed) {
    lines.push(`${TYPE_NAMES[e.summary[0] ?? ''] ?? 'File'}: ${encodeAidePlainPath(e.path)}`)
    for (const [name, change] of Object.entries(e.attributes)) lines.push(...detailLines(name, change))
    lines.push('')
  }
  return lines
}

function summaryLines (report: AideReport): string[] {
  if (report.added + report.removed + report.changed === 0) return ['', `Number of entries:\t${report.totalEntries ?? 0}`]
  return [
    '', 'Summary:',
    `  Total number of entries:\t${report.totalEntries ?? 0}`,
    `  Added entries:\t\t${report.added}`,
    `  Removed entries:\t\t${report.removed}`,
    `  Changed entries:\t\t${report.changed}`,
  ]
}

export function renderIntegrityLog (report: AideReport, runSeconds: number): Buffer {
  const minutes = Math.floor(runSeconds / 60)
  const lines = [
    `Start timestamp: ${report.startTime ?? ''} (AIDE ${report.aideVersion ?? ''})`,
    report.outline,
    ...summaryLines(report),
    ...listSection(report.entries, 'added', 'Added entries'),
    ...listSection(report.entries, 'removed', 'Removed entries'),
    ...listSection(report.entries, 'changed', 'Changed entries'),
    ...detailSection(report.entries),
    '',
    `End timestamp: ${report.endTime ?? ''} (run time: ${minutes}m ${Math.round(runSeconds - minutes * 60)}s)`,
    '',
  ]
  return Buffer.from(lines.join('\n'), 'latin1')
}

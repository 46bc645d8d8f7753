/**
 * Parser for AIDE's plain report (report_format=plain), the only format before 0.18.
 *
 * The layout is positional: an entry line is `<summary>: <path>` with a fixed-width summary
 * (18 chars in 0.17/0.18, fewer in 0.16), and a detail line is ` <label padded>: <old, 32 wide> | <new>`,
 * with values longer than 32 chars wrapped onto continuation lines. Positions, not spaces, separate
 * the fields, because paths and values may contain spaces. Paths use the plain escaping
 * (`\ooo` for controls, raw bytes >= 0x80), so the text is read as latin1, one char per byte.
 * Layouts: 0.18.3 recorded with the real binary (test/fixtures/aide), 0.16.1/0.17.4/0.14 from
 * published output (see the fixtures' test for sources); 0.14 separates old and new with ','.
 */
import { AideError } from '../core/errors.js'
import type { AideReport, AttributeChange, ChangeKind, ReportEntry } from './aide-report.js'
import { decodeAidePlainPath, displayPath } from './file-path.js'

/** AIDE's detail labels (attributes.c details_string) -> the JSON report's attribute names. */
const LABELS: ReadonlyMap<string, string> = new Map([
  ['File type', 'file_type'], ['Lname', 'link_name'], ['Perm', 'perm'], ['Uid', 'uid'], ['Gid', 'gid'],
  ['Size', 'size'], ['Size (>)', 'growing_size'], ['Bcount', 'block_count'], ['Atime', 'access_time'],
  ['Mtime', 'modify_time'], ['Ctime', 'change_time'], ['Inode', 'inode'], ['Linkcount', 'link_count'],
  ['MD5', 'md5'], ['SHA1', 'sha1'], ['RMD160', 'rmd160'], ['TIGER', 'tiger'], ['SHA256', 'sha256'],
  ['SHA512', 'sha512'], ['CRC32', 'crc32'], ['CRC32B', 'crc32b'], ['HAVAL', 'haval'], ['GOST', 'gost'],
  ['WHIRLPOOL', 'whirlpool'], ['STRIBOG256', 'stribog256'], ['STRIBOG512', 'stribog512'], ['ACL', 'acl'],
  ['XAttrs', 'xattrs'], ['SELinux', 'selinux'], ['E2FSAttrs', 'e2fsattrs'], ['Caps', 'capabilities'],
])
/** Attributes the JSON report gives as numbers; the text parser matches that. */
const NUMERIC = new Set(['size', 'growing_size', 'block_count', 'uid', 'gid', 'inode', 'link_count'])
/** Attributes with one value per line (an ACL entry, an xattr); the others wrap one value. */
const MULTI_LINE = new Set(['acl', 'xattrs'])
const CHUNK_WIDTH = 32
const OLD_AT = 13
const SEPARATOR_AT = 46
const NEW_AT = 48
const FILE_TYPES = 'File|Directory|Link|FIFO|Block device|Character device|Socket|Door|Port|Unknown file type'
const DETAIL_HEADER = new RegExp(`^(?:(?:${FILE_TYPES}): )?(/.*)$`)
const COUNT_LINE = /^ {2}(Total number of|Added|Removed|Changed) (?:entries|files):\s*(.*)$/
const RULER = /^-{20,}$/

type Section = 'header' | 'list' | 'details' | 'databases'

interface Side { parts: string[], lastWidth: number }
interface AttrBuilder { readonly name: string, old: Side | null, new: Side | null }
interface EntryBuilder {
  readonly key: string
  readonly change: ChangeKind
  readonly summary: string
  readonly attrs: Map<string, AttrBuilder>
}

interface State {
  outline: string | null
  aideVersion: string | null
  startTime: string | null
  endTime: string | null
  counts: Record<'total' | ChangeKind, number | null>
  section: Section
  listKind: ChangeKind | null
  summaryWidth: number | null
  readonly entries: Map<string, EntryBuilder>
  /** The entry whose detail lines follow; null inside a block for an unlisted path. */
  current: EntryBuilder | null
  attr: AttrBuilder | null
}

function invalid (message: string, lineNo: number): AideError {
  return new AideError('PFIM_AIDE_REPORT_INVALID', `AIDE plain report: ${message}`, { where: `line ${lineNo}` })
}

function pathKey (escaped: string): string {
  return decodeAidePlainPath(Buffer.from(escaped, 'latin1')).toString('latin1')
}

function startSection (state: State, title: string, lineNo: number): void {
  const group = /^(Added|Removed|Changed) (?:entries|files)$/.exec(title)
  state.current = null
  state.attr = null
  if (group !== null) {
    state.section = 'list'
    state.listKind = (group[1] ?? '').toLowerCase() as ChangeKind
  } else if (/^(Added|Removed|Changed)(, removed)?( and (removed|changed))? entries$/.test(title)) {
    state.section = 'list'
    state.listKind = null // report_grouped=no: the kind comes from each line
  } else if (title === 'Detailed information about changes') {
    state.section = 'details'
  } else if (title === 'The attributes of the (uncompressed) database(s)') {
    state.section = 'databases'
  } else {
    throw invalid(`unknown section ${JSON.stringify(title)}`, lineNo)
  }
}

function readHeaderLine (state: State, line: string, lineNo: number): void {
  const start = /^Start timestamp: (.*?)(?: \(AIDE ([^)]*)\))?$/.exec(line)
  const count = COUNT_LINE.exec(line)
  const total = /^Number of entries:\s*(.*)$/.exec(line)
  if (start !== null) {
    state.startTime = start[1] ?? null
    state.aideVersion = start[2] ?? state.aideVersion
  } else if (state.outline === null && line.startsWith('AIDE ')) {
    state.outline = line
    // 0.14/0.15 put the version here: "AIDE 0.15.1 found differences ..."
    state.aideVersion ??= /^AIDE ([0-9][0-9.]*) /.exec(line)?.[1] ?? null
  } else if (count !== null || total !== null) {
    const value = (count?.[2] ?? total?.[1] ?? '').trimEnd()
    if (!/^[0-9]+$/.test(value)) throw invalid(`summary count ${JSON.stringify(value)} is not a number`, lineNo)
    const label = count?.[1] ?? 'Total number of'
    const key = label === 'Total number of' ? 'total' : label.toLowerCase() as ChangeKind
    state.counts[key] = Number(value)
  }
  // Other header lines (config options, "Verbose level: 6", "Entry ... has different attributes") carry nothing we keep.
}

function kindOfSummary (summary: string): ChangeKind {
  const flags = summary.slice(1)
  if (/^\++$/.test(flags)) return 'added'
  if (/^-+$/.test(flags)) return 'removed'
  return 'changed'
}

function readListLine (state: State, line: string, lineNo: number): void {
  const named = /^(added|removed|changed): (.*)$/.exec(line)
  let change: ChangeKind
  let summary = ''
  let escaped: string
  if (named !== null) {
    change = named[1] as ChangeKind
    escaped = named[2] ?? ''
  } else {
    // Summary characters never include '/', and paths are absolute: the first ": /" ends the summary.
    const end = line.indexOf(': /')
    summary = end < 0 ? '' : line.slice(0, end)
    if (!/^[!?A-Za-z][ -~]{9,23}$/.test(summary) || (state.summaryWidth ?? end) !== end) {
      throw invalid(`broken entry line ${JSON.stringify(line.slice(0, 40))}`, lineNo)
    }
    state.summaryWidth = end
    change = kindOfSummary(summary)
    escaped = line.slice(end + 2)
  }
  if (state.listKind !== null && change !== state.listKind) {
    throw invalid(`a ${change} entry in the ${state.listKind} list`, lineNo)
  }
  const key = pathKey(escaped)
  state.entries.set(key, { key, change, summary, attrs: new Map() })
}

interface Cells { readonly label: string | null, readonly old: string | null, readonly new: string | null }

/** Splits ` Label     : old | new` by column; a blank label and ' ' instead of ':' mark a continuation. */
function splitDetailLine (line: string, lineNo: number): Cells {
  const head = line.slice(0, 11)
  const colon = line[11]
  if (line[0] !== ' ' || line.length < OLD_AT || line[12] !== ' ' || (colon !== ':' && colon !== ' ') ||
      (colon === ' ' && head.trim() !== '') || (colon === ':' && head.trim() === '')) {
    throw invalid(`broken detail line ${JSON.stringify(line.slice(0, 40))}`, lineNo)
  }
  const label = colon === ':' ? head.trim() : null
  const sep = line[SEPARATOR_AT]
  if (line.length > SEPARATOR_AT && (sep === '|' || sep === ',') && line[SEPARATOR_AT - 1] === ' ') {
    return { label, old: line.slice(OLD_AT, SEPARATOR_AT - 1).trimEnd(), new: line.slice(NEW_AT) }
  }
  if (line.length <= SEPARATOR_AT - 1) return { label, old: line.slice(OLD_AT), new: null }
  if (line.slice(OLD_AT, NEW_AT).trim() !== '') throw invalid('detail line has no old/new separator', lineNo)
  return { label, old: null, new: line.slice(NEW_AT) }
}

function appendChunk (side: Side | null, chunk: string | null, isMultiLine: boolean): Side | null {
  if (chunk === null) return side
  const target = side ?? { parts: [], lastWidth: 0 }
  // A chunk of full width was cut by AIDE's wrapping, so the next line continues the same value.
  const isContinuation = !isMultiLine || target.lastWidth === CHUNK_WIDTH
  if (isContinuation && target.parts.length > 0) {
    target.parts[target.parts.length - 1] += chunk
  } else if (chunk !== '' || !isMultiLine) {
    target.parts.push(chunk)
  }
  target.lastWidth = chunk.length
  return target
}

function readDetailLine (state: State, line: string, lineNo: number): void {
  const header = DETAIL_HEADER.exec(line)
  if (header !== null) {
    state.current = state.entries.get(pathKey(header[1] ?? '')) ?? null
    state.attr = null
    return
  }
  const cells = splitDetailLine(line, lineNo)
  if (cells.label !== null) {
    const name = LABELS.get(cells.label) ?? cells.label.toLowerCase().replace(/[^a-z0-9]+/g, '_')
    state.attr = { name, old: null, new: null }
    state.current?.attrs.set(name, state.attr)
  } else if (state.attr === null) {
    throw invalid('continuation line without an attribute', lineNo)
  }
  const attr = state.attr
  attr.old = appendChunk(attr.old, cells.old, MULTI_LINE.has(attr.name))
  attr.new = appendChunk(attr.new, cells.new, MULTI_LINE.has(attr.name))
}

function readLine (state: State, line: string, lineNo: number): void {
  const end = /^End timestamp: (.*?)(?: \(run time: .*\))?$/.exec(line)
  if (end !== null) {
    state.endTime = end[1] ?? null
    state.section = 'databases' // nothing after the footer is an entry
  } else if (state.section === 'header') {
    readHeaderLine(state, line, lineNo)
  } else if (line === '' || state.section === 'databases') {
    // blank separators, and the report's own database hashes, which describe no file
  } else if (state.section === 'list') {
    readListLine(state, line, lineNo)
  } else {
    readDetailLine(state, line, lineNo)
  }
}

function finishValue (name: string, side: Side | null): string | number | undefined {
  if (side === null) return undefined
  const text = side.parts.map((p) => displayPath(decodeAidePlainPath(Buffer.from(p, 'latin1')))).join('\n')
  return NUMERIC.has(name) && /^[0-9]+$/.test(text) ? Number(text) : text
}

function finishEntry (e: EntryBuilder): ReportEntry {
  const attributes = Object.fromEntries([...e.attrs.values()].map((a): [string, AttributeChange] => {
    const old = finishValue(a.name, a.old)
    const now = finishValue(a.name, a.new)
    return [a.name, { ...(old === undefined ? {} : { old }), ...(now === undefined ? {} : { new: now }) }]
  }))
  return { path: Buffer.from(e.key, 'latin1'), change: e.change, summary: e.summary, attributes }
}

function checkedCount (entries: readonly ReportEntry[], change: ChangeKind, declared: number | null): number {
  const found = entries.filter((e) => e.change === change).length
  if (declared === null) return found
  if (found > 0 && found !== declared) {
    throw invalid(`the summary counts ${declared} ${change} entries but ${found} are listed`, 1)
  }
  return declared
}

export function parseTextReport (raw: Buffer): AideReport {
  const lines = raw.toString('latin1').split('\n')
  const state: State = {
    outline: null, aideVersion: null, startTime: null, endTime: null,
    counts: { total: null, added: null, removed: null, changed: null },
    section: 'header', listKind: null, summaryWidth: null, entries: new Map(), current: null, attr: null,
  }
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? ''
    const title = lines[i + 1] ?? ''
    if (RULER.test(line) && RULER.test(lines[i + 2] ?? '') && title.endsWith(':')) {
      startSection(state, title.slice(0, -1), i + 2)
      i += 2
      continue
    }
    readLine(state, line, i + 1)
  }
  if (state.outline === null) throw invalid('no "AIDE ..." outline line', 1)
  const entries = [...state.entries.values()].map(finishEntry)
  return {
    outline: state.outline,
    aideVersion: state.aideVersion,
    startTime: state.startTime,
    endTime: state.endTime,
    totalEntries: state.counts.total,
    added: checkedCount(entries, 'added', state.counts.added),
    removed: checkedCount(entries, 'removed', state.counts.removed),
    changed: checkedCount(entries, 'changed', state.counts.changed),
    entries,
  }
}

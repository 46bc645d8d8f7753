/**
 * Parser for AIDE 0.18 JSON reports (report_format=json).
 *
 * AIDE's JSON is not valid JSON once a file name holds odd bytes (reference/aide.md §6):
 * bytes >= 0x80 are written raw (so the file need not be UTF-8), 0x1f is written raw, and the
 * other control bytes are escaped as `\u` followed by their DECIMAL value (0x1b -> `\u0027`).
 * We therefore read the buffer as latin1 (one char per byte, lossless), rewrite those escapes
 * to real JSON, parse, and turn every path back into the exact bytes with Buffer.from(s, 'latin1').
 * Written for Debian's 0.18.3; upstream 0.19.2+ prints hex escapes, which this must not be fed.
 */
import { AideError } from '../core/errors.js'
import type { AideReport, AttributeChange, ChangeKind, ReportEntry } from './aide-report.js'
import { displayPath } from './file-path.js'

type JsonObject = Record<string, unknown>

interface Listed {
  readonly key: string
  readonly change: ChangeKind
  readonly summary: string
}

const QUOTE = 0x22
const BACKSLASH = 0x5c
const LETTER_U = 0x75
const KINDS: readonly ChangeKind[] = ['added', 'removed', 'changed']

function invalid (message: string, where: string): AideError {
  return new AideError('PFIM_AIDE_REPORT_INVALID', `AIDE JSON report: ${message}`, { where })
}

function lineAt (text: string, offset: number): string {
  let line = 1
  for (let i = 0; i < offset && i < text.length; i++) if (text.charCodeAt(i) === 0x0a) line++
  return `line ${line}`
}

/** AIDE writes byte b as `\u` + decimal(b) padded to 4 digits, and only for 0x00-0x1f and 0x7f. */
function fixDecimalEscape (text: string, at: number): string {
  const digits = text.slice(at + 2, at + 6)
  const value = /^[0-9]{4}$/.test(digits) ? Number(digits) : -1
  if (value < 0 || (value > 0x1f && value !== 0x7f)) {
    throw invalid(`\\u${digits} is not an AIDE 0.18 control-byte escape`, lineAt(text, at))
  }
  return '\\u' + value.toString(16).padStart(4, '0')
}

/**
 * Rewrites AIDE's string literals into valid JSON without changing the line structure. Escape pairs
 * are consumed as units, so `\\u0016` (a literal backslash, then text) is left alone.
 */
export function repairAideJson (text: string): string {
  const parts: string[] = []
  let copied = 0
  let isInString = false
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (!isInString || c === QUOTE) {
      if (c === QUOTE) isInString = !isInString
      continue
    }
    let replacement: string | null = null
    let width = 1
    if (c === BACKSLASH && text.charCodeAt(i + 1) === LETTER_U) {
      replacement = fixDecimalEscape(text, i)
      width = 6
    } else if (c === BACKSLASH) {
      i++ // the escaped character is never a string delimiter
      continue
    } else if (c < 0x20 && c !== 0x0a) {
      // AIDE leaves 0x1f raw; a raw newline would only come from a broken file, so JSON.parse may reject it.
      replacement = '\\u' + c.toString(16).padStart(4, '0')
    }
    if (replacement === null) continue
    parts.push(text.slice(copied, i), replacement)
    copied = i + width
    i += width - 1
  }
  parts.push(text.slice(copied))
  return parts.join('')
}

function parseDocument (raw: Buffer): JsonObject {
  const text = repairAideJson(raw.toString('latin1'))
  let doc: unknown
  try {
    doc = JSON.parse(text)
  } catch (err) {
    const message = String((err as Error).message)
    const position = /position (\d+)/.exec(message)
    const where = position !== null
      ? lineAt(text, Number(position[1]))
      : /end of JSON input/.test(message) ? lineAt(text, text.length) : 'document'
    throw new AideError('PFIM_AIDE_REPORT_INVALID', `AIDE JSON report is not JSON: ${(err as Error).message}`,
      { where, cause: err })
  }
  if (!isObject(doc)) throw invalid('the top level is not an object', 'document')
  return doc
}

function isObject (v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

/** Key names in `where` stay readable even when the key is an odd path. */
function keyName (key: string): string {
  return JSON.stringify(displayPath(Buffer.from(key, 'latin1')))
}

function optionalString (doc: JsonObject, key: string): string | null {
  const v = doc[key]
  if (v === undefined) return null
  if (typeof v !== 'string') throw invalid(`"${key}" is not a string`, key)
  return v
}

function readCount (counts: JsonObject, key: string): number | null {
  const v = counts[key]
  if (v === undefined) return null
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) {
    throw invalid(`number_of_entries.${key} is not a non-negative integer`, `number_of_entries.${key}`)
  }
  return v
}

function readCounts (doc: JsonObject): Record<'total' | ChangeKind, number | null> {
  const counts = doc.number_of_entries
  if (counts === undefined) return { total: null, added: null, removed: null, changed: null }
  if (!isObject(counts)) throw invalid('"number_of_entries" is not an object', 'number_of_entries')
  return {
    total: readCount(counts, 'total'),
    added: readCount(counts, 'added'),
    removed: readCount(counts, 'removed'),
    changed: readCount(counts, 'changed'),
  }
}

/** `added`/`removed`/`changed`: path -> summary by default, a plain path array with report_summarize_changes=no. */
function readGroup (doc: JsonObject, change: ChangeKind): Listed[] {
  const v = doc[change]
  if (v === undefined) return []
  if (Array.isArray(v)) {
    return v.map((key, i) => {
      if (typeof key !== 'string') throw invalid(`${change}[${i}] is not a path string`, `${change}[${i}]`)
      return { key, change, summary: '' }
    })
  }
  if (!isObject(v)) throw invalid(`"${change}" is neither an object nor an array`, change)
  return Object.entries(v).map(([key, summary]) => {
    if (typeof summary !== 'string') throw invalid('summary is not a string', `${change}[${keyName(key)}]`)
    return { key, change, summary }
  })
}

/** report_grouped=no: one `entries` object whose values are summaries, or the kind when summaries are off. */
function classify (key: string, value: unknown): Listed {
  if (typeof value !== 'string') throw invalid('entry value is not a string', `entries[${keyName(key)}]`)
  if ((KINDS as readonly string[]).includes(value)) return { key, change: value as ChangeKind, summary: '' }
  const flags = value.slice(1)
  if (flags.length > 0 && /^\++$/.test(flags)) return { key, change: 'added', summary: value }
  if (flags.length > 0 && /^-+$/.test(flags)) return { key, change: 'removed', summary: value }
  return { key, change: 'changed', summary: value }
}

function readListed (doc: JsonObject): Listed[] {
  const grouped = KINDS.flatMap((kind) => readGroup(doc, kind))
  const ungrouped = doc.entries
  if (ungrouped === undefined) return grouped
  if (!isObject(ungrouped)) throw invalid('"entries" is not an object', 'entries')
  return [...grouped, ...Object.entries(ungrouped).map(([key, value]) => classify(key, value))]
}

/** Strings may hold path bytes (link_name); arrays are multi-line values (acl, xattrs), one element a line. */
function readValue (v: unknown, where: string): string | number {
  if (typeof v === 'number') return v
  if (typeof v === 'string') return displayPath(Buffer.from(v, 'latin1'))
  if (Array.isArray(v) && v.every((s) => typeof s === 'string')) {
    return v.map((s: string) => displayPath(Buffer.from(s, 'latin1'))).join('\n')
  }
  throw invalid('attribute value is neither a string, a number nor a list of strings', where)
}

function readChange (v: unknown, where: string): AttributeChange {
  if (!isObject(v)) throw invalid('attribute change is not an object', where)
  return {
    ...(v.old === undefined ? {} : { old: readValue(v.old, `${where}.old`) }),
    ...(v.new === undefined ? {} : { new: readValue(v.new, `${where}.new`) }),
  }
}

function readDetails (doc: JsonObject): Map<string, Readonly<Record<string, AttributeChange>>> {
  const details = new Map<string, Readonly<Record<string, AttributeChange>>>()
  const v = doc.details
  if (v === undefined) return details
  if (!isObject(v)) throw invalid('"details" is not an object', 'details')
  for (const [key, attrs] of Object.entries(v)) {
    const where = `details[${keyName(key)}]`
    if (!isObject(attrs)) throw invalid('details entry is not an object', where)
    // fromEntries defines own properties, so an attribute named __proto__ cannot touch the prototype.
    details.set(key, Object.fromEntries(Object.entries(attrs).map(([name, change]) =>
      [name, readChange(change, `${where}.${name}`)])))
  }
  return details
}

function checkedCount (listed: readonly Listed[], change: ChangeKind, declared: number | null): number {
  const found = listed.filter((e) => e.change === change).length
  if (declared === null) return found
  if (found > 0 && found !== declared) {
    throw invalid(`number_of_entries.${change} is ${declared} but ${found} entries are listed`,
      `number_of_entries.${change}`)
  }
  return declared
}

export function parseJsonReport (raw: Buffer): AideReport {
  const doc = parseDocument(raw)
  const outline = optionalString(doc, 'outline')
  if (outline === null) throw invalid('"outline" is missing', 'outline')
  const counts = readCounts(doc)
  const listed = readListed(doc)
  const details = readDetails(doc)
  const entries: ReportEntry[] = listed.map((e) => ({
    path: Buffer.from(e.key, 'latin1'),
    change: e.change,
    summary: e.summary,
    attributes: details.get(e.key) ?? {},
  }))
  return {
    outline,
    aideVersion: optionalString(doc, 'aide_version'),
    startTime: optionalString(doc, 'start_time'),
    endTime: optionalString(doc, 'end_time'),
    totalEntries: counts.total,
    added: checkedCount(listed, 'added', counts.added),
    removed: checkedCount(listed, 'removed', counts.removed),
    changed: checkedCount(listed, 'changed', counts.changed),
    entries,
  }
}

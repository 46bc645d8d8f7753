/**
 * `aide --dry-init` (-n) output: AIDE walks the tree with its own selection rules and prints one
 * line per path it looked at, without reading any attribute or writing a database (AIDE 0.18.3,
 * measured):
 *
 *   [X] f '/usr/bin/ls': selective rule: '/usr($|/) (none) l+p+u+g+s+i+n+sha512+ftype' (aide.conf:5: '/usr($|/) R')
 *   [ ] d '/': no matching rule
 *
 * `[X]` lines are exactly the entries `aide --init` records, with the selecting rule's attribute
 * set, so the fast full check measures what AIDE selected instead of re-implementing its rule tree.
 * Paths print control bytes as \ooo (decodeAidePlainPath); other bytes, quotes included, are raw.
 * A file name may itself contain "': selective rule: '", so the path ends at the LAST rule marker:
 * everything after it is the rule, which comes from the agent's own aide.conf.
 */
import { createInterface } from 'node:readline'
import type { Readable } from 'node:stream'
import { AideError } from '../core/errors.js'
import { BIT } from './aide-attributes.js'
import { RULE_ATTR_NAMES } from './aide-process.js'
import { decodeAidePlainPath } from './file-path.js'

export interface DrySelection {
  readonly path: Buffer
  /** AIDE's type letter: f d l p s b c (D door, P port on other systems). */
  readonly type: string
  /** The selecting rule's attributes, named as aide-attributes.ts names them. */
  readonly attrs: readonly string[]
}

const HEAD = /^\[([X ])\] ([a-zA-Z?]) '/
const MARKERS = ["': selective rule: '", "': equal rule: '"]
const RULE = /^(.*?) (\S+) ([A-Za-z0-9+]+)' \(.+:\d+: '.*'\)$/

function invalid (lineNo: number, why: string, line: string): AideError {
  return new AideError('PFIM_AIDE_REPORT_INVALID', `aide --dry-init line ${lineNo}: ${why}: ${JSON.stringify(line.slice(0, 200))}`, { where: `aide --dry-init:${lineNo}` })
}

function attrName (printed: string): string | null {
  const name = RULE_ATTR_NAMES[printed] ?? printed
  return name in BIT ? name : null
}

/** One line (latin1, so every byte is kept); null for a path no rule selects. */
export function parseDryInitLine (line: string, lineNo: number): DrySelection | null {
  const head = HEAD.exec(line)
  if (head === null) throw invalid(lineNo, 'not a "[X] t \'path\'" line', line)
  if (head[1] === ' ') return null
  let cut = -1
  let marker = 0
  for (const m of MARKERS) {
    const at = line.lastIndexOf(m)
    if (at > cut) [cut, marker] = [at, m.length]
  }
  if (cut < head[0].length) throw invalid(lineNo, 'a selected path without its rule', line)
  const rule = RULE.exec(line.slice(cut + marker))
  if (rule === null) throw invalid(lineNo, 'the rule has no attribute list', line)
  const attrs: string[] = []
  for (const printed of (rule[3] ?? '').split('+')) {
    const name = attrName(printed)
    if (name === null) throw invalid(lineNo, `unknown attribute "${printed}"`, line)
    attrs.push(name)
  }
  return { path: decodeAidePlainPath(Buffer.from(line.slice(head[0].length, cut), 'latin1')), type: head[2] ?? '?', attrs }
}

/** The selected paths of a running `aide --dry-init`, streamed (bounded memory whatever the tree). */
export async function * readDryInit (stdout: Readable): AsyncGenerator<DrySelection> {
  stdout.setEncoding('latin1')
  let lineNo = 0
  for await (const line of createInterface({ input: stdout, crlfDelay: Infinity })) {
    lineNo++
    if (line === '') continue
    const selected = parseDryInitLine(line, lineNo)
    if (selected !== null) yield selected
  }
}

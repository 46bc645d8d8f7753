/*
 * Where the plain-report layouts come from:
 * - 0.18.3: test/fixtures/aide/*.txt, recorded with Debian's aide 0.18.3 by test/fixtures/aide/record.sh.
 * - 0.16.1: legacy/plain-0.16.1.txt follows AIDE 0.16's compare_db.c (repository
 *   root-owl/host-intrusion-detection-system, AIDE/aide-0.16/src/compare_db.c: report_top_format,
 *   print_line "%s: %s", print_dbline_attributes "  %-9s%c %-33.32s| %.32s") and the 0.16.1 output
 *   (Ubuntu 22.04, `aide.wrapper --check`, "Verbose level: 6", 17-char summaries, a database section)
 *   printed in ch. 13 of K. Hess, "Practical Linux System Administration" (O'Reilly 2023), whose Chinese
 *   translation is in the code-search corpus. Paths and values in our fixture are invented.
 * - 0.17.4: legacy/plain-0.17.4.txt follows an Ubuntu lab write-up (2023-03-23, in Russian) in the
 *   code-search corpus: "Ignored e2fs attributes: EIh", 18-char summaries such as `d =.... mc.. .. . `.
 * - 0.14: legacy/plain-0.14.txt follows the blog post "AIDEを使ってみた" (CentOS 6.5, aide-0.14-3.el6) in the
 *   code-search corpus: "Added files:" sections, `added: /path` lines, "Total number of files", a
 *   50-dash ruler before the details, and ',' between old and new. (The comma is 0.14's, not 0.16's:
 *   the 0.16 source and output above use '|'.)
 * The corpus search tool gave file ids, not repository names, for the three published outputs.
 */
import { readFileSync } from 'node:fs'
import t from 'tap'
import { parseJsonReport } from '../../src/agent/aide-json-report.js'
import type { AideReport } from '../../src/agent/aide-report.js'
import { parseTextReport } from '../../src/agent/aide-text-report.js'
import { displayPath } from '../../src/agent/file-path.js'

const FIXTURES = new URL('../fixtures/aide/', import.meta.url)
const fixture = (name: string): Buffer => readFileSync(new URL(name, FIXTURES))
const ODD_NAMES = fixture('odd-names.hex').toString('latin1').trim().split('\n').map((h) => Buffer.from(h, 'hex'))
const hexOf = (path: string | Buffer): string => Buffer.from(path).toString('hex')
const inTree = (name: Buffer | string): string => Buffer.concat([Buffer.from('/tree/'), Buffer.from(name)]).toString('hex')
const pathsOf = (r: AideReport, change?: string): string[] =>
  r.entries.filter((e) => change === undefined || e.change === change).map((e) => hexOf(e.path)).sort()
const find = (r: AideReport, path: string): AideReport['entries'][number] | undefined =>
  r.entries.find((e) => hexOf(e.path) === hexOf(Buffer.from(path, 'latin1')))
const INVALID = { name: 'AideError', code: 'PFIM_AIDE_REPORT_INVALID' }

t.test('check.txt (0.18.3): every odd name comes back as its exact bytes', async (t) => {
  const r = parseTextReport(fixture('check.txt'))
  t.match(r, { outline: 'AIDE found differences between database and filesystem!!', aideVersion: '0.18.3' })
  t.match(r, { totalEntries: 23, added: 2, removed: 1, changed: 17, endTime: /\+0000$/ })
  const changed = pathsOf(r, 'changed')
  for (const name of ODD_NAMES) t.ok(changed.includes(inTree(name)), `changed: ${displayPath(name)}`)
  t.same(pathsOf(r, 'added'), [inTree('added\x1bodd'), inTree('added.txt')].sort())
  t.equal(find(r, '/tree/back\\123')?.summary, 'f > ... m...H..   ', 'the summary is cut by position, spaces kept')
})

t.test('check.txt: detail labels map to JSON attribute names, wrapped values are joined', async (t) => {
  const r = parseTextReport(fixture('check.txt'))
  t.same(find(r, '/tree/changed.txt')?.attributes, {
    size: { old: 4, new: 12 },
    modify_time: { old: '2020-01-01 00:00:00 +0000', new: '2021-02-03 04:05:06 +0000' },
    sha256: { old: 'AdCdGcITmkauv7V3eA0SPXOW6XIBvH6tIQouv/gjne4=', new: 'HD75p8gXtGQryzyxRW+86SpvmS3y4datnYot+0/fQvY=' },
    sha512: {
      old: '2ZR8NQiTELxmYrKzLenK4qyLxHt6IhIcyW5y27jcngWDQSOYFujGpI6d4BXDCm/dGCU97TOA3kjQf2ffDT59jg==',
      new: 'rCAmT0hI7sOOb49wv2cEnh3ZNoddabx+l1qvjJBMbiAS4ieZj2YiwISDO5mqGJlpNYZBxAB/zKjLuCJg1KQmZg==',
    },
  })
  t.same(find(r, '/tree/perm.txt')?.attributes.acl,
    { old: 'A: user::rw-\nA: group::r--\nA: other::r--', new: 'A: user::rw-\nA: group::---\nA: other::---' })
  t.same(find(r, '/tree/link')?.attributes.link_name, { old: 'sub/target1', new: 'sub/target2' })
  t.same(find(r, '/tree/oddlink')?.attributes.link_name, { old: 'tgt\\nnl', new: 'tgt\\x1b\\xff' })
})

t.test('plain and JSON reports of the same run parse to the same result at every level', async (t) => {
  const sorted = (r: AideReport): unknown => ({
    ...r, entries: [...r.entries].sort((a, b) => Buffer.compare(a.path, b.path)),
  })
  for (const name of ['check', 'check-full', 'check-summary', 'check-minimal', 'check-nosum', 'check-nogroup', 'init']) {
    t.same(sorted(parseTextReport(fixture(`${name}.txt`))), sorted(parseJsonReport(fixture(`${name}.json`))), name)
  }
})

t.test('AIDE 0.16.1 layout: 17-char summaries, two-space labels, database section', async (t) => {
  const r = parseTextReport(fixture('legacy/plain-0.16.1.txt'))
  t.match(r, { aideVersion: '0.16.1', startTime: '2022-10-31 10:09:42 -0400', endTime: '2022-10-31 10:18:52 -0400' })
  t.match(r, { totalEntries: 1204, added: 1, removed: 1, changed: 3 })
  t.same(r.entries.map((e) => [displayPath(e.path), e.change, e.summary]), [
    ['/var/lib/app/new\\x1b.conf', 'added', 'f++++++++++++++++'],
    ['/run/app/units/invocation:app.service', 'removed', 'l----------------'],
    ['/etc/app/app.conf', 'changed', 'f =.... ....C..  '],
    ['/run/app/units', 'changed', 'd <.... mc.. ..  '],
    ['/var/log/app/with space.log', 'changed', 'f >b... mc..C.. .'],
  ])
  t.same(Object.keys(find(r, '/etc/app/app.conf')?.attributes ?? {}), ['rmd160', 'sha256', 'sha512'])
  t.equal(find(r, '/etc/app/app.conf')?.attributes.sha512?.new?.toString().length, 88, 'three wrapped lines joined')
  t.same(find(r, '/var/log/app/with space.log')?.attributes.block_count, { old: 264, new: 288 })
  t.notOk(find(r, '/var/lib/aide/aide.db'), 'the database section describes no entry')
})

t.test('AIDE 0.17.4 layout: 18-char summaries and extra header lines', async (t) => {
  const r = parseTextReport(fixture('legacy/plain-0.17.4.txt'))
  t.match(r, { aideVersion: '0.17.4', totalEntries: 15055, added: 1, removed: 0, changed: 1 })
  t.same(r.entries.map((e) => [displayPath(e.path), e.change, e.summary]), [
    ['/home/student/notes.txt', 'added', 'f+++++++++++++++++'],
    ['/home/student', 'changed', 'd =.... mc.. .. . '],
  ])
})

t.test('AIDE 0.14 layout: "files" wording, named lines, comma separator', async (t) => {
  const r = parseTextReport(fixture('legacy/plain-0.14.txt'))
  t.match(r, { aideVersion: null, startTime: '2014-06-15 08:28:41', endTime: null, totalEntries: 19859 })
  t.match(r, { added: 2, removed: 0, changed: 2 })
  t.same(pathsOf(r, 'added'), [hexOf('/etc/cron.daily/mlocate.cron'), hexOf('/usr/bin/locate')])
  t.match(find(r, '/etc/group')?.attributes, {
    size: { old: 521, new: 535 }, inode: { old: 394246, new: 393881 }, md5: { new: '4cgEiIU9hqudbez+MNiTDw==' },
  })
  t.same(find(r, '/usr/bin')?.attributes.link_count, { old: 44, new: 45 })
})

// A small 0.18 report built line by line, so the malformed variants below know their line numbers.
const row = (label: string, old: string, neu: string): string => ` ${label.padEnd(10)}: ${old.padEnd(33)}| ${neu}`
const RULER = '---------------------------------------------------'
const BASE = [
  'Start timestamp: 2026-11-23 14:29:21 +0000 (AIDE 0.18.3)', // 1
  'AIDE found differences between database and filesystem!!', // 2
  '', 'Summary:', '  Total number of entries:\t3', '  Added entries:\t\t1', // 3-6
  '  Removed entries:\t\t0', '  Changed entries:\t\t1', '', // 7-9
  RULER, 'Added entries:', RULER, '', // 10-13
  'f+++++++++++++++++: /srv/new: /file | with space', '', // 14-15
  RULER, 'Changed entries:', RULER, '', // 16-19
  'f = ... :c..H     : /srv/a\\012b', '', // 20-21
  RULER, 'Detailed information about changes:', RULER, '', // 22-25
  'File: /srv/a\\012b', // 26
  row('Lname', 'old | target', 'new'), // 27
  row('SHA256', 'ypeBEsobvcr6wjGzmiPcTaeG7/gUfE5y', 'PiPoFgA5WUoziU9lZOGxNIu9egCI1CxK'), // 28
  ' '.repeat(13) + 'uYB3ha/uSLs='.padEnd(33) + '| y3PurtWcAJ0=', // 29
  '', '', 'End timestamp: 2026-11-23 14:29:21 +0000 (run time: 0m 0s)', '', // 30-33
]
const report = (lines: readonly string[]): Buffer => Buffer.from(lines.join('\n'), 'latin1')
const replaced = (lineNo: number, line: string): Buffer => report(BASE.map((l, i) => i + 1 === lineNo ? line : l))

t.test('fields are cut by position, so ": /", "|" and spaces inside paths and values survive', async (t) => {
  const r = parseTextReport(report(BASE))
  t.same(r.entries.map((e) => [e.path.toString('latin1'), e.change, e.summary]), [
    ['/srv/new: /file | with space', 'added', 'f+++++++++++++++++'],
    ['/srv/a\nb', 'changed', 'f = ... :c..H     '],
  ])
  t.same(r.entries[1]?.attributes, {
    link_name: { old: 'old | target', new: 'new' },
    sha256: { old: 'ypeBEsobvcr6wjGzmiPcTaeG7/gUfE5yuYB3ha/uSLs=', new: 'PiPoFgA5WUoziU9lZOGxNIu9egCI1CxKy3PurtWcAJ0=' },
  })
})

t.test('malformed input is an AideError with the 1-based line number', async (t) => {
  const bad: Array<[Buffer, string, string]> = [
    [replaced(6, '  Added entries:\t\tone'), 'line 6', 'a summary count that is not a number'],
    [replaced(5, '  Total number of entries:\t'), 'line 5', 'a summary count that is missing'],
    [replaced(14, 'f+++++++++++++++++ /srv/new'), 'line 14', 'an entry line without ": /"'],
    [replaced(14, 'garbage: /srv/new'), 'line 14', 'a summary that is not 10..24 printable chars'],
    [replaced(20, 'f = ... mc..H : /srv/a'), 'line 20', 'a summary of another width than the ones before'],
    [replaced(14, 'f > ... mc..H     : /srv/new'), 'line 14', 'a changed entry in the added section'],
    [replaced(14, 'removed: /srv/new'), 'line 14', 'a removed entry in the added section'],
    [replaced(17, 'Moved entries:'), 'line 17', 'an unknown section'],
    [replaced(27, 'Size: 3'), 'line 27', 'a detail line that is neither header nor attribute'],
    [replaced(27, '             orphan'), 'line 27', 'a continuation line without an attribute'],
    [replaced(27, ` Size      : 1${' '.repeat(40)}x`), 'line 27', 'a detail line without a separator'],
    [replaced(27, '           : 1'), 'line 27', 'an empty label'],
    [replaced(2, 'found differences'), 'line 1', 'no outline line'],
    [replaced(6, '  Added entries:\t\t2'), 'line 1', 'counts that disagree with the lists'],
    [Buffer.from([0x8b, 0x1f, 0x00, 0xff, 0x0a, 0x13, 0x37]), 'line 1', 'garbage bytes'],
    [Buffer.alloc(0), 'line 1', 'an empty report'],
  ]
  for (const [input, where, why] of bad) t.throws(() => parseTextReport(input), { ...INVALID, where }, why)
})

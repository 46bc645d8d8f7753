import { execFile } from 'node:child_process'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import t from 'tap'
import { parseJsonReport, repairAideJson } from '../../src/agent/aide-json-report.js'
import type { AideReport } from '../../src/agent/aide-report.js'
import { parseTextReport } from '../../src/agent/aide-text-report.js'
import { displayPath } from '../../src/agent/file-path.js'

// Fixtures were recorded with Debian's AIDE 0.18.3 by test/fixtures/aide/record.sh.
const FIXTURES = new URL('../fixtures/aide/', import.meta.url)
const fixture = (name: string): Buffer => readFileSync(new URL(name, FIXTURES))
const ODD_NAMES = fixture('odd-names.hex').toString('latin1').trim().split('\n').map((h) => Buffer.from(h, 'hex'))
const inTree = (name: Buffer | string): string => Buffer.concat([Buffer.from('/tree/'), Buffer.from(name)]).toString('hex')
const pathsOf = (r: AideReport, change?: string): string[] =>
  r.entries.filter((e) => change === undefined || e.change === change).map((e) => e.path.toString('hex')).sort()
const entry = (r: AideReport, name: string): AideReport['entries'][number] | undefined =>
  r.entries.find((e) => e.path.toString('hex') === inTree(name))
const INVALID = { name: 'AideError', code: 'PFIM_AIDE_REPORT_INVALID' }

t.test('the raw report is not JSON that JSON.parse can read', async (t) => {
  t.throws(() => JSON.parse(fixture('check.json').toString('utf8')), SyntaxError, 'AIDE writes 0x1f raw')
})

t.test('check.json: every odd name comes back as its exact bytes', async (t) => {
  const r = parseJsonReport(fixture('check.json'))
  t.match(r, { outline: 'AIDE found differences between database and filesystem!!', aideVersion: '0.18.3' })
  t.match(r, { totalEntries: 23, added: 2, removed: 1, changed: 17, startTime: /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \+0000$/ })
  t.equal(r.entries.length, 20)
  const changed = pathsOf(r, 'changed')
  for (const name of ODD_NAMES) t.ok(changed.includes(inTree(name)), `changed: ${displayPath(name)}`)
  t.same(pathsOf(r, 'added'), [inTree('added\x1bodd'), inTree('added.txt')].sort())
  t.same(pathsOf(r, 'removed'), [inTree('removed.txt')])
})

t.test('check.json: summaries and attributes from details', async (t) => {
  const r = parseJsonReport(fixture('check.json'))
  t.match(entry(r, 'changed.txt'), {
    change: 'changed',
    summary: 'f > ... m...H..   ',
    attributes: {
      size: { old: 4, new: 12 },
      modify_time: { old: '2020-01-01 00:00:00 +0000', new: '2021-02-03 04:05:06 +0000' },
      sha256: { old: 'AdCdGcITmkauv7V3eA0SPXOW6XIBvH6tIQouv/gjne4=', new: 'HD75p8gXtGQryzyxRW+86SpvmS3y4datnYot+0/fQvY=' },
    },
  })
  t.same(entry(r, 'perm.txt')?.attributes, {
    perm: { old: '-rw-r--r--', new: '-rw-------' },
    acl: { old: 'A: user::rw-\nA: group::r--\nA: other::r--', new: 'A: user::rw-\nA: group::---\nA: other::---' },
  }, 'a list value (acl) is one line per element')
  t.same(entry(r, 'link')?.attributes.link_name, { old: 'sub/target1', new: 'sub/target2' }, 'symlink retarget')
  t.same(entry(r, 'oddlink')?.attributes.link_name, { old: 'tgt\\nnl', new: 'tgt\\x1b\\xff' },
    'link targets are shown through displayPath')
  t.same(entry(r, 'added.txt')?.attributes, {}, 'added entries have no details at the default level')
})

t.test('report levels and layouts', async (t) => {
  const full = parseJsonReport(fixture('check-full.json'))
  t.match(entry(full, 'added.txt')?.attributes, { file_type: { new: 'File' }, size: { new: 6 }, perm: { new: '-rw-r--r--' } })
  t.notOk('old' in (entry(full, 'added.txt')?.attributes.size ?? {}), 'an added entry has only new values')
  t.match(entry(full, 'removed.txt')?.attributes, { file_type: { old: 'File' }, size: { old: 4 } })

  const summary = parseJsonReport(fixture('check-summary.json'))
  t.match(summary, { totalEntries: 23, added: 2, removed: 1, changed: 17, entries: [] }, 'summary: counts, no lists')
  t.same(parseJsonReport(fixture('check-minimal.json')), {
    outline: 'AIDE found differences between database and filesystem!!', aideVersion: null, startTime: null,
    endTime: null, totalEntries: null, added: 0, removed: 0, changed: 0, entries: [],
  }, 'minimal: the outline only')
  t.match(parseJsonReport(fixture('init.json')), { outline: 'AIDE successfully initialized database.', totalEntries: 22, entries: [] })

  const grouped = parseJsonReport(fixture('check.json'))
  const noSummary = parseJsonReport(fixture('check-nosum.json'))
  t.same(pathsOf(noSummary), pathsOf(grouped), 'arrays of paths (report_summarize_changes=no)')
  t.ok(noSummary.entries.every((e) => e.summary === ''))
  t.same(entry(noSummary, 'link')?.attributes, entry(grouped, 'link')?.attributes)
  const ungrouped = parseJsonReport(fixture('check-nogroup.json'))
  for (const kind of ['added', 'removed', 'changed']) {
    t.same(pathsOf(ungrouped, kind), pathsOf(grouped, kind), `report_grouped=no: the ${kind} entries`)
  }
})

t.test('repairAideJson turns AIDE 0.18.3 escapes into JSON', async (t) => {
  const decode = (s: string): Buffer => Buffer.from(JSON.parse(repairAideJson(s)) as string, 'latin1')
  t.same(decode('"a\\u0027b"'), Buffer.from('a\x1bb', 'latin1'), '\\u0027 is decimal 27, ESC, not an apostrophe')
  t.same(decode('"\\u0127"'), Buffer.from([0x7f]), '\\u0127 is DEL')
  t.same(decode('"\\u0011"'), Buffer.from([0x0b]), '\\u0011 is 0x0b')
  t.same(decode('"back\\\\u0016"'), Buffer.from('back\\u0016'), 'an escaped backslash before u0016 is text')
  t.same(decode('"q\\"\\u0031"'), Buffer.from('q"\x1f', 'latin1'), 'an escaped quote does not end the string')
  t.same(decode('"raw\x1fbyte"'), Buffer.from('raw\x1fbyte', 'latin1'), 'a raw 0x1f is escaped')
  t.same(decode('"\xff\xc3\xa9"'), Buffer.from([0xff, 0xc3, 0xa9]), 'bytes >= 0x80 pass through')
  t.equal(repairAideJson('{"a": [1, 2]}\n'), '{"a": [1, 2]}\n', 'text outside strings is untouched')
  t.throws(() => repairAideJson('{\n"\\u001b"}'), { ...INVALID, where: 'line 2' }, 'hex digits are not AIDE 0.18')
  t.throws(() => repairAideJson('"\\u0032"'), { ...INVALID, where: 'line 1' }, '32 is not a control byte')
  t.throws(() => repairAideJson('"\\u12"'), INVALID, 'a short escape')
})

t.test('malformed input is an AideError that says where', async (t) => {
  const good = fixture('check.json')
  const bad: Array<[string | Buffer, string | RegExp, string]> = [
    [good.subarray(0, Math.floor(good.length / 2)), /^line \d+$/, 'truncated JSON'],
    [good.subarray(0, good.indexOf('"details"')), /^line \d+$/, 'truncated at a line end'],
    [Buffer.from([0x8b, 0x1f, 0x00, 0xff, 0x13, 0x37]), 'document', 'garbage bytes'],
    ['', 'line 1', 'an empty file'],
    ['[1, 2]', 'document', 'an array'],
    ['null', 'document', 'null'],
    ['{"aide_version": "0.18.3"}', 'outline', 'no outline'],
    ['{"outline": 7}', 'outline', 'a number as outline'],
    ['{"outline": "x", "start_time": []}', 'start_time', 'a list as start_time'],
    ['{"outline": "x", "number_of_entries": 3}', 'number_of_entries', 'counts not an object'],
    ['{"outline": "x", "number_of_entries": {"added": "1"}}', 'number_of_entries.added', 'a count as string'],
    ['{"outline": "x", "number_of_entries": {"total": -1}}', 'number_of_entries.total', 'a negative count'],
    ['{"outline": "x", "added": "/a"}', 'added', 'a list as string'],
    ['{"outline": "x", "removed": ["/a", 3]}', 'removed[1]', 'a number in a path array'],
    ['{"outline": "x", "changed": {"/a": 5}}', 'changed["/a"]', 'a summary as number'],
    ['{"outline": "x", "entries": ["/a"]}', 'entries', 'entries as array'],
    ['{"outline": "x", "details": []}', 'details', 'details not an object'],
    ['{"outline": "x", "details": {"/a": "size"}}', 'details["/a"]', 'a details entry not an object'],
    ['{"outline": "x", "details": {"/a": {"size": 4}}}', 'details["/a"].size', 'a change not an object'],
    ['{"outline": "x", "details": {"/a": {"size": {"old": true}}}}', 'details["/a"].size.old', 'a boolean value'],
    ['{"outline": "x", "details": {"/\\u0027": {"x": {"new": {}}}}}', 'details["/\\\\x1b"].x.new', 'odd keys shown escaped'],
    ['{"outline": "x", "number_of_entries": {"added": 2}, "added": {"/a": "f+"}}', 'number_of_entries.added', 'counts disagree'],
  ]
  for (const [input, where, why] of bad) {
    const raw = typeof input === 'string' ? Buffer.from(input, 'latin1') : input
    t.throws(() => parseJsonReport(raw), { ...INVALID, where }, why)
  }
})

async function runAide (args: string[]): Promise<number> {
  try {
    await promisify(execFile)('aide', args, { env: { ...process.env, TZ: 'UTC', LC_ALL: 'C' } })
    return 0
  } catch (err) {
    const code = (err as { code?: unknown }).code
    if (typeof code === 'number') return code
    throw err
  }
}

// Real AIDE is a requirement of the suite (.ci/deps.sh installs it): without it this test fails.
t.test('real aide: the JSON parser recovers the exact bytes of every odd name', async (t) => {
  const dir = t.testdir({ tree: {}, db: {}, out: {} })
  const conf = join(dir, 'aide.conf')
  writeFileSync(conf, [
    `root_prefix=${dir}`, `database_in=file:${dir}/db/aide.db.gz`, `database_out=file:${dir}/db/aide.db.new.gz`,
    'gzip_dbout=yes', 'database_attrs=E',
    'report_format=json', `report_url=file:${dir}/out/report.json`,
    'report_format=plain', `report_url=file:${dir}/out/report.txt`,
    // No m/c on the directory rule, so adding files reports them as added and nothing else.
    'Lab = p+ftype+u+g+s+sha256', '/tree Lab', '',
  ].join('\n'))
  t.equal(await runAide(['-c', conf, '--init']), 0, 'aide --init')
  writeFileSync(join(dir, 'db/aide.db.gz'), readFileSync(join(dir, 'db/aide.db.new.gz')))

  const everyByte = [...Array.from({ length: 31 }, (_, i) => i + 1), 0x7f, 0x80, 0xfe, 0xff]
    .map((b) => Buffer.from([0x63, b, 0x78]))
  const names = [...ODD_NAMES, ...everyByte]
  for (const name of names) writeFileSync(Buffer.concat([Buffer.from(`${dir}/tree/`), name]), 'x')
  t.equal(await runAide(['-c', conf, '--check']), 1, 'aide --check: added only')

  const want = names.map(inTree).sort()
  const json = parseJsonReport(readFileSync(join(dir, 'out/report.json')))
  t.same(pathsOf(json, 'added'), want, 'JSON: every name, byte for byte')
  t.match(json, { added: names.length, removed: 0, changed: 0 })
  const text = parseTextReport(readFileSync(join(dir, 'out/report.txt')))
  t.same(pathsOf(text, 'added'), want, 'plain: every name, byte for byte')
  t.notOk(existsSync(join(dir, 'pwned')) || existsSync(join(dir, 'tree/pwned')) || existsSync('pwned'),
    'no name was ever run by a shell')
})

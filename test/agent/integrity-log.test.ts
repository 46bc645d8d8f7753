/** The integrity log of a fast check: AIDE's plain layout, read back by the same parser as AIDE's own. */
import t from 'tap'
import { encodeAidePlainPath, renderIntegrityLog } from '../../src/agent/integrity-log.js'
import { decodeAidePlainPath } from '../../src/agent/file-path.js'
import { parseTextReport } from '../../src/agent/aide-text-report.js'
import type { AideReport } from '../../src/agent/aide-report.js'

t.test('plain path escaping round-trips every byte, as AIDE escapes them', async t => {
  const all = Buffer.from([0x2f, ...Array.from({ length: 255 }, (_, i) => i + 1).filter(b => b !== 0x2f)])
  t.same(decodeAidePlainPath(Buffer.from(encodeAidePlainPath(all), 'latin1')), all)
  t.equal(encodeAidePlainPath(Buffer.from('/a\nb\tc\x1bd\x7fe\x1ff')), '/a\\012b\\011c\\033d\\177e\x1ff')
  t.equal(encodeAidePlainPath(Buffer.from('/back\\123 and \\x')), '/back\\134123 and \\x', 'only a backslash before three digits is escaped')
})

t.test('the rendered log has FIO\'s summary lines and parses back to the same result', async t => {
  const report: AideReport = {
    outline: 'AIDE found differences between database and filesystem!!', aideVersion: '0.18.3',
    startTime: '2026-11-23 10:00:00 +0000', endTime: '2026-11-23 10:00:05 +0000', totalEntries: 9, added: 1, removed: 1, changed: 1,
    entries: [
      { path: Buffer.from('/t/new\nline', 'latin1'), change: 'added', summary: 'f+++++++++++++++++', attributes: {} },
      { path: Buffer.from('/t/bad\xffbyte', 'latin1'), change: 'removed', summary: 'f-----------------', attributes: {} },
      {
        path: Buffer.from('/t/with space'), change: 'changed', summary: 'f > p.. .c..H     ',
        attributes: {
          size: { old: 6, new: 15 }, perm: { old: '-rw-r--r--', new: '-rw-------' },
          sha512: { old: 'A'.repeat(86) + '==', new: 'B'.repeat(86) + '==' },
        },
      },
    ],
  }
  const log = renderIntegrityLog(report, 65)
  const text = log.toString('latin1')
  t.match(text, /\n {2}Total number of entries:\t9\n {2}Added entries:\t\t1\n {2}Removed entries:\t\t1\n {2}Changed entries:\t\t1\n/)
  t.match(text, /\nEnd timestamp: 2026-11-23 10:00:05 \+0000 \(run time: 1m 5s\)\n$/)
  const back = parseTextReport(log)
  t.match(back, { outline: report.outline, aideVersion: '0.18.3', totalEntries: 9, added: 1, removed: 1, changed: 1 })
  t.same(back.entries.map(e => [e.path.toString('latin1'), e.change, e.summary]), report.entries.map(e => [e.path.toString('latin1'), e.change, e.summary]))
  t.same(back.entries[2]?.attributes, report.entries[2]?.attributes, 'wrapped digests and numbers read back unchanged')
  t.match(renderIntegrityLog({ ...report, added: 0, removed: 0, changed: 0, entries: [] }, 0).toString(), /Looks okay!!|differences/)
  t.match(renderIntegrityLog({ ...report, outline: 'AIDE found NO differences between database and filesystem. Looks okay!!', added: 0, removed: 0, changed: 0, entries: [] }, 0).toString(), /\nNumber of entries:\t9\n/)
})

import t from 'tap'
import { gunzipSync } from 'node:zlib'
import { checkScanPayload } from '../../src/core/protocol.js'
import { MAX_FILES_PER_LIST, scanPayload } from '../../src/agent/scan-payload.js'
import type { FinishedScan } from '../../src/agent/scanner.js'
import type { ScanOutcome, ScanSummary } from '../../src/agent/scan-types.js'

function finished (outcome: Partial<ScanOutcome>, summary: Partial<ScanSummary> = {}, reinitToken: string | null = null): FinishedScan {
  const o: ScanOutcome = { condition: 'Failed', exitCode: 1, added: 0, changed: 0, removed: 0, errorCode: null, error: null, log: null, entries: [], unverified: [], ...outcome }
  const s: ScanSummary = {
    id: 7, kind: 'check', trigger: 'schedule', startedAt: 1_700_000_000_000, finishedAt: 1_700_000_060_000, condition: o.condition, exitCode: o.exitCode,
    added: o.added, changed: o.changed, removed: o.removed, unverified: 0, errorCode: o.errorCode, error: o.error, detailsPruned: false, ...summary,
  }
  return { summary: s, outcome: o, reinitToken, aideConfigId: 'own' }
}

t.test('counts, times, the log gzip+base64 and display paths; valid protocol', async t => {
  const p = scanPayload(finished({
    log: Buffer.from('AIDE found differences\n'), added: 1, changed: 1,
    entries: [
      { path: Buffer.from('/etc/a\nb'), change: 'added', summary: '', attributes: {} },
      { path: Buffer.from([0x2f, 0x78, 0xff]), change: 'changed', summary: '', attributes: {} },
    ],
  }))
  t.same(checkScanPayload(p, 'payload'), p)
  t.match(p, { scanId: 7, kind: 'check', condition: 'Failed', startedAt: '2023-11-14T22:13:20.000Z', finishedAt: '2023-11-14T22:14:20.000Z', logBytes: 23, reinitToken: null })
  t.equal(gunzipSync(Buffer.from(p.logGzipBase64 ?? '', 'base64')).toString(), 'AIDE found differences\n')
  t.same(p.files, { added: ['/etc/a\\nb'], changed: ['/x\\xff'], removed: [] })
  t.equal(p.filesTruncated, false)
})

t.test('at most 5000 paths per list, each at most 8192 characters; filesTruncated says so', async t => {
  const entries = Array.from({ length: MAX_FILES_PER_LIST + 3 }, (_, i) => ({ path: Buffer.from(`/f${i}`), change: 'removed' as const, summary: '', attributes: {} }))
  const many = scanPayload(finished({ entries }))
  t.equal(many.files.removed.length, MAX_FILES_PER_LIST)
  t.equal(many.filesTruncated, true)
  t.same(checkScanPayload(many, 'payload'), many)
  const long = scanPayload(finished({ entries: [{ path: Buffer.alloc(4000, 0x01), change: 'added', summary: '', attributes: {} }] }))
  t.equal(long.files.added[0]?.length, 8192)
  t.equal(long.filesTruncated, true)
})

t.test('the re-init token travels with a finished init, not with an interrupted one', async t => {
  t.equal(scanPayload(finished({ condition: 'Succeeded', exitCode: 0 }, { kind: 'init', trigger: 'directive' }, 'tok')).reinitToken, 'tok')
  t.equal(scanPayload(finished({ condition: 'Interrupted', exitCode: null }, { kind: 'init', trigger: 'directive' }, 'tok')).reinitToken, null)
  t.equal(scanPayload(finished({ condition: 'Errored', exitCode: 17, error: 'x'.repeat(20_000) })).error?.length, 16_384)
})

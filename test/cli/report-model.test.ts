/**
 * What counts as new for the mail reports, on a real SQLite state database filled through the
 * Store's own write API (scans) and the findings table (as the FindingSink writes it).
 */
import t, { type Test } from 'tap'
import { join } from 'node:path'
import { openStore, type Store } from '../../src/agent/store.js'
import type { ScanOutcome } from '../../src/agent/scan-types.js'
import { CURSOR_START, isEmpty, readDigest, readEventReport } from '../../src/cli/report-model.js'
import { denial, insertDenial, insertFinding, seenAgain } from '../helpers/findings.js'

const HOUR = 3_600_000

function fresh (t: Test, now: () => number = Date.now): Store {
  const store = openStore(join(t.testdir(), 'state.db'), { now })
  t.teardown(() => store.close())
  return store
}

function outcome (over: Partial<ScanOutcome>): ScanOutcome {
  return { condition: 'Succeeded', exitCode: 0, added: 0, changed: 0, removed: 0, errorCode: null, error: null, log: null, entries: [], unverified: [], ...over }
}

function changed (...paths: string[]): Partial<ScanOutcome> {
  return {
    condition: 'Failed', exitCode: 4, changed: paths.length,
    entries: paths.map(p => ({ path: Buffer.from(p), change: 'changed' as const, summary: '', attributes: { sha512: { old: 'a', new: `b-${p}` } } })),
  }
}

function scan (store: Store, over: Partial<ScanOutcome>, kind: 'init' | 'check' = 'check'): number {
  const id = store.beginScan(kind, 'schedule')
  store.finishScan(id, outcome(over))
  return id
}

t.test('the cursor never passes a scan that is still running', async t => {
  const store = fresh(t)
  scan(store, {}, 'init')
  const running = store.beginScan('check', 'manual')
  scan(store, changed('/etc/a'))
  const first = readEventReport(store, 'n', CURSOR_START, Date.now())
  t.equal(first.next.scanId, 1, 'stops below the running scan')
  t.equal(first.failures.length, 0)
  store.finishScan(running, outcome(changed('/etc/r')))
  const second = readEventReport(store, 'n', first.next, Date.now())
  t.same(second.failures.map(f => f.scan.id), [2, 3], 'the scan that was running is reported once it finished')
  t.equal(second.next.scanId, 3)
})

t.test('repeated failures and errors are news once; a changed error is news again', async t => {
  const store = fresh(t)
  scan(store, {}, 'init')
  scan(store, changed('/etc/a'))
  scan(store, changed('/etc/a'))
  scan(store, { condition: 'Interrupted', exitCode: null })
  scan(store, changed('/etc/a', '/etc/b'))
  const err = { condition: 'Errored' as const, exitCode: 17, errorCode: 'PFIM_AIDE_FAILED', error: 'AIDE error: 17 bad line 2' }
  scan(store, err)
  scan(store, err)
  scan(store, { ...err, error: 'AIDE error: 17 bad line 3' })
  scan(store, {})
  scan(store, changed('/etc/a'))
  const r = readEventReport(store, 'n', CURSOR_START, Date.now())
  t.same(r.failures.map(f => [f.scan.id, f.files.map(x => x.path), f.stillPresent, f.comparedWith]), [
    [2, ['/etc/a'], 0, null],
    [5, ['/etc/b'], 1, 3],
    [10, ['/etc/a'], 0, null],
  ], 'after a Succeeded check the same file is news again')
  t.same(r.errors.map(e => e.scan.id), [6, 8])
})

t.test('findings: new rows, and collapsed bursts that grew after the last mail', async t => {
  const store = fresh(t)
  const a = insertDenial(store.db, denial())
  insertFinding(store.db, { kind: 'policy', subject: '/etc/containers/policy.json', message: 'default is insecureAcceptAnything' })
  const first = readEventReport(store, 'n', CURSOR_START, Date.now())
  t.same(first.findings.map(f => [f.id, f.isRepeat]), [[1, false], [2, false]])
  t.notOk(isEmpty(first))
  t.ok(isEmpty(readEventReport(store, 'n', first.next, Date.now())), 'nothing new at the cursor')
  seenAgain(store.db, a, first.next.findingSeenAt + 1000)
  const again = readEventReport(store, 'n', first.next, Date.now())
  t.same(again.findings.map(f => [f.id, f.count, f.isRepeat]), [[a, 2, true]])
})

t.test('digest: counts in the window, baseline, last check, the open failure since its first scan', async t => {
  let clock = Date.parse('2026-11-20T00:00:00Z')
  const store = fresh(t, () => clock)
  scan(store, {}, 'init')
  store.recordBaseline(1, 'ab'.repeat(32), 1234)
  clock += 30 * HOUR
  scan(store, {})
  scan(store, changed('/etc/a'))
  scan(store, { condition: 'Errored', exitCode: 17, error: 'x', errorCode: 'PFIM_AIDE_FAILED' })
  scan(store, changed('/etc/a'))
  insertFinding(store.db, { kind: 'audit-denial', subject: 'system:anonymous', message: 'forbidden', details: { ...denial() }, count: 4, at: clock })
  insertFinding(store.db, { kind: 'policy', subject: 's', message: 'm', at: clock - 48 * HOUR })
  const to = clock + HOUR
  const d = readDigest(store, 'n', to - 24 * HOUR, to)
  t.same(d.scans, { Succeeded: 1, Failed: 2, Errored: 1, Interrupted: 0 }, 'the init 30 h ago is outside the window')
  t.match(d.findings, [{ kind: 'audit-denial', findings: 1, events: 4 }])
  t.equal(d.findings.length, 1, 'a finding last seen before the window is not counted')
  t.match(d.baseline, { scanId: 1, size: 1234 })
  t.match(d.lastCheck, { id: 5, condition: 'Failed' })
  t.match(d.open, { since: 3, scan: { id: 5 }, files: [{ path: '/etc/a', change: 'changed' }] })
  scan(store, {})
  t.equal(readDigest(store, 'n', to - 24 * HOUR, to + HOUR).open, null, 'a Succeeded check closes it')
})

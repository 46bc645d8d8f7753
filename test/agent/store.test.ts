import t from 'tap'
import { statSync, existsSync } from 'node:fs'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { openStore } from '../../src/agent/store.js'
import { SCHEMA_VERSION } from '../../src/agent/store-schema.js'
import { StoreError } from '../../src/core/errors.js'
import type { ScanOutcome } from '../../src/agent/scan-types.js'

const failed: ScanOutcome = {
  condition: 'Failed', exitCode: 4, added: 0, changed: 1, removed: 0, errorCode: null, error: null,
  log: Buffer.from('AIDE found differences'),
  entries: [{ path: Buffer.from('/etc/a\nb\xff', 'latin1'), change: 'changed', summary: 'f = p.. .c...     ', attributes: { perm: { old: '-rw-r--r--', new: '-rw-------' } } }],
  unverified: [{ path: Buffer.from('/etc/shadow'), reason: 'Permission denied' }],
}

t.test('creates a private WAL database at the current schema', async t => {
  const dir = t.testdir()
  const file = join(dir, 'sub', 'state.db')
  const store = openStore(file)
  t.teardown(() => store.close())
  t.equal(statSync(file).mode & 0o777, 0o600, 'db is 0600')
  t.equal(statSync(join(dir, 'sub')).mode & 0o777, 0o700, 'dir is 0700')
  store.beginScan('init', 'startup')
  t.ok(existsSync(`${file}-wal`), 'WAL mode')
  t.equal(statSync(`${file}-wal`).mode & 0o777, 0o600, 'wal inherits 0600')
  const raw = new Database(file, { readonly: true })
  t.equal(raw.pragma('user_version', { simple: true }), SCHEMA_VERSION)
  raw.close()
})

t.test('records a scan with exact path bytes, reads it back read-only', async t => {
  const file = join(t.testdir(), 'state.db')
  let clock = 1_000
  const store = openStore(file, { now: () => clock })
  const id = store.beginScan('check', 'manual')
  t.equal(store.getScan(id).condition, 'Running')
  clock = 2_000
  const s = store.finishScan(id, failed)
  t.match(s, { id, kind: 'check', trigger: 'manual', condition: 'Failed', exitCode: 4, changed: 1, unverified: 1, startedAt: 1000, finishedAt: 2000 })
  const reader = openStore(file, { readonly: true })
  t.teardown(() => { reader.close(); store.close() })
  const [entry] = reader.listEntries(id)
  t.ok(entry?.path.equals(Buffer.from('/etc/a\nb\xff', 'latin1')), 'path bytes survive')
  t.same(entry?.attributes, { perm: { old: '-rw-r--r--', new: '-rw-------' } })
  t.equal(reader.listUnverified(id)[0]?.reason, 'Permission denied')
  t.equal(reader.getLog(id)?.toString(), 'AIDE found differences')
  t.throws(() => reader.beginScan('check', 'manual'), { code: 'PFIM_STORE_FAILED' })
  t.equal(reader.lastScan()?.id, id)
  t.same(reader.totals(), { scans: 1, failed: 1 })
})

t.test('read-only open of a missing database is PFIM_STORE_NOT_FOUND', async t => {
  const err = t.throws(() => openStore(join(t.testdir(), 'none.db'), { readonly: true })) as StoreError
  t.equal(err.code, 'PFIM_STORE_NOT_FOUND')
})

t.test('unknown scan id is PFIM_SCAN_NOT_FOUND', async t => {
  const store = openStore(join(t.testdir(), 's.db'))
  t.teardown(() => store.close())
  t.throws(() => store.getScan(42), { code: 'PFIM_SCAN_NOT_FOUND' })
  t.throws(() => store.listEntries(42), { code: 'PFIM_SCAN_NOT_FOUND' })
})

t.test('a database from a newer podsec-fim is refused, not damaged', async t => {
  const file = join(t.testdir(), 's.db')
  const raw = new Database(file)
  raw.pragma(`user_version = ${SCHEMA_VERSION + 1}`)
  raw.close()
  t.throws(() => openStore(file), { code: 'PFIM_STORE_FAILED', message: /newer than this podsec-fim/ })
})

t.test('scans left Running are recovered as Interrupted with their AIDE pid', async t => {
  const file = join(t.testdir(), 's.db')
  const store = openStore(file)
  const id = store.beginScan('check', 'schedule')
  store.setScanPid(id, 4242)
  store.close()
  const again = openStore(file)
  t.teardown(() => again.close())
  t.same(again.recoverInterrupted(), [{ id, aidePid: 4242 }])
  t.match(again.getScan(id), { condition: 'Interrupted', errorCode: 'PFIM_SCAN_INTERRUPTED' })
  t.same(again.recoverInterrupted(), [], 'only once')
})

t.test('retention drops details of old scans and keeps summaries', async t => {
  let clock = 0
  const store = openStore(join(t.testdir(), 's.db'), { now: () => clock })
  t.teardown(() => store.close())
  const ids = [1, 2, 3, 4].map(() => { const id = store.beginScan('check', 'schedule'); store.finishScan(id, failed); clock += 1000; return id })
  store.prune(2, 365)
  t.same(ids.map(id => store.getScan(id).detailsPruned), [true, true, false, false], 'keeps the 2 newest')
  t.same(store.listEntries(ids[0] as number), [])
  t.equal(store.getLog(ids[0] as number), null)
  t.equal(store.getScan(ids[0] as number).changed, 1, 'summary kept')
  clock = 10 * 86_400_000
  store.prune(10, 1)
  t.same(ids.map(id => store.getScan(id).detailsPruned), [true, true, true, true], 'age limit')
})

t.test('baselines: the newest is current', async t => {
  const store = openStore(join(t.testdir(), 's.db'), { now: () => 5 })
  t.teardown(() => store.close())
  t.equal(store.currentBaseline(), null)
  const a = store.beginScan('init', 'startup')
  store.recordBaseline(a, 'aa', 10)
  const b = store.beginScan('init', 'manual')
  store.recordBaseline(b, 'bb', 20)
  t.match(store.currentBaseline(), { scanId: b, sha256: 'bb', size: 20, createdAt: 5 })
})

/**
 * The report cursor is the CLI's only write to the agent's database: its own row, one short
 * IMMEDIATE transaction that waits for the agent's write transaction instead of failing, and
 * nothing else touched (other cursors, journal mode, schema).
 */
import t, { type Test } from 'tap'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { CursorStore } from '../../src/agent/cursor-store.js'
import { openStore } from '../../src/agent/store.js'
import { ReportCursor } from '../../src/cli/report-cursor.js'
import { holdWriteLock } from '../helpers/write-lock.js'

function agentDb (t: Test): string {
  const file = join(t.testdir(), 'state.db')
  const store = openStore(file)
  new CursorStore(store.db).set('audit-log', { inode: 7, offset: 42 })
  store.close()
  return file
}

t.test('advances only its own row, keeps WAL, and takes the max of what it is given', async t => {
  const file = agentDb(t)
  const cursor = ReportCursor.open(file, 'mail-report', { pid: process.pid, now: Date.now })
  t.teardown(() => cursor.close())
  t.equal(cursor.get(), null)
  cursor.advance<{ n: number }>(c => ({ n: Math.max(c?.n ?? 0, 5) }))
  cursor.advance<{ n: number }>(c => ({ n: Math.max(c?.n ?? 0, 3) }))
  t.same(cursor.get(), { n: 5 })
  const db = new Database(file, { readonly: true })
  t.teardown(() => db.close())
  t.equal(db.pragma('journal_mode', { simple: true }), 'wal')
  t.same(new CursorStore(db).get('audit-log'), { inode: 7, offset: 42 })
  t.same(db.prepare('SELECT name FROM cursors ORDER BY name').all(), [{ name: 'audit-log' }, { name: 'mail-report' }])
})

t.test('waits for a write transaction held by another process, then writes', async t => {
  const file = agentDb(t)
  const holder = await holdWriteLock(file, 1000)
  const cursor = ReportCursor.open(file, 'mail-report', { pid: process.pid, now: Date.now })
  t.teardown(() => cursor.close())
  cursor.advance(() => ({ scanId: 9 }))
  t.same(cursor.get(), { scanId: 9 })
  t.equal(await holder.released, 0)
  const db = new Database(file, { readonly: true })
  t.teardown(() => db.close())
  t.same(new CursorStore(db).get('agent-write'), 1, 'the agent\'s transaction committed too')
})

t.test('refuses a database of another schema version, and releases its lock when it does', async t => {
  const file = agentDb(t)
  const other = new Database(file)
  other.pragma('user_version = 999')
  other.close()
  for (let i = 0; i < 2; i++) {
    t.throws(() => ReportCursor.open(file, 'mail-report', { pid: process.pid, now: Date.now }), { code: 'PFIM_STORE_FAILED', message: /has schema 999/ })
  }
})

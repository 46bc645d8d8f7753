/** Upgrades: a database made by an earlier schema is migrated forward with its data kept. */
import t from 'tap'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { MIGRATIONS, SCHEMA_VERSION } from '../../src/agent/store-schema.js'
import { openStore } from '../../src/agent/store.js'

t.test('every migration applies in order from an empty database', async t => {
  const db = new Database(':memory:')
  MIGRATIONS.forEach(sql => db.exec(sql))
  t.ok(db.prepare("SELECT name FROM sqlite_master WHERE name = 'findings'").get())
  db.close()
})

t.test('a schema-1 database (podsec-fim 0.1 before findings) is upgraded with its scans kept', async t => {
  const file = join(t.testdir(), 'state.db')
  const old = new Database(file)
  old.exec(MIGRATIONS[0] as string)
  old.pragma('user_version = 1')
  old.prepare("INSERT INTO scans (kind, trigger, started_at, finished_at, condition, changed) VALUES ('check', 'schedule', 1, 2, 'Failed', 3)").run()
  old.close()
  const store = openStore(file)
  t.teardown(() => store.close())
  t.equal(store.db.pragma('user_version', { simple: true }), SCHEMA_VERSION)
  t.match(store.getScan(1), { condition: 'Failed', changed: 3 })
  t.same(store.db.prepare('SELECT count(*) AS n FROM findings').get(), { n: 0 })
})

/** The baseline index: built from AIDE's database after each init, never left describing another baseline. */
import { ownSettings, RuntimeSettings } from '../../src/agent/runtime-settings.js'
import t, { type Test } from 'tap'
import { appendFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { Scanner } from '../../src/agent/scanner.js'
import { openStore } from '../../src/agent/store.js'
import { aideVersion } from '../../src/agent/aide-process.js'
import { BaselineIndex } from '../../src/agent/baseline-index.js'
import { makeTree, sinkLogger, treeAideConf } from '../helpers/agent.js'

const PATH = process.env.PATH ?? '/usr/bin:/bin'

async function setup (t: Test, mode: 'exact' | 'fast' = 'exact') {
  const root = t.testdir()
  const tree = makeTree(root)
  writeFileSync(join(root, 'aide.conf'), treeAideConf(tree))
  const store = openStore(join(root, 'state', 'state.db'))
  const logs: Array<Record<string, unknown>> = []
  const scanner = new Scanner({
    store, stateDir: join(root, 'state'), aide: { binary: 'aide', mode }, settings: new RuntimeSettings(ownSettings({ config: join(root, 'aide.conf'), maxBackups: 1, gracePeriod: 900, initialDelay: 0 })),
    version: await aideVersion('aide', PATH), path: PATH, log: sinkLogger(logs), now: Date.now,
  })
  t.teardown(async () => { await scanner.close(); store.close() })
  return { root, tree, store, scanner, logs }
}

t.test('every init indexes the new baseline: one row per AIDE entry, fields as AIDE wrote them', async t => {
  const { tree, store, scanner } = await setup(t)
  await scanner.run('init', 'startup')
  const baseline = store.currentBaseline()
  const state = scanner.index.state()
  t.match(state, { baselineId: baseline?.id, sha256: baseline?.sha256, entries: 8 })
  t.ok(state?.spec.includes('sha512'), '@@db_spec kept')
  const entry = scanner.index.get(Buffer.from(join(tree, 'etc/app.conf')))
  t.match(entry, { fields: { size: '19', perm: '100644', sha512: /^[A-Za-z0-9+/]{86}==$/ } })
  t.equal(scanner.index.get(Buffer.from(join(tree, 'nope'))), null)
  appendFileSync(join(tree, 'etc/app.conf'), 'x')
  await scanner.run('init', 'manual')
  t.equal(scanner.index.state()?.baselineId, store.currentBaseline()?.id, 'a re-init re-indexes')
  t.match(scanner.index.get(Buffer.from(join(tree, 'etc/app.conf'))), { fields: { size: '20' } })
  const reopened = new BaselineIndex(store.db, Date.now)
  t.equal(reopened.state()?.entries, 8, 'the index is in SQLite, not in memory')
})

t.test('a database that cannot be parsed leaves no index rather than a stale one', async t => {
  const { root, store, scanner } = await setup(t)
  await scanner.run('init', 'startup')
  const bad = join(root, 'bad.db.gz')
  writeFileSync(bad, gzipSync('@@begin_db\n@@db_spec name attr\n/x 1\n'))
  await t.rejects(scanner.index.rebuild(bad, { id: 999, sha256: 'x' }), { code: 'PFIM_AIDE_REPORT_INVALID', message: /line 4: missing @@end_db|line 3: missing @@end_db/ })
  t.equal(scanner.index.state(), null)
  t.equal(scanner.index.get(Buffer.from('/x')), null)
  t.notOk(scanner.index.isCurrent(store.currentBaseline() as { id: number, sha256: string }))
})

t.test('a fast check rebuilds a missing index from the verified baseline first', async t => {
  const { tree, store, scanner } = await setup(t, 'fast')
  await scanner.run('init', 'startup')
  store.db.exec('DELETE FROM baseline_index_state; DELETE FROM baseline_index')
  appendFileSync(join(tree, 'etc/app.conf'), 'x')
  const check = await scanner.run('check', 'manual')
  t.match(check, { condition: 'Failed', changed: 1, exitCode: 4 })
  t.equal(scanner.index.state()?.baselineId, store.currentBaseline()?.id)
})

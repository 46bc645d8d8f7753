/** The scanner against real AIDE over a temporary tree. */
import t, { type Test } from 'tap'
import { appendFileSync, chmodSync, copyFileSync, mkdirSync, existsSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs'
import { gzipSync } from 'node:zlib'
import { join } from 'node:path'
import { Scanner } from '../../src/agent/scanner.js'
import { ownSettings, RuntimeSettings } from '../../src/agent/runtime-settings.js'
import { openStore } from '../../src/agent/store.js'
import { aideVersion } from '../../src/agent/aide-process.js'
import { makeTree, sinkLogger, treeAideConf } from '../helpers/agent.js'

const PATH = process.env.PATH ?? '/usr/bin:/bin'

async function setup (t: Test, opts: { maxBackups?: number, conf?: (tree: string) => string } = {}) {
  const root = t.testdir()
  const tree = makeTree(root)
  const confPath = join(root, 'aide.conf')
  writeFileSync(confPath, (opts.conf ?? treeAideConf)(tree))
  const store = openStore(join(root, 'state', 'state.db'))
  const logs: Array<Record<string, unknown>> = []
  const scanner = new Scanner({
    store, stateDir: join(root, 'state'), aide: { binary: 'aide' },
    settings: new RuntimeSettings(ownSettings({ config: confPath, maxBackups: opts.maxBackups ?? 5, gracePeriod: 900, initialDelay: 0 })),
    version: await aideVersion('aide', PATH), path: PATH, log: sinkLogger(logs), now: Date.now,
  })
  t.teardown(async () => { await scanner.close(); store.close() })
  return { root, tree, confPath, store, scanner, logs }
}

t.test('init takes a complete, private baseline; an unchanged tree checks Succeeded', async t => {
  const { scanner, store } = await setup(t)
  const init = await scanner.run('init', 'startup')
  t.match(init, { kind: 'init', condition: 'Succeeded', exitCode: 0 })
  const b = store.currentBaseline()
  t.equal(b?.scanId, init.id)
  t.equal(b?.size, statSync(scanner.paths.database).size)
  t.equal(statSync(scanner.paths.database).mode & 0o777, 0o600)
  t.notOk(existsSync(scanner.paths.databaseNew), 'side file promoted')
  t.match(await scanner.run('check', 'manual'), { condition: 'Succeeded', added: 0, changed: 0, removed: 0 })
})

t.test('a changed, an added and a removed file make a Failed check with per-file details', async t => {
  const { scanner, store, tree } = await setup(t)
  await scanner.run('init', 'startup')
  appendFileSync(join(tree, 'etc/app.conf'), 'listen = 0.0.0.0\n')
  writeFileSync(join(tree, 'bin/new-tool'), 'x')
  unlinkSync(join(tree, 'lib/data.txt'))
  chmodSync(join(tree, 'etc/secret.key'), 0o666)
  const s = await scanner.run('check', 'manual')
  t.match(s, { condition: 'Failed', exitCode: 7, added: 1, changed: 2, removed: 1 })
  const byPath = Object.fromEntries(store.listEntries(s.id).map(e => [e.path.toString(), e]))
  t.match(byPath[join(tree, 'etc/app.conf')], { change: 'changed', attributes: { size: { old: 19, new: 36 }, sha512: { old: String, new: String } } })
  t.match(byPath[join(tree, 'etc/secret.key')], { change: 'changed', attributes: { perm: { old: '-rw-r--r--', new: '-rw-rw-rw-' } } })
  t.match(byPath[join(tree, 'bin/new-tool')], { change: 'added' })
  t.match(byPath[join(tree, 'lib/data.txt')], { change: 'removed' })
  t.match(store.getLog(s.id)?.toString(), /Changed entries:\s+2/, 'the AIDE text log is kept')
  t.match(readFileSync(scanner.paths.log, 'utf8'), /Added entries:\s+1/, 'and copied to aide.log like FIO')
})

t.test('re-init keeps backups named like FIO\'s and prunes to maxBackups', async t => {
  const { scanner } = await setup(t, { maxBackups: 1 })
  await scanner.run('init', 'startup')
  await scanner.run('check', 'manual')
  await scanner.run('init', 'manual')
  await scanner.run('init', 'manual')
  const names = readdirSync(scanner.paths.dir)
  const db = names.filter(n => n.startsWith('aide.db.gz.backup-'))
  const log = names.filter(n => n.startsWith('aide.log.backup-'))
  t.equal(db.length, 1, 'exactly one database backup')
  t.equal(log.length, 1, 'exactly one log backup')
  t.match(db[0], /^aide\.db\.gz\.backup-\d{8}T\d\d_\d\d_\d\d(\.\d+)?$/)
})

t.test('an invalid aide.conf line gives an Errored scan with AIDE\'s message; the scanner goes on', async t => {
  const { scanner, confPath, tree } = await setup(t, { conf: tree => `${treeAideConf(tree)}/x p+u+g+\n` })
  const init = await scanner.run('init', 'startup')
  t.match(init, { condition: 'Errored', exitCode: 17, error: /^Error initializing the AIDE DB: AIDE error: 17 Invalid configureline error: ERROR: .*syntax error/ })
  writeFileSync(confPath, treeAideConf(tree))
  t.match(await scanner.run('init', 'manual'), { condition: 'Succeeded' })
  writeFileSync(confPath, `${treeAideConf(tree)}unknown_option=1\n`)
  t.match(await scanner.run('check', 'manual'), { condition: 'Errored', exitCode: 17, error: /unknown_option|unknown config option/ })
})

const tamper: Array<[string, (db: string) => void, string]> = [
  ['emptied', db => truncateSync(db, 0), 'PFIM_BASELINE_TAMPERED'],
  ['truncated', db => truncateSync(db, Math.floor(statSync(db).size / 2)), 'PFIM_BASELINE_TAMPERED'],
  ['replaced by garbage', db => writeFileSync(db, Buffer.alloc(statSync(db).size, 0x41)), 'PFIM_BASELINE_TAMPERED'],
  ['replaced by another valid database', db => writeFileSync(db, gzipSync('@@begin_db\n@@db_spec name\n@@end_db\n')), 'PFIM_BASELINE_TAMPERED'],
  ['deleted', db => rmSync(db), 'PFIM_BASELINE_MISSING'],
]
for (const [what, damage, code] of tamper) {
  t.test(`a baseline ${what} outside the agent is Errored, never re-baselined`, async t => {
    const { scanner, store } = await setup(t)
    await scanner.run('init', 'startup')
    const before = store.currentBaseline()
    damage(scanner.paths.database)
    const s = await scanner.run('check', 'schedule')
    t.match(s, { condition: 'Errored', errorCode: code, error: /outside the agent|removed outside/ })
    t.same(store.currentBaseline(), before, 'baseline record unchanged')
    t.match(await scanner.run('check', 'schedule'), { condition: 'Errored', errorCode: code }, 'still Errored on the next check')
  })
}

t.test('a check before any baseline is Errored with the way out', async t => {
  const { scanner } = await setup(t)
  t.match(await scanner.run('check', 'manual'), { condition: 'Errored', errorCode: 'PFIM_BASELINE_MISSING', error: /^no baseline has been taken yet; run "podsec-fim reinit"/ })
})

t.test('an AIDE database the agent has no record of is not adopted', async t => {
  const { scanner, store } = await setup(t)
  mkdirSync(scanner.paths.dir, { recursive: true })
  copyFileSync('test/fixtures/aide/aide.db.gz', scanner.paths.database)
  t.match(await scanner.run('check', 'manual'), { condition: 'Errored', errorCode: 'PFIM_BASELINE_MISSING', error: /was not taken by this agent .* not adopting it; run "podsec-fim reinit"/ })
  t.equal(store.currentBaseline(), null, 'no baseline recorded')
})

t.test('scans never overlap; a queued duplicate request shares its result', async t => {
  const { scanner } = await setup(t)
  const a = scanner.run('init', 'startup')
  const b = scanner.run('check', 'manual')
  const c = scanner.run('check', 'manual')
  t.equal(b, c, 'the waiting check is shared')
  const [ra, rb] = await Promise.all([a, b])
  t.ok((ra.finishedAt as number) <= rb.startedAt, 'the check started after the init finished')
})

t.test('close() during a scan stops AIDE with SIGINT and records Interrupted', async t => {
  const { scanner, store, tree } = await setup(t)
  await scanner.run('init', 'startup')
  // A large sparse file keeps AIDE hashing long enough to be stopped mid-scan.
  truncateSync(join(tree, 'lib/data.txt'), 64 * 1024 ** 3)
  const running = scanner.run('check', 'manual')
  while (store.runningScans().length === 0) await new Promise(resolve => setTimeout(resolve, 20))
  await scanner.close()
  t.match(await running, { condition: 'Interrupted', errorCode: 'PFIM_SCAN_INTERRUPTED' })
})

t.test('AIDE warnings that are not about one file are logged, not dropped', async t => {
  // AIDE 0.18 knows stribog256 but is built without it: it warns and silently weakens the rule.
  const { scanner, logs } = await setup(t, { conf: tree => treeAideConf(tree).replace('sha512', 'sha512+stribog256') })
  t.match(await scanner.run('init', 'startup'), { condition: 'Succeeded' })
  const warned = logs.find(l => l.msg === 'AIDE warned')
  t.match(warned, { level: 40, warnings: [/unsupported hash algorithm.*stribog256/] })
})

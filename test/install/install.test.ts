/**
 * `make install` / `make uninstall` (.ci/install.sh) into temporary DESTDIRs, and the installed
 * programs run from there: outside the source tree, with only the production node_modules that
 * were installed. Needs dist/ (npm test builds it first).
 */
import t, { type Test } from 'tap'
import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process'
import { once } from 'node:events'
import { cpSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import Database from 'better-sqlite3'
import { MIGRATIONS, SCHEMA_VERSION } from '../../src/agent/store-schema.js'
import { openStore, stateDbPath } from '../../src/agent/store.js'
import { treeAideConf, makeTree } from '../helpers/agent.js'

const REPO = process.cwd()
const VERSION = (JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string }).version

function tempDir (t: Test, prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

function make (target: 'install' | 'uninstall', vars: Record<string, string>): SpawnSyncReturns<string> {
  return spawnSync('make', ['-s', target, ...Object.entries(vars).map(([k, v]) => `${k}=${v}`)], { cwd: REPO, encoding: 'utf8' })
}

/** .ci/install.sh run from a copy of the source tree, so a test can add units or crontabs to it. */
function script (src: string, action: string, env: Record<string, string>): SpawnSyncReturns<string> {
  return spawnSync('bash', [join(src, '.ci', 'install.sh'), action], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env } })
}

/** A copy of what the install script reads (node_modules linked, it is only read). */
function sourceCopy (t: Test, extra: Record<string, string> = {}): string {
  const src = tempDir(t, 'pfim-src-')
  for (const entry of ['package.json', 'package-lock.json', 'README.md', 'dist', 'bin', 'systemd', 'etc', '.ci/install.sh']) {
    cpSync(join(REPO, entry), join(src, entry), { recursive: true })
  }
  symlinkSync(join(REPO, 'node_modules'), join(src, 'node_modules'))
  for (const [name, text] of Object.entries(extra)) {
    mkdirSync(join(src, name, '..'), { recursive: true })
    writeFileSync(join(src, name), text)
  }
  return src
}

/** Every file and symlink under dir, relative to it. */
function listFiles (dir: string): string[] {
  const out: string[] = []
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(d, e.name))
      else out.push(relative(dir, join(d, e.name)))
    }
  }
  walk(dir)
  return out.sort()
}

function run (bin: string, args: string[], env: Record<string, string> = {}): SpawnSyncReturns<string> {
  return spawnSync(bin, args, { encoding: 'utf8', cwd: tmpdir(), env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: '/nonexistent', ...env } })
}

t.test('make install puts the package under DESTDIR; the installed CLI runs from there', async t => {
  const dest = tempDir(t, 'pfim-dest-')
  // A root with a strict umask must still leave everything readable by u7s-admin.
  const umask = process.umask(0o077)
  const r = make('install', { DESTDIR: dest })
  process.umask(umask)
  t.equal(r.status, 0, r.stderr)
  for (const [path, mode] of [['etc/podsec/fim', 0o755], ['etc/podsec/fim/agent.json', 0o644], ['usr/share/doc/podsec-fim', 0o755], ['usr/lib/podsec-fim/dist/cli/main.js', 0o644], ['usr/lib/podsec-fim/bin/podsec-fim.js', 0o755]] as const) {
    t.equal(lstatSync(join(dest, path)).mode & 0o777, mode, `${path} is ${mode.toString(8)}`)
  }
  const bin = join(dest, 'usr/bin/podsec-fim')
  t.equal(readlinkSync(bin), '../lib/podsec-fim/bin/podsec-fim.js', 'binaries are relative symlinks into the package')
  t.equal(readlinkSync(join(dest, 'usr/bin/podsec-fim-agent')), '../lib/podsec-fim/bin/podsec-fim-agent.js')
  t.ok(existsSync(join(dest, 'usr/lib/podsec-fim/node_modules/better-sqlite3/build/Release/better_sqlite3.node')), 'the native addon is there')
  t.notOk(existsSync(join(dest, 'usr/lib/podsec-fim/node_modules/tap')), 'dev dependencies are not')
  t.notOk(existsSync(join(dest, 'usr/lib/podsec-fim/node_modules/better-sqlite3/deps')), 'nor the SQLite sources')
  t.equal(readFileSync(join(dest, 'usr/lib/systemd/user/podsec-fim-agent.service'), 'utf8'), readFileSync(join(REPO, 'systemd/podsec-fim-agent.service'), 'utf8'), 'the agent is a user unit')
  t.equal(readFileSync(join(dest, 'etc/podsec/fim/agent.json'), 'utf8'), readFileSync(join(REPO, 'etc/agent.example.json'), 'utf8'))

  const version = run(bin, ['--version'])
  t.equal(version.status, 0, version.stderr)
  t.equal(version.stdout, `${VERSION}\n`)
  t.equal(run(join(dest, 'usr/bin/podsec-fim-agent'), ['--version']).stdout, `${VERSION}\n`)
  const state = tempDir(t, 'pfim-state-')
  openStore(stateDbPath(state)).close()
  const status = run(bin, ['status', '--json', '--state-dir', state, '--socket', join(state, 'none.sock')])
  t.equal(status.status, 3, 'no agent runs: exit 3, the stored state still shown')
  t.match(JSON.parse(status.stdout), { isAgentRunning: false, cliVersion: VERSION, stateDir: state, totals: { scans: 0 } })
  const config = run(bin, ['status', '--json', '--config', join(dest, 'etc/podsec/fim/agent.json'), '--state-dir', state, '--socket', join(state, 'none.sock')])
  t.equal(config.status, 3, `the installed config loads: ${config.stderr}`)

  const u = make('uninstall', { DESTDIR: dest })
  t.equal(u.status, 0, u.stderr)
  t.same(listFiles(dest), [], 'uninstall leaves no file behind')
})

t.test("install adds the report lines to root's crontab when absent; uninstall removes exactly them", async t => {
  const dest = tempDir(t, 'pfim-dest-')
  const spool = join(dest, 'var/spool/cron/crontabs/root')
  mkdirSync(join(spool, '..'), { recursive: true })
  writeFileSync(spool, '0 3 * * * /usr/sbin/logrotate /etc/logrotate.conf\n')
  const vars = { DESTDIR: dest, CRONTAB_SPOOL: '/var/spool/cron/crontabs/root' }
  t.equal(make('install', vars).status, 0)
  t.equal(make('install', vars).status, 0, 'installing again (an upgrade)')
  const lines = readFileSync(spool, 'utf8').split('\n')
  t.equal(lines.filter(l => l.includes('podsec-fim report --mail')).length, 1, 'the 10-minute report, once')
  t.equal(lines.filter(l => l.includes('report --digest --mail')).length, 1, 'the daily digest, once')
  t.ok(lines.includes('0 3 * * * /usr/sbin/logrotate /etc/logrotate.conf'), "root's own line is kept")
  t.equal(make('uninstall', vars).status, 0)
  t.equal(readFileSync(spool, 'utf8'), '0 3 * * * /usr/sbin/logrotate /etc/logrotate.conf\n', 'exactly our lines are gone')
})

t.test('configuration is never overwritten once edited, and survives uninstall', async t => {
  const dest = tempDir(t, 'pfim-dest-')
  const src = sourceCopy(t)
  const env = { DESTDIR: dest }
  t.equal(script(src, 'install', env).status, 0)
  const conf = join(dest, 'etc/podsec/fim/agent.json')
  const edited = '{ "nodeName": "worker-7" }\n'
  writeFileSync(conf, edited)
  let r = script(src, 'install', env)
  t.equal(r.status, 0, r.stderr)
  t.equal(readFileSync(conf, 'utf8'), edited, 'an upgrade keeps the edited config')
  t.notOk(existsSync(`${conf}.new`), 'the shipped config did not change: nothing to merge')
  writeFileSync(join(src, 'etc/agent.example.json'), '{ "log": { "level": "debug" } }\n')
  r = script(src, 'install', env)
  t.equal(readFileSync(conf, 'utf8'), edited)
  t.equal(readFileSync(`${conf}.new`, 'utf8'), '{ "log": { "level": "debug" } }\n', 'a changed shipped config is put beside it')
  t.match(r.stderr, 'kept your edited /etc/podsec/fim/agent.json; the new version is /etc/podsec/fim/agent.json.new')
  r = script(src, 'uninstall', env)
  t.equal(r.status, 0, r.stderr)
  t.match(r.stderr, 'kept your edited /etc/podsec/fim/agent.json')
  t.same(listFiles(dest), ['etc/podsec/fim/agent.json'], 'only the edited config is left')
})

t.test('an untouched config follows the package on upgrade', async t => {
  const dest = tempDir(t, 'pfim-dest-')
  const src = sourceCopy(t)
  t.equal(script(src, 'install', { DESTDIR: dest }).status, 0)
  writeFileSync(join(src, 'etc/agent.example.json'), '{ "log": { "level": "warn" } }\n')
  t.equal(script(src, 'install', { DESTDIR: dest }).status, 0)
  t.equal(readFileSync(join(dest, 'etc/podsec/fim/agent.json'), 'utf8'), '{ "log": { "level": "warn" } }\n')
  t.notOk(existsSync(join(dest, 'etc/podsec/fim/agent.json.new')))
})

const SYSTEM_UNIT = '[Unit]\nDescription=x\n[Service]\nExecStart=/usr/bin/podsec-fim-aggregator --config /etc/podsec/fim/aggregator.json\n[Install]\nWantedBy=multi-user.target\n'
const CRONTAB = '0 7 * * * /usr/bin/podsec-fim report --mail\n'

t.test('units go to user or system by whether they live beside rootlesskit.service; PREFIX reaches units, crontabs and links', async t => {
  const dest = tempDir(t, 'pfim-dest-')
  const src = sourceCopy(t, { 'systemd/podsec-fim-aggregator.service': SYSTEM_UNIT, 'crontabs/podsec-fim': CRONTAB, 'etc/kubernetes/10-crd.yaml': 'kind: CustomResourceDefinition\n' })
  const env = { DESTDIR: dest, PREFIX: '/usr/local' }
  const r = script(src, 'install', env)
  t.equal(r.status, 0, r.stderr)
  const files = listFiles(dest).filter(f => !f.startsWith('usr/local/lib/podsec-fim/'))
  const bins = readdirSync(join(src, 'bin')).map(f => `usr/local/bin/${f.replace(/\.js$/, '')}`)
  const manifests = readdirSync(join(src, 'etc/kubernetes')).map(f => `usr/local/share/podsec-fim/kubernetes/${f}`)
  t.ok(manifests.includes('usr/local/share/podsec-fim/kubernetes/10-crd.yaml'))
  t.same(files, [
    'etc/podsec/crontabs/podsec-fim',
    'etc/podsec/fim/agent.json',
    ...bins,
    'usr/local/lib/systemd/system/podsec-fim-aggregator.service',
    'usr/local/lib/systemd/user/podsec-fim-agent.service',
    'usr/local/share/doc/podsec-fim/README.md',
    ...manifests,
    'usr/local/share/podsec-fim/pristine/etc/podsec/crontabs/podsec-fim',
    'usr/local/share/podsec-fim/pristine/etc/podsec/fim/agent.json',
  ].sort())
  t.match(readFileSync(join(dest, 'usr/local/lib/systemd/user/podsec-fim-agent.service'), 'utf8'), /^ExecStart=\S+nsenter_u7s \/usr\/local\/bin\/podsec-fim-agent --config \/etc\/podsec\/fim\/agent.json$/m)
  t.match(readFileSync(join(dest, 'usr/local/lib/systemd/system/podsec-fim-aggregator.service'), 'utf8'), 'ExecStart=/usr/local/bin/podsec-fim-aggregator ')
  t.equal(readFileSync(join(dest, 'etc/podsec/crontabs/podsec-fim'), 'utf8'), '0 7 * * * /usr/local/bin/podsec-fim report --mail\n')
  t.equal(run(join(dest, 'usr/local/bin/podsec-fim'), ['--version']).stdout, `${VERSION}\n`)

  rmSync(join(src, 'systemd/podsec-fim-aggregator.service'))
  t.equal(script(src, 'install', env).status, 0)
  t.notOk(existsSync(join(dest, 'usr/local/lib/systemd/system/podsec-fim-aggregator.service')), 'an upgrade removes what the new version no longer ships')
  t.equal(script(src, 'uninstall', env).status, 0)
  t.same(listFiles(dest), [])
})

t.test('bad input: odd PREFIX, relative DESTDIR, unknown action, no build, nothing installed', async t => {
  const dest = tempDir(t, 'pfim-dest-')
  let r = make('install', { DESTDIR: dest, PREFIX: '/usr/my prefix' })
  t.not(r.status, 0)
  t.match(r.stderr, "PREFIX must be an absolute path of [A-Za-z0-9/._-], got '/usr/my prefix'")
  r = make('install', { DESTDIR: 'stage' })
  t.match(r.stderr, "DESTDIR must be an absolute path, got 'stage'")
  const src = sourceCopy(t)
  r = script(src, 'upgrade', { DESTDIR: dest })
  t.equal(r.status, 64)
  t.match(r.stderr, 'usage: .ci/install.sh install|uninstall')
  rmSync(join(src, 'dist'), { recursive: true })
  r = script(src, 'install', { DESTDIR: dest })
  t.equal(r.status, 66)
  t.match(r.stderr, 'dist/ is not built: run make build first')
  r = script(src, 'uninstall', { DESTDIR: dest })
  t.equal(r.status, 0)
  t.match(r.stderr, 'nothing to uninstall')
  t.same(listFiles(dest), [], 'nothing was written')
})

/** A state database as the previous release left it: schema SCHEMA_VERSION-1, with a failed check in it. */
function previousSchemaDb (file: string): void {
  mkdirSync(join(file, '..'), { recursive: true, mode: 0o700 })
  const db = new Database(file)
  for (const sql of MIGRATIONS.slice(0, SCHEMA_VERSION - 1)) db.exec(sql)
  db.pragma(`user_version = ${SCHEMA_VERSION - 1}`)
  // Recent, or the agent's retention (maxAgeDays) would rightly drop the per-file details at start.
  const at = Date.now() - 3_600_000
  db.prepare("INSERT INTO scans (kind, trigger, started_at, finished_at, condition, exit_code, changed) VALUES ('check', 'schedule', ?, ?, 'Failed', 4, 1)").run(at, at + 60_000)
  db.prepare("INSERT INTO scan_entries (scan_id, path, change, summary, attributes) VALUES (1, ?, 'changed', 'f   ...    . ...', '{}')").run(Buffer.from('/etc/shadow'))
  db.close()
}

async function waitFor (what: string, probe: () => boolean): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if (probe()) return
    await new Promise(resolve => setTimeout(resolve, 100))
  }
  throw new Error(`gave up waiting for ${what}`)
}

t.test('an upgrade keeps the state database and the installed agent migrates its schema', async t => {
  const dest = tempDir(t, 'pfim-dest-')
  t.equal(make('install', { DESTDIR: dest }).status, 0)
  const root = tempDir(t, 'pfim-up-')
  const state = join(root, 'state')
  previousSchemaDb(stateDbPath(state))
  const tree = makeTree(root)
  writeFileSync(join(root, 'aide.conf'), treeAideConf(tree))
  const socket = join(root, 'agent.sock')
  writeFileSync(join(root, 'agent.json'), JSON.stringify({ nodeName: 'n1', stateDir: state, socketPath: socket, aide: { config: join(root, 'aide.conf'), gracePeriod: 3600, initialDelay: 3600 } }))
  const cli = join(dest, 'usr/bin/podsec-fim')
  const before = run(cli, ['scans', '--json', '--state-dir', state])
  t.not(before.status, 0, 'the new CLI does not read the old schema itself')
  t.match(before.stderr, 'start the agent once to migrate it')

  const agent = spawn(join(dest, 'usr/bin/podsec-fim-agent'), ['--config', join(root, 'agent.json')], { cwd: tmpdir(), stdio: ['ignore', 'ignore', 'pipe'] })
  const exited = once(agent, 'exit')
  t.teardown(() => { if (agent.exitCode === null) agent.kill('SIGKILL') })
  await waitFor('the installed agent to answer', () => run(cli, ['status', '--socket', socket, '--state-dir', state]).status === 0)
  const db = new Database(stateDbPath(state), { readonly: true })
  t.equal(db.pragma('user_version', { simple: true }), SCHEMA_VERSION, 'migrated to the current schema')
  db.close()
  const scan = run(cli, ['scan', '1', '--json', '--state-dir', state])
  t.equal(scan.status, 0, scan.stderr)
  t.match(JSON.parse(scan.stdout), { scan: { id: 1, condition: 'Failed', changed: 1 }, entries: [{ path: '/etc/shadow', change: 'changed' }] }, 'the old data is all there')
  agent.kill('SIGTERM')
  const [code] = await exited as [number | null]
  t.equal(code, 0, 'the agent stops cleanly')

  t.equal(make('install', { DESTDIR: dest }).status, 0, 'installing again (an upgrade) over a node with state')
  t.equal(make('uninstall', { DESTDIR: dest }).status, 0)
  t.ok(existsSync(stateDbPath(state)), 'the state database is never touched')
  const after = run(join(REPO, 'bin/podsec-fim.js'), ['scans', '--json', '--state-dir', state])
  t.equal(after.status, 0, after.stderr)
  const { scans } = JSON.parse(after.stdout) as { scans: Array<{ id: number, condition: string }> }
  t.match(scans.find(s => s.id === 1), { condition: 'Failed' }, 'the old scan is still in it')
  t.match(scans.find(s => s.id === 2), { kind: 'init', trigger: 'startup' }, 'beside the baseline the upgraded agent took')
})

/** Smoke test of the installed entry point: bin/podsec-fim.js runs the built CLI (dist/) as a real process. */
import t from 'tap'
import { spawn, spawnSync } from 'node:child_process'
import { once } from 'node:events'
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { stateDbPath } from '../../src/agent/store.js'
import { openStore } from '../../src/agent/store.js'

const ROOT = process.cwd()
const MAIN = join(ROOT, 'dist', 'cli', 'main.js')

function newestSource (dir: string): number {
  return Math.max(0, ...readdirSync(dir, { withFileTypes: true }).map(e =>
    e.isDirectory() ? newestSource(join(dir, e.name)) : e.name.endsWith('.ts') ? statSync(join(dir, e.name)).mtimeMs : 0))
}

function run (args: string[]) {
  return spawnSync(process.execPath, [join(ROOT, 'bin', 'podsec-fim.js'), ...args], { encoding: 'utf8', env: { HOME: '/nonexistent', PATH: process.env.PATH } })
}

t.before(() => {
  if (existsSync(MAIN) && statSync(MAIN).mtimeMs >= newestSource(join(ROOT, 'src'))) return
  const tsc = spawnSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', ROOT], { encoding: 'utf8' })
  if (tsc.status !== 0) throw new Error(`build failed:\n${tsc.stdout}${tsc.stderr}`)
})

t.test('--help exits 0 and teaches: commands, an example, exit codes', async t => {
  const r = run(['--help'])
  t.equal(r.status, 0, r.stderr)
  t.match(r.stdout, /^Usage: podsec-fim \[options\] \[command\]/)
  t.match(r.stdout, 'nsenter_u7s podsec-fim status')
  t.match(r.stdout, /Exit codes:\n +0  /)
  t.match(r.stdout, /^ +66  /m)
})

t.test('the exit code reaches the real process', async t => {
  t.equal(run(['bogus']).status, 64)
  const r = run(['--state-dir', '/nonexistent/pfim', 'scans'])
  t.equal(r.status, 66)
  t.equal(r.stderr, 'podsec-fim: no state database at /nonexistent/pfim/state.db (has the agent run here? see --state-dir) (PFIM_STORE_NOT_FOUND)\n')
})

t.test('a reader that leaves early (log | head) is no crash', async t => {
  const dir = t.testdir()
  const store = openStore(stateDbPath(dir))
  const id = store.beginScan('check', 'manual')
  store.finishScan(id, { condition: 'Failed', exitCode: 1, added: 0, changed: 0, removed: 0, errorCode: null, error: null, log: Buffer.alloc(8 << 20, 'a'), entries: [], unverified: [] })
  store.close()
  const child = spawn(process.execPath, [join(ROOT, 'bin', 'podsec-fim.js'), '--state-dir', dir, 'log', String(id)])
  let stderr = ''
  child.stderr.on('data', (b: Buffer) => { stderr += b.toString() })
  child.stdout.once('data', () => child.stdout.destroy())
  const [code] = await once(child, 'exit') as [number | null]
  t.equal(code, 0)
  t.equal(stderr, '', 'no EPIPE stack trace')
})

t.test('another user gets "run as the agent\'s user", not "no state database"', { skip: process.getuid?.() !== 0 && 'needs root to run the CLI as another user' }, async t => {
  const dir = mkdtempSync(join(tmpdir(), 'pfim-perm-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  openStore(stateDbPath(dir)).close()
  const r = spawnSync(process.execPath, [join(ROOT, 'bin', 'podsec-fim.js'), '--state-dir', dir, 'scans'], { encoding: 'utf8', uid: 65534, gid: 65534 })
  t.equal(r.status, 77)
  t.match(r.stderr, `cannot read the state database ${join(dir, 'state.db')} (EACCES): run podsec-fim as the agent's user`)
})

t.test('the built CLI finds the shipped crontabs/podsec-fim (crontab install as a real process)', async t => {
  const spool = join(t.testdir(), 'root')
  const r = run(['crontab', 'install', '--spool', spool])
  t.equal(r.status, 0, r.stderr)
  t.match(r.stdout, 'machinectl -q shell u7s-admin@ /usr/bin/podsec-fim report --mail --quiet')
})

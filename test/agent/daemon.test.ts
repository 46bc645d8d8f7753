/** The agent as a process (bin/podsec-fim-agent.js against dist/) and in-process through startAgent. */
import t, { type Test } from 'tap'
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { openStore } from '../../src/agent/store.js'
import { digestFile } from '../../src/agent/baseline-file.js'
import { makeTree, postControl as post, sinkLogger, startAgent, treeAideConf, TREE_FILES } from '../helpers/agent.js'
import { startDaemon } from '../../src/agent/daemon.js'
import { parseConfig } from '../../src/core/config.js'

const BIN = join(process.cwd(), 'bin', 'podsec-fim-agent.js')

function runAgent (args: string[]): ChildProcess {
  return spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
}

async function collect (child: ChildProcess): Promise<{ code: number | null, stdout: string, stderr: string }> {
  let stdout = ''
  let stderr = ''
  child.stdout?.on('data', (b: Buffer) => { stdout += b.toString() })
  child.stderr?.on('data', (b: Buffer) => { stderr += b.toString() })
  const [code] = await once(child, 'exit') as [number | null]
  return { code, stdout, stderr }
}

async function until<T> (what: string, probe: () => T | null | undefined | false, tries = 1500): Promise<T> {
  for (let i = 0; i < tries; i++) {
    const v = probe()
    if (v !== null && v !== undefined && v !== false) return v
    await new Promise(resolve => setTimeout(resolve, 20))
  }
  throw new Error(`gave up waiting for ${what}`)
}

function nodeFixture (t: Test) {
  const root = mkdtempSync(join(tmpdir(), 'pfim-d-'))
  t.teardown(() => rmSync(root, { recursive: true, force: true }))
  const tree = makeTree(root)
  writeFileSync(join(root, 'aide.conf'), treeAideConf(tree))
  const config = { nodeName: 'n1', stateDir: join(root, 'state'), socketPath: join(root, 'run', 'agent.sock'), aide: { config: join(root, 'aide.conf'), gracePeriod: 3600, initialDelay: 3600 } }
  writeFileSync(join(root, 'agent.json'), JSON.stringify(config))
  return { root, tree, config, configFile: join(root, 'agent.json'), db: join(root, 'state', 'state.db') }
}

t.test('an invalid config stops the agent with exit 78 naming the key', async t => {
  const dir = t.testdir({ 'agent.json': JSON.stringify({ aide: { gracePeriod: 'soon' } }), 'typo.json': '{"stateDirr": "/x"}' })
  const bad = await collect(runAgent(['--config', join(dir, 'agent.json')]))
  t.equal(bad.code, 78)
  t.match(bad.stderr, 'config key "aide.gracePeriod" must be an integer >= 10')
  const typo = await collect(runAgent(['--config', join(dir, 'typo.json')]))
  t.equal(typo.code, 78)
  t.match(typo.stderr, 'unknown config key "stateDirr"')
  const missing = await collect(runAgent(['--config', join(dir, 'nope.json')]))
  t.equal(missing.code, 78)
  t.match(missing.stderr, 'cannot read config file')
})

t.test('a missing aide binary is a clear error at start, exit 69', async t => {
  const f = nodeFixture(t)
  writeFileSync(f.configFile, JSON.stringify({ ...f.config, aide: { ...f.config.aide, binary: '/nonexistent/aide' } }))
  const res = await collect(runAgent(['--config', f.configFile]))
  t.equal(res.code, 69)
  const fatal = res.stdout.split('\n').filter(Boolean).map(l => JSON.parse(l) as { level: number, code?: string, err?: { message: string } }).find(l => l.level === 60)
  t.equal(fatal?.code, 'PFIM_AIDE_MISSING')
  t.match(fatal?.err?.message, 'cannot run /nonexistent/aide: ENOENT')
})

t.test('--help and --version', async t => {
  const help = await collect(runAgent(['--help']))
  t.equal(help.code, 0)
  t.match(help.stdout, /Usage: podsec-fim-agent/)
  const version = await collect(runAgent(['--version']))
  t.equal(version.code, 0)
  t.equal(version.stdout, `${(JSON.parse(readFileSync('package.json', 'utf8')) as { version: string }).version}\n`)
  const usage = await collect(runAgent(['--bogus']))
  t.equal(usage.code, 64)
})

/**
 * kill -9 during a check, then a restart: the scan is Interrupted, the baseline intact, the next
 * check runs. An exact check's AIDE runs for minutes and outlives the agent, so the restart stops
 * it. A fast check's AIDE only walks the tree and dies on its closed pipe (or has already ended);
 * its hashing threads die with the agent.
 */
async function killDuringCheck (t: Test, mode: 'exact' | 'fast'): Promise<void> {
  const f = nodeFixture(t)
  writeFileSync(f.configFile, JSON.stringify({ ...f.config, aide: { ...f.config.aide, mode } }))
  const first = runAgent(['--config', f.configFile])
  t.teardown(() => { first.kill('SIGKILL') })
  await until('the first baseline', () => {
    try {
      const s = openStore(f.db, { readonly: true })
      try { return s.currentBaseline() } finally { s.close() }
    } catch { return null }
  })
  const baselineDigest = await digestFile(join(f.config.stateDir, 'aide', 'aide.db.gz'))
  // 64 GiB of holes: the digests take minutes, whoever computes them.
  truncateSync(join(f.tree, 'lib/data.txt'), 64 * 1024 ** 3)
  post(f.config.socketPath, '/v1/check').catch(() => undefined)
  const raw = new Database(f.db, { readonly: true })
  const running = await until('a running check with its AIDE pid', () =>
    raw.prepare("SELECT id, aide_pid FROM scans WHERE condition = 'Running' AND aide_pid IS NOT NULL").get() as { id: number, aide_pid: number } | undefined)
  raw.close()
  first.kill('SIGKILL')
  await once(first, 'exit')
  const isAlive = (): boolean => { try { process.kill(running.aide_pid, 0); return true } catch { return false } }
  if (mode === 'exact') t.ok(isAlive(), 'AIDE outlived the agent')
  else await until('the walking AIDE to end without the agent', () => !isAlive())

  const second = runAgent(['--config', f.configFile])
  t.teardown(() => { second.kill('SIGKILL') })
  let out = ''
  second.stdout?.on('data', (b: Buffer) => { out += b.toString() })
  // The killed agent left its socket file behind, so wait for the new agent to say it started.
  await until('the restarted agent', () => out.includes('"msg":"started"'))
  const store = openStore(f.db, { readonly: true })
  t.match(store.getScan(running.id), { condition: 'Interrupted', errorCode: 'PFIM_SCAN_INTERRUPTED' })
  await until('the orphan AIDE to exit', () => !isAlive())
  t.same(await digestFile(join(f.config.stateDir, 'aide', 'aide.db.gz')), baselineDigest, 'baseline database intact')
  truncateSync(join(f.tree, 'lib/data.txt'), 0)
  writeFileSync(join(f.tree, 'lib/data.txt'), TREE_FILES['lib/data.txt'] as string)
  const next = await post(f.config.socketPath, '/v1/check')
  t.match(next, { status: 200, body: { scan: { kind: 'check', condition: 'Succeeded' } } }, 'the next scan runs')
  second.kill('SIGTERM')
  t.equal((await once(second, 'exit'))[0], 0, 'SIGTERM stops the agent cleanly')
  store.close()
}

t.test('kill -9 during an exact check: restart marks it Interrupted, stops the orphan AIDE, keeps the baseline', async t => {
  await killDuringCheck(t, 'exact')
})

t.test('kill -9 during a fast check: its AIDE does not outlive the agent, restart marks it Interrupted', async t => {
  await killDuringCheck(t, 'fast')
})

t.test('the control socket is private and answers status, check and re-init', async t => {
  const a = await startAgent(t)
  await a.daemon.scanner.idle()
  t.equal(statSync(a.config.socketPath).mode & 0o777, 0o600)
  t.equal(statSync(join(a.config.socketPath, '..')).mode & 0o777, 0o700)
  t.match(a.daemon.status(), { node: 'node-a', baseline: { scanId: 1 }, running: null, lastScan: { kind: 'init', condition: 'Succeeded' }, lastCheck: null, totals: { scans: 1 } })
  writeFileSync(join(a.tree, 'etc/app.conf'), 'changed\n')
  t.match(await post(a.config.socketPath, '/v1/check'), { status: 200, body: { scan: { condition: 'Failed', changed: 1 } } })
  t.match(await post(a.config.socketPath, '/v1/reinit'), { status: 200, body: { scan: { kind: 'init', condition: 'Succeeded' } } })
  t.match(await post(a.config.socketPath, '/v1/status'), { status: 405, body: { error: { code: 'PFIM_CONTROL_FAILED' } } })
  t.match(await post(a.config.socketPath, '/v1/nope'), { status: 404 })
  t.match(a.daemon.status(), { lastCheck: { condition: 'Failed' }, totals: { scans: 3, failed: 1 } })
})

t.test('a second agent on the same state dir or socket is refused; the first keeps running', async t => {
  const a = await startAgent(t)
  const second = (config: typeof a.config) => startDaemon(config, { log: sinkLogger([]), now: Date.now, path: process.env.PATH ?? '', pid: 1 })
  await t.rejects(second(a.config), { code: 'PFIM_STORE_FAILED', message: /in use by another agent \(pid \d+\)/ })
  const otherState = parseConfig({ stateDir: join(a.root, 'other'), socketPath: a.config.socketPath }, {})
  await t.rejects(second(otherState), { code: 'PFIM_CONTROL_FAILED', message: /already listening/ })
  t.ok(existsSync(a.config.socketPath))
  t.match(await post(a.config.socketPath, '/v1/check'), { status: 200 }, 'the first agent still answers')
})

t.test('with watch.enabled the daemon runs the fast path: a change becomes an event scan within seconds, shown in status', async t => {
  const a = await startAgent(t, { overrides: { 'watch.enabled': true } })
  await a.daemon.scanner.idle()
  await until('the fast path watching the first baseline', () => a.daemon.status().watchers.find(w => w.name === 'fast-path' && (w.watches ?? 0) > 0))
  writeFileSync(join(a.tree, 'etc/app.conf'), 'changed\n')
  const scan = await until('an event scan', () => a.daemon.store.listScans({ limit: 5 }).find(s => s.trigger === 'event' && s.condition === 'Failed'))
  t.match(a.daemon.store.listEntries(scan.id), [{ change: 'changed', attributes: { sha512: {} } }])
  t.match(a.daemon.status().watchers.filter(w => w.name === 'fast-path'), [{ name: 'fast-path', running: true, budget: 4096, lastEventAt: String, overflows: 0 }])
})

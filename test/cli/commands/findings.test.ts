/**
 * `podsec-fim findings` end to end: a running agent follows the real kube-apiserver's audit log
 * (absent when the agent starts), and an ordinary user's 403s become findings, podsec forbidden.log
 * records and syslog lines; bursts collapse; a restart neither replays nor skips.
 */
import t from 'tap'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { request } from 'node:https'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startDaemon } from '../../../src/agent/daemon.js'
import { sinkLogger, startAgent } from '../../helpers/agent.js'
import { kubeFixture, type ClientCert, type Kube } from '../../helpers/kube.js'
import { syslogSocket } from '../../helpers/syslog-socket.js'
import { agentArgs, runCli } from '../run-cli.js'

// A cold test bed build runs inside kubeFixture.
t.setTimeout(45 * 60_000)

interface FindingJson { id: number, subject: string, count: number, message: string, details: { name: string, code: number, sourceIps: string[], verb: string, resource: string, auditId: string } }

function get (kube: Kube, user: ClientCert, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(`${kube.url}${path}`, { ca: readFileSync(kube.caFile), cert: readFileSync(user.certFile), key: readFileSync(user.keyFile) }, res => {
      res.resume()
      res.on('end', () => resolve(res.statusCode ?? 0))
    })
    req.on('error', reject)
    req.end()
  })
}

async function until<T> (what: string, probe: () => Promise<T | null | undefined | false>, timeoutMs = 60_000): Promise<T> {
  for (const end = Date.now() + timeoutMs; Date.now() < end; await new Promise(resolve => setTimeout(resolve, 100))) {
    const v = await probe()
    if (v !== null && v !== undefined && v !== false) return v
  }
  throw new Error(`timed out waiting for ${what}`)
}

t.test('an ordinary user\'s 403s on the real kube-apiserver', async t => {
  const root = mkdtempSync(join(tmpdir(), 'pfim-kf-'))
  t.teardown(() => rmSync(root, { recursive: true, force: true }))
  const sock = await syslogSocket(t, root)
  const auditLog = join(root, 'apiserver-audit', 'audit.log')
  const forbidden = join(root, 'kubeapi', 'forbidden.log')
  const agent = await startAgent(t, {
    overrides: { 'audit.path': auditLog, 'audit.forbiddenLog': forbidden, 'audit.burstSeconds': 5, 'syslog.enabled': true, 'syslog.socket': sock.path },
  })
  const args = agentArgs(agent.config)
  const findings = async (...extra: string[]): Promise<FindingJson[]> => {
    const r = await runCli([...args, 'findings', '--json', ...extra])
    if (r.exitCode !== 0) throw new Error(r.stderr)
    return (JSON.parse(r.stdout) as { findings: FindingJson[] }).findings
  }
  const forbiddenLines = (): string[] => readFileSync(forbidden, 'utf8').split('\n').filter(l => l !== '')

  const waiting = JSON.parse((await runCli([...args, '--json', 'status'])).stdout) as { watchers: Array<{ name: string, detail: string }> }
  t.match(waiting.watchers, [{ name: 'audit', detail: new RegExp(`^waiting for ${auditLog}`) }], 'no audit log yet')

  // The apiserver writes its audit log where the agent waits (pflag: the last --audit-log-path wins).
  const kube = await kubeFixture(t, { extraApiserverArgs: [`--audit-log-path=${auditLog}`] })
  const alice = await kube.makeClientCert('alice', [])

  await t.test('a denial: finding, forbidden.log record, syslog line', async t => {
    t.equal(await get(kube, alice, '/api/v1/namespaces/default/secrets/one'), 403)
    const [f] = await until('the finding', async () => { const l = await findings(); return l.length === 1 && l })
    t.match(f, {
      subject: 'alice', count: 1,
      message: 'secrets "one" is forbidden: User "alice" cannot get resource "secrets" in API group "" in the namespace "default"',
      details: { verb: 'get', resource: 'secrets', name: 'one', code: 403, sourceIps: ['127.0.0.1'] },
    })
    const [line] = forbiddenLines()
    t.match(JSON.parse(line as string), [/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z$/, '127.0.0.1', f?.message])
    const [sys] = await sock.until('the syslog line', l => l.length === 1)
    t.same(sys, { priority: 10, tag: 'podsec-inotify-check-kubeapi', pid: process.pid, message: `Critical: ${line as string}` }, 'podsec\'s line: the record after "Critical: "')

    const text = await runCli([...args, 'findings'])
    t.match(text.stdout, /^ID +LAST SEEN +KIND +SEVERITY +COUNT +SUBJECT +MESSAGE\n +\d+ +\d{4}-\S+Z +audit-denial +critical +1 +alice +secrets "one" is forbidden/)
    const status = await runCli([...args, 'status'])
    t.match(status.stdout, /^watcher audit: +running, last event \S+Z, watches 1, 0 overflows, 0 errors; following .*audit\.log \(inode \d+, offset \d+\); \d+ lines, 1 denials, 0 malformed$/m)
  })

  await t.test('a burst of identical denials is one finding with the count and one syslog summary', async t => {
    const codes = await Promise.all(Array.from({ length: 8 }, () => get(kube, alice, '/api/v1/namespaces/default/secrets/burst')))
    t.same(codes, Array(8).fill(403))
    const burst = await until('count 8', async () => (await findings()).find(f => f.details.name === 'burst' && f.count === 8))
    t.equal((await findings()).length, 2, 'one finding for the burst')
    t.equal(forbiddenLines().length, 9, 'forbidden.log keeps every request')
    const lines = await sock.until('the summary line', l => l.length === 3, 30_000)
    t.match(lines[1]?.message, /^Critical: \[.*secrets \\"burst\\" is forbidden.*\]$/)
    t.match(lines[2]?.message, /^Critical: \[.*secrets \\"burst\\" is forbidden.*\] and 7 more identical denials until \S+Z$/)
    t.equal(burst.count, 8)
  })

  await t.test('a restart neither replays nor skips', async t => {
    await agent.daemon.close()
    for (const name of ['r1', 'r2', 'r3']) t.equal(await get(kube, alice, `/api/v1/namespaces/default/secrets/${name}`), 403)
    const again = await startDaemon(agent.config, { log: sinkLogger([]), now: Date.now, path: process.env.PATH ?? '/usr/bin:/bin', pid: process.pid })
    t.teardown(() => again.close())
    t.equal(await get(kube, alice, '/api/v1/namespaces/default/secrets/r4'), 403)
    const all = await until('r4', async () => { const l = await findings(); return l.some(f => f.details.name === 'r4') && l })
    t.same(all.map(f => f.details.name), ['r4', 'r3', 'r2', 'r1', 'burst', 'one'], 'each denial once, none lost')
    t.same(all.map(f => f.count), [1, 1, 1, 1, 8, 1])
    t.equal(new Set(all.map(f => f.details.auditId)).size, 6)
    t.equal(forbiddenLines().length, 13, 'forbidden.log: 1 + 8 + 4 records')
    const byKind = await findings('--kind', 'audit-denial', '--since', '1h', '--limit', '2')
    t.same(byKind.map(f => f.details.name), ['r4', 'r3'])
  })
})

t.test('usage: bad --kind, --since, --limit are usage errors (64); no state database is 66', async t => {
  for (const [flag, value, text] of [['--kind', 'bogus', '--kind must be one of audit-denial'], ['--since', 'yesterday', '--since must be an ISO-8601 time'], ['--since', '5x', '--since must be'], ['--limit', '0', '--limit must be a positive integer']]) {
    const r = await runCli(['--state-dir', '/nonexistent', 'findings', flag as string, value as string])
    t.equal(r.exitCode, 64, `${flag} ${value}`)
    t.match(r.stderr, text as string)
  }
  const dir = t.testdir()
  const r = await runCli(['--state-dir', join(dir, 'state'), 'findings'])
  t.equal(r.exitCode, 66)
  t.match(r.stderr, 'no state database')
})

t.test('help shows an example and the exit codes', async t => {
  const r = await runCli(['findings', '--help'])
  t.equal(r.exitCode, 0)
  t.match(r.stdout, 'Example:\n  nsenter_u7s podsec-fim findings --kind audit-denial --since 1h')
  t.match(r.stdout, /Exit codes:\n +0 +listed/)
})

t.test('an agent with no findings: "no findings", and [] in JSON', async t => {
  const agent = await startAgent(t)
  const args = agentArgs(agent.config)
  t.equal((await runCli([...args, 'findings'])).stdout, 'no findings\n')
  t.same(JSON.parse((await runCli([...args, 'findings', '--json'])).stdout), { findings: [] })
  const since = await runCli([...args, '--json', 'findings', '--since', '2026-01-01T00:00:00Z'])
  t.equal(since.exitCode, 0, since.stderr)
})

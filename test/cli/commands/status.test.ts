/** `podsec-fim status`: from the socket when the agent runs, from the state database when it does not. */
import t from 'tap'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { VERSION } from '../../../src/core/version.js'
import { startAgent } from '../../helpers/agent.js'
import { agentArgs, runCli } from '../run-cli.js'
import { realSleep } from '../../../src/agent/backoff.js'
import { makePki, protocolStubServer } from '../../helpers/protocol-stub.js'
import { until } from '../../helpers/until.js'

t.test('with the agent running', async t => {
  const agent = await startAgent(t)
  await agent.daemon.scanner.idle()
  const args = agentArgs(agent.config)

  t.test('--json: the agent\'s own view, one document', async t => {
    const r = await runCli([...args, '--json', 'status'])
    t.equal(r.exitCode, 0, r.stderr)
    const s = JSON.parse(r.stdout) as Record<string, unknown>
    t.match(s, {
      isAgentRunning: true, node: 'node-a', agentVersion: VERSION, cliVersion: VERSION, aideVersion: /AIDE|0\.1[6-9]/,
      pid: process.pid, stateDir: agent.config.stateDir, socket: agent.config.socketPath,
      baseline: { scanId: 1, sha256: /^[0-9a-f]{64}$/ }, running: null,
      lastScan: { id: 1, kind: 'init', condition: 'Succeeded' }, lastCheck: null,
      nextCheckAt: /^\d{4}-\d\d-\d\dT/, totals: { scans: 1, failed: 0 }, problems: [],
    })
  })

  t.test('text: aligned "key: value" lines with the last check and its counts', async t => {
    await runCli([...args, 'check'])
    const r = await runCli([...args, 'status'])
    t.equal(r.exitCode, 0, r.stderr)
    t.match(r.stdout, /^agent: +running, pid \d+, since \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/m)
    t.match(r.stdout, /^node: +node-a$/m)
    t.match(r.stdout, new RegExp(`^versions: +agent ${VERSION}, cli ${VERSION}, `, 'm'))
    t.match(r.stdout, /^baseline: +scan 1, \S+Z, \d+ bytes, sha256 [0-9a-f]{16}\.\.\.$/m)
    t.match(r.stdout, /^last check: +check 2 \(manual\) Succeeded: \+0 ~0 -0, 0 unverified, \S+Z$/m)
    t.match(r.stdout, /^next check: +\S+Z$/m)
    const values = r.stdout.trimEnd().split('\n').map(l => l.search(/(?<=: +)\S/))
    t.equal(new Set(values).size, 1, 'values start in one column')
  })
})

t.test('with the agent stopped, it says so and shows what the state database holds (exit 3)', async t => {
  const agent = await startAgent(t)
  await agent.daemon.scanner.idle()
  await agent.daemon.close()
  const args = agentArgs(agent.config)
  const r = await runCli([...args, 'status'])
  t.equal(r.exitCode, 3)
  t.match(r.stdout, /^agent: +not running$/m)
  t.match(r.stdout, /^baseline: +scan 1, /m)
  t.match(r.stdout, /^last scan: +init 1 \(startup\) Succeeded/m)
  t.match(r.stdout, `no podsec-fim agent is listening on ${agent.config.socketPath}`)
  const json = JSON.parse((await runCli([...args, '--json', 'status'])).stdout) as Record<string, unknown>
  t.match(json, { isAgentRunning: false, node: null, baseline: { scanId: 1 }, lastScan: { id: 1 }, totals: { scans: 1 } })
})

t.test('with no agent and no state database, both reasons are shown (exit 3)', async t => {
  const root = mkdtempSync(join(tmpdir(), 'pfim-cli-'))
  t.teardown(() => rmSync(root, { recursive: true, force: true }))
  const r = await runCli(['--state-dir', join(root, 'state'), '--socket', join(root, 'agent.sock'), 'status'])
  t.equal(r.exitCode, 3)
  t.match(r.stdout, /^agent: +not running$/m)
  t.match(r.stdout, /^baseline: +none$/m)
  t.match(r.stdout, `no state database at ${join(root, 'state', 'state.db')}`)
})

t.test('with an aggregator: connected, last ack, backlog and its age, last error, directive, holdoff', async t => {
  // protocolStubServer stands in for podsec-fim-aggregator (written in a parallel branch) in this unit test.
  const pki = await makePki(t.testdir())
  const stub = await protocolStubServer(t, { pki })
  const client = await pki.client('system:node:node-a')
  const agent = await startAgent(t, {
    overrides: { 'aggregator.url': stub.url, 'aggregator.caFile': pki.caFile, 'aggregator.certFile': client.certFile, 'aggregator.keyFile': client.keyFile, 'aggregator.pollSeconds': 2 },
    deps: { aggregatorRetry: { backoff: { baseMs: 10, maxMs: 50, random: () => 0.5 }, sleep: realSleep } },
  })
  await agent.daemon.scanner.idle()
  await until('delivered', () => agent.daemon.reporting?.view().backlog === 0 && stub.applied.length >= 2)
  const args = agentArgs(agent.config)
  const ok = JSON.parse((await runCli([...args, '--json', 'status'])).stdout) as Record<string, unknown>
  const lastSeq = stub.applied.at(-1)?.seq
  t.match(ok, { aggregator: { url: stub.url, isConnected: true, lastAckSeq: lastSeq, lastAckAt: /Z$/, backlog: 0, oldestAt: null, lastError: null, directiveVersion: null, isHeld: false } })

  stub.failReports.push(...Array<number>(100_000).fill(503))
  stub.setDirective({ version: 'v7', fileIntegrity: null, debug: false, aideConfig: null, holdoff: true, reinitToken: null })
  await until('held', () => agent.daemon.status().aggregator?.isHeld)
  await runCli([...args, 'reinit'])
  await until('a failed delivery', () => agent.daemon.status().aggregator?.lastError)
  const r = await runCli([...args, 'status'])
  t.equal(r.exitCode, 0, r.stderr)
  t.match(r.stdout, new RegExp(`^aggregator: +${stub.url.replace(/[.]/g, '\\.')}, not connected$`, 'm'))
  t.match(r.stdout, new RegExp(`^last ack: +seq ${String(lastSeq)}, \\S+Z$`, 'm'))
  t.match(r.stdout, /^backlog: +[1-9]\d* reports, oldest \d+ s old$/m)
  t.match(r.stdout, /^last error: +\S+Z POST https:\/\/127\.0\.0\.1:\d+\/v1\/reports answered 503/m)
  t.match(r.stdout, /^directive: +v7$/m)
  t.match(r.stdout, /^holding: +yes: checks are held off by the cluster/m)
  const check = await runCli([...args, 'check'])
  t.equal(check.exitCode, 3, 'a held check could not run')
  t.match(check.stderr, /held off by the cluster.*\(PFIM_AGENT_HELD\)/)
  const json = JSON.parse((await runCli([...args, '--json', 'status'])).stdout) as { aggregator: { backlog: number } }
  t.ok(json.aggregator.backlog >= 1)
})

t.test('a standalone agent says so', async t => {
  const agent = await startAgent(t)
  const r = await runCli([...agentArgs(agent.config), 'status'])
  t.match(r.stdout, /^aggregator: +none \(standalone\)$/m)
})

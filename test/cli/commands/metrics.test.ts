/** `podsec-fim metrics` against a real agent (real AIDE, SQLite, unix socket), and without one. */
import t from 'tap'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { startAgent } from '../../helpers/agent.js'
import { parseExposition, sampleValue } from '../../helpers/exposition.js'
import { agentArgs, runCli } from '../run-cli.js'

t.test('prints the exposition after a baseline and a failed check; --json the same families', async t => {
  const agent = await startAgent(t)
  await agent.daemon.scanner.idle()
  writeFileSync(join(agent.tree, 'lib/data.txt'), 'tampered\n')
  t.equal((await runCli([...agentArgs(agent.config), 'check'])).exitCode, 1)
  const r = await runCli([...agentArgs(agent.config), 'metrics'])
  t.equal(r.exitCode, 0, r.stderr)
  t.equal(r.stderr, '')
  const m = parseExposition(r.stdout)
  t.equal(sampleValue(m, 'podsec_fim_agent_scans_total', { kind: 'init', condition: 'Succeeded' }), 1)
  t.equal(sampleValue(m, 'podsec_fim_agent_scans_total', { kind: 'check', condition: 'Failed' }), 1)
  t.equal(sampleValue(m, 'podsec_fim_agent_last_check_files', { change: 'changed' }), 1)
  const json = await runCli([...agentArgs(agent.config), '--json', 'metrics'])
  t.equal(json.exitCode, 0, json.stderr)
  const { metrics } = JSON.parse(json.stdout) as { metrics: Array<{ name: string, series: Array<{ labels: Record<string, string>, value: number }> }> }
  const scans = metrics.find(f => f.name === 'podsec_fim_agent_scans_total')
  t.same(scans?.series.find(s => s.labels.kind === 'check' && s.labels.condition === 'Failed')?.value, 1)
  t.same(metrics.map(f => f.name), [...m.keys()], 'the JSON has the families of the exposition, in its order')
})

t.test('with no agent listening: exit 69 and the reason, as JSON with --json', async t => {
  const agent = await startAgent(t)
  await agent.daemon.scanner.idle()
  await agent.daemon.close()
  const r = await runCli([...agentArgs(agent.config), 'metrics'])
  t.equal(r.exitCode, 69)
  t.equal(r.stdout, '')
  t.match(r.stderr, `no podsec-fim agent is listening on ${agent.config.socketPath}`)
  const json = await runCli([...agentArgs(agent.config), '--json', 'metrics'])
  t.equal(json.exitCode, 69)
  t.match(JSON.parse(json.stdout), { error: { code: 'PFIM_AGENT_UNREACHABLE' } })
})

t.test('--help shows an example and the exit codes', async t => {
  const r = await runCli(['metrics', '--help'])
  t.equal(r.exitCode, 0)
  t.match(r.stdout, 'Example:\n  nsenter_u7s podsec-fim metrics')
  t.match(r.stdout, /69 +no agent listening/)
})

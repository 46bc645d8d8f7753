/** `podsec-fim check` against a real agent (real AIDE, SQLite, unix socket), and without one. */
import t from 'tap'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { startAgent } from '../../helpers/agent.js'
import { agentArgs, runCli } from '../run-cli.js'

t.test('a check with no changes succeeds: exit 0, progress on stderr, the result on stdout', async t => {
  const agent = await startAgent(t)
  await agent.daemon.scanner.idle()
  const r = await runCli([...agentArgs(agent.config), 'check'])
  t.equal(r.exitCode, 0, r.stderr)
  t.match(r.stderr, /^running check\.\.\.\n/)
  t.match(r.stdout, /^condition: +Succeeded$/m)
  t.match(r.stdout, /^changes: +\+0 ~0 -0/m)
})

t.test('a check after a file changed fails: exit 1, and scan <id> --json names the file', async t => {
  const agent = await startAgent(t)
  await agent.daemon.scanner.idle()
  writeFileSync(join(agent.tree, 'etc/app.conf'), 'listen = 0.0.0.0\n')
  const r = await runCli([...agentArgs(agent.config), '--json', 'check'])
  t.equal(r.exitCode, 1, r.stderr)
  const { scan } = JSON.parse(r.stdout) as { scan: { id: number, condition: string, changed: number } }
  t.match(scan, { condition: 'Failed', changed: 1 })
  const detail = await runCli([...agentArgs(agent.config), 'scan', String(scan.id), '--json'])
  t.equal(detail.exitCode, 0, detail.stderr)
  const { entries } = JSON.parse(detail.stdout) as { entries: Array<{ path: string, change: string, attributes: Record<string, unknown> }> }
  const entry = entries.find(e => e.path === join(agent.tree, 'etc/app.conf'))
  t.ok(entry, 'the changed file is listed')
  t.equal(entry?.change, 'changed')
  t.ok(entry?.attributes.sha512, 'its checksum change is shown')
})

t.test('an Errored check exits 2', async t => {
  const agent = await startAgent(t)
  await agent.daemon.scanner.idle()
  // A baseline replaced outside the agent is an integrity failure the agent reports as Errored.
  writeFileSync(agent.daemon.scanner.paths.database, '')
  const r = await runCli([...agentArgs(agent.config), 'check'])
  t.equal(r.exitCode, 2, r.stdout)
  t.match(r.stdout, /^condition: +Errored$/m)
  t.match(r.stdout, /^error: +\S/m)
})

t.test('with no agent listening, check says so plainly and exits 3', async t => {
  const agent = await startAgent(t)
  await agent.daemon.scanner.idle()
  await agent.daemon.close()
  const r = await runCli([...agentArgs(agent.config), 'check'])
  t.equal(r.exitCode, 3)
  t.equal(r.stdout, '')
  t.match(r.stderr, `no podsec-fim agent is listening on ${agent.config.socketPath} (is podsec-fim-agent running? start it with systemctl --user start podsec-fim-agent)`)
  const json = await runCli([...agentArgs(agent.config), '--json', 'check'])
  t.equal(json.exitCode, 3)
  t.match(JSON.parse(json.stdout), { error: { code: 'PFIM_AGENT_UNREACHABLE' } }, '--json still prints one document')
})

t.test('a bad config makes check exit 3 too (it could not run), naming the key', async t => {
  const dir = t.testdir({ 'agent.json': JSON.stringify({ aide: { gracePeriod: 'often' } }) })
  const r = await runCli(['--config', join(dir, 'agent.json'), 'check'])
  t.equal(r.exitCode, 3)
  t.match(r.stderr, 'aide.gracePeriod')
})

/** `podsec-fim log <id>`: AIDE's text log, the stored bytes exactly. */
import t from 'tap'
import { writeFileSync } from 'node:fs'
import { startAgent } from '../../helpers/agent.js'
import { agentArgs, runCli } from '../run-cli.js'

t.test('prints the stored log byte for byte, also with invalid UTF-8 in it, and with the agent stopped', async t => {
  const agent = await startAgent(t)
  await agent.daemon.scanner.idle()
  const args = agentArgs(agent.config)
  writeFileSync(Buffer.from(`${agent.tree}/caf\xe9`, 'latin1'), 'x')
  const check = await runCli([...args, '--json', 'check'])
  t.equal(check.exitCode, 1, check.stderr)
  const id = (JSON.parse(check.stdout) as { scan: { id: number } }).scan.id
  const stored = agent.daemon.store.getLog(id)
  t.ok(stored !== null && stored.includes(Buffer.from('caf\xe9', 'latin1')), 'the stored log holds the raw byte')

  const r = await runCli([...args, 'log', String(id)])
  t.equal(r.exitCode, 0, r.stderr)
  t.same(r.stdoutBytes, stored, 'stdout is exactly the stored bytes')

  const json = JSON.parse((await runCli([...args, '--json', 'log', String(id)])).stdout) as { id: number, log: string | null, logBase64: string }
  t.equal(json.id, id)
  t.same(Buffer.from(json.logBase64, 'base64'), stored)
  t.equal(json.log, null, 'not valid UTF-8: no lossy text, only base64')
  const init = JSON.parse((await runCli([...args, '--json', 'log', '1'])).stdout) as { log: string | null }
  t.match(init.log, /AIDE successfully initialized database/, 'a valid UTF-8 log is given as text too')

  await agent.daemon.close()
  t.same((await runCli([...args, 'log', String(id)])).stdoutBytes, stored, 'read from SQLite without the agent')
})

t.test('no such scan, or a log pruned by retention: a message and exit 66', async t => {
  const agent = await startAgent(t, { overrides: { 'retention.maxScans': 1 } })
  await agent.daemon.scanner.idle()
  const args = agentArgs(agent.config)
  const missing = await runCli([...args, 'log', '42'])
  t.equal(missing.exitCode, 66)
  t.equal(missing.stdout, '')
  t.match(missing.stderr, 'no scan with id 42')
  await runCli([...args, 'check'])
  const pruned = await runCli([...args, 'log', '1'])
  t.equal(pruned.exitCode, 66)
  t.equal(pruned.stdout, '')
  t.match(pruned.stderr, 'scan 1 has no AIDE log: its details were pruned by retention')
})

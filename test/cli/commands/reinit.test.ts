/** `podsec-fim reinit`: a new baseline on request; exit 0 only when it Succeeded. */
import t from 'tap'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { startAgent } from '../../helpers/agent.js'
import { agentArgs, runCli } from '../run-cli.js'

t.test('reinit accepts the current files: a later check succeeds again', async t => {
  const agent = await startAgent(t)
  await agent.daemon.scanner.idle()
  const args = agentArgs(agent.config)
  writeFileSync(join(agent.tree, 'etc/app.conf'), 'listen = 0.0.0.0\n')
  t.equal((await runCli([...args, 'check'])).exitCode, 1)
  const r = await runCli([...args, 'reinit'])
  t.equal(r.exitCode, 0, r.stderr)
  t.match(r.stderr, /^running reinit\.\.\.$/m)
  t.match(r.stdout, /^scan: +3 init \(manual\)$/m)
  t.match(r.stdout, /^condition: +Succeeded$/m)
  t.equal((await runCli([...args, 'check'])).exitCode, 0)
  const json = JSON.parse((await runCli([...args, '--json', 'reinit'])).stdout) as { scan: unknown }
  t.match(json, { scan: { id: 5, kind: 'init', condition: 'Succeeded' } })
})

t.test('a reinit AIDE refuses exits 2 and carries AIDE\'s message', async t => {
  const agent = await startAgent(t)
  await agent.daemon.scanner.idle()
  writeFileSync(agent.config.aide.config ?? '', 'this is not an aide rule\n')
  const r = await runCli([...agentArgs(agent.config), 'reinit'])
  t.equal(r.exitCode, 2)
  t.match(r.stdout, /^condition: +Errored$/m)
  t.match(r.stdout, /^error: +Error initializing the AIDE DB: /m)
})

t.test('no agent listening: the plain message and exit 69', async t => {
  const agent = await startAgent(t)
  await agent.daemon.scanner.idle()
  await agent.daemon.close()
  const r = await runCli([...agentArgs(agent.config), 'reinit'])
  t.equal(r.exitCode, 69)
  t.match(r.stderr, `no podsec-fim agent is listening on ${agent.config.socketPath} (is podsec-fim-agent running? start it with systemctl --user start podsec-fim-agent)`)
})

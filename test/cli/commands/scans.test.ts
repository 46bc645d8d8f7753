/** `podsec-fim scans`: the history table, paging, and reading SQLite while the agent is stopped. */
import t from 'tap'
import { join } from 'node:path'
import { startAgent } from '../../helpers/agent.js'
import { agentArgs, runCli } from '../run-cli.js'

t.test('lists scans newest first, pages with --limit/--before, works with the agent stopped', async t => {
  const agent = await startAgent(t)
  await agent.daemon.scanner.idle()
  const args = agentArgs(agent.config)
  t.equal((await runCli([...args, 'check'])).exitCode, 0)
  t.equal((await runCli([...args, 'check'])).exitCode, 0)

  const r = await runCli([...args, 'scans'])
  t.equal(r.exitCode, 0, r.stderr)
  const lines = r.stdout.trimEnd().split('\n')
  t.match(lines[0], /^ID +KIND +TRIGGER +STARTED +DURATION +CONDITION +CHANGES +UNVERIFIED$/)
  t.match(lines[1], /^ 3 +check +manual +\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ +\d+\.\ds +Succeeded +\+0 ~0 -0 +0$/)
  t.match(lines[3], /^ 1 +init +startup +/)
  t.equal(lines.length, 4)
  t.equal(new Set(lines.map(l => l.indexOf('KIND') >= 0 ? l.indexOf('KIND') : l.search(/(init|check) /))).size, 1, 'columns are aligned')

  const page = await runCli([...args, 'scans', '--limit', '2'])
  t.same(page.stdout.trimEnd().split('\n').slice(1).map(l => l.trim().split(/ +/)[0]), ['3', '2'])
  t.match(page.stderr, 'podsec-fim scans --before 2', 'says how to get the next page')
  const next = await runCli([...args, '--json', 'scans', '--before', '2'])
  t.match(JSON.parse(next.stdout), { scans: [{ id: 1, kind: 'init', trigger: 'startup', condition: 'Succeeded', startedAt: /Z$/ }] })

  await agent.daemon.close()
  const stopped = await runCli([...args, '--json', 'scans'])
  t.equal(stopped.exitCode, 0, 'reads the state database without the agent')
  t.same((JSON.parse(stopped.stdout) as { scans: Array<{ id: number }> }).scans.map(s => s.id), [3, 2, 1])
})

t.test('no state database: a clear message and exit 66', async t => {
  const dir = t.testdir()
  const r = await runCli(['--state-dir', join(dir, 'state'), 'scans'])
  t.equal(r.exitCode, 66)
  t.equal(r.stdout, '')
  t.match(r.stderr, `podsec-fim: no state database at ${join(dir, 'state', 'state.db')}`)
})

t.test('a bad --limit is a usage error (64)', async t => {
  for (const bad of ['0', '-3', 'ten', '1.5']) {
    const r = await runCli(['--state-dir', '/nonexistent', 'scans', '--limit', bad])
    t.equal(r.exitCode, 64, bad)
    t.match(r.stderr, '--limit must be a positive integer')
  }
})

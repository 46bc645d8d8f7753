/** `podsec-fim crontab install|remove` with the shipped crontabs/podsec-fim. */
import t from 'tap'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { SHIPPED_CRONTAB } from '../../../src/cli/commands/crontab.js'
import { runCli } from '../run-cli.js'

const SHIPPED = readFileSync(SHIPPED_CRONTAB, 'utf8')

t.test('the shipped lines: one CLI call each, every 10 minutes and daily, as u7s-admin outside the namespace', async t => {
  const jobs = SHIPPED.split('\n').filter(l => l !== '' && !l.startsWith('#'))
  t.same(jobs, [
    '*/10 * * * * machinectl -q shell u7s-admin@ /usr/bin/podsec-fim report --mail --quiet </dev/null',
    '17 6 * * * machinectl -q shell u7s-admin@ /usr/bin/podsec-fim report --digest --mail --quiet </dev/null',
  ])
  t.notMatch(SHIPPED, '%', 'cron would turn % into a newline')
})

t.test('install twice, then remove: idempotent, other lines kept', async t => {
  const spool = join(t.testdir(), 'root')
  writeFileSync(spool, '0 3 * * * /usr/local/bin/backup\n')
  const first = await runCli(['crontab', 'install', '--spool', spool])
  t.equal(first.exitCode, 0, first.stderr)
  t.match(first.stdout, `${spool}: added 5 lines:`)
  t.equal(readFileSync(spool, 'utf8'), `0 3 * * * /usr/local/bin/backup\n${SHIPPED}`)
  const second = await runCli(['--json', 'crontab', 'install', '--spool', spool])
  t.same(JSON.parse(second.stdout), { action: 'install', crontab: spool, changed: false, lines: [] })
  const removed = await runCli(['crontab', 'remove', '--spool', spool])
  t.equal(removed.exitCode, 0)
  t.equal(readFileSync(spool, 'utf8'), '0 3 * * * /usr/local/bin/backup\n')
  const again = await runCli(['crontab', 'remove', '--spool', spool])
  t.match(again.stderr, 'no podsec-fim lines to remove')
})

t.test('usage and failures: a bad action is 64, an unwritable crontab 73', async t => {
  const bad = await runCli(['crontab', 'enable'])
  t.equal(bad.exitCode, 64)
  t.match(bad.stderr, 'the action must be install or remove')
  const dir = t.testdir()
  const r = await runCli(['crontab', 'install', '--spool', join(dir, 'missing-dir', 'root')])
  t.equal(r.exitCode, 73)
  t.match(r.stderr, 'PFIM_CRONTAB_FAILED')
  const noLines = await runCli(['crontab', 'install', '--spool', join(dir, 'root'), '--lines', join(dir, 'none')])
  t.equal(noLines.exitCode, 73)
  t.match(noLines.stderr, `cannot read the crontab lines ${join(dir, 'none')}: ENOENT`)
})

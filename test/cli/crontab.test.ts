/** Our lines in a crontab: appended when absent, removed exactly, everything else left alone. */
import t from 'tap'
import { execFileSync } from 'node:child_process'
import { statSync, writeFileSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { applyCrontab, crontabProgram, ourLines, spoolFile, withOurLines, withoutOurLines } from '../../src/cli/crontab.js'
import { MAIL_USER, requireMta } from '../helpers/mail.js'

requireMta()

const OURS = ourLines('# podsec-fim\n*/10 * * * * podsec-fim report --mail --quiet\n\n17 6 * * * podsec-fim report --digest --mail --quiet  \n')
const OTHER = 'MAILTO=admin@example.org\n# backups\n0 3 * * * /usr/local/bin/backup\n'

t.test('ourLines keeps comments, drops blank lines and trailing blanks', async t => {
  t.same(OURS, ['# podsec-fim', '*/10 * * * * podsec-fim report --mail --quiet', '17 6 * * * podsec-fim report --digest --mail --quiet'])
})

t.test('install appends only what is missing; remove takes out exactly ours', async t => {
  const installed = withOurLines(OTHER, OURS)
  t.equal(installed.text, OTHER + OURS.join('\n') + '\n')
  t.same(installed.lines, OURS)
  t.same(withOurLines(installed.text, OURS).lines, [], 'idempotent')
  const partial = withOurLines(`${OURS[1]}\n0 3 * * * x`, OURS)
  t.same(partial.lines, [OURS[0], OURS[2]])
  t.equal(partial.text, `${OURS[1]}\n0 3 * * * x\n${OURS[0]}\n${OURS[2]}\n`, 'a file without a final newline gets one')
  const removed = withoutOurLines(installed.text, OURS)
  t.equal(removed.text, OTHER)
  t.same(removed.lines, OURS)
  t.same(withoutOurLines(OTHER, OURS), { text: OTHER, lines: [] })
  t.equal(withoutOurLines(`${OURS.join('\n')}\n`, OURS).text, '')
  const edited = withoutOurLines(`*/5 * * * * podsec-fim report --mail --quiet\n${OURS[1]}\n`, OURS)
  t.equal(edited.text, '*/5 * * * * podsec-fim report --mail --quiet\n', 'a line the admin changed is the admin\'s')
})

t.test('spool file: created 0600, replaced whole, absent means empty', async t => {
  const file = join(t.testdir(), 'root')
  const io = spoolFile(file)
  t.equal(await io.read(), '')
  t.same((await applyCrontab(io, OURS, 'install')).lines, OURS)
  t.equal(statSync(file).mode & 0o777, 0o600)
  writeFileSync(file, OTHER + readFileSync(file, 'utf8'))
  t.same((await applyCrontab(io, OURS, 'install')).lines, [])
  t.same((await applyCrontab(io, OURS, 'remove')).lines, OURS)
  t.equal(readFileSync(file, 'utf8'), OTHER)
  await t.rejects(spoolFile(join(file, 'not-a-dir', 'x')).write('x\n'), { code: 'PFIM_CRONTAB_FAILED' })
})

t.test('crontab(1) of a test user: crontab -l / crontab -, no crontab yet means empty', async t => {
  const io = crontabProgram('crontab', MAIL_USER)
  const cleanup = (): void => {
    try { execFileSync('crontab', ['-u', MAIL_USER, '-r'], { stdio: 'ignore' }) } catch { /* had none */ }
  }
  cleanup()
  t.teardown(cleanup)
  t.equal(await io.read(), '')
  await io.write(OTHER)
  t.same((await applyCrontab(io, OURS, 'install')).lines, OURS)
  t.equal(execFileSync('crontab', ['-u', MAIL_USER, '-l'], { encoding: 'utf8' }), OTHER + OURS.join('\n') + '\n')
  t.same((await applyCrontab(io, OURS, 'install')).lines, [], 'idempotent')
  t.same((await applyCrontab(io, OURS, 'remove')).lines, OURS)
  t.equal(await io.read(), OTHER)
  await t.rejects(io.write('this is not a crontab line\n'), { code: 'PFIM_CRONTAB_FAILED', message: /crontab -u pfim-mail - exited with 1/ })
  await t.rejects(crontabProgram('/nonexistent/crontab', null).read(), { code: 'PFIM_CRONTAB_FAILED', message: /cannot run \/nonexistent\/crontab/ })
})

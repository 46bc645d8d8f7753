/**
 * `podsec-fim report` end to end: a real agent (real AIDE, real SQLite), the real local MTA
 * (exim's /usr/sbin/sendmail delivering to /var/mail/pfim-mail), the cursor in the real state
 * database. Each test uses a node name of its own, so its mail is told apart from earlier runs'.
 */
import t, { type Test } from 'tap'
import { spawn } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { startAgent, type AgentFixture } from '../../helpers/agent.js'
import { denial, insertDenial } from '../../helpers/findings.js'
import { delivered, MAIL_USER, requireMta, SENDMAIL, uniqueMarker, waitForMail } from '../../helpers/mail.js'
import { holdWriteLock } from '../../helpers/write-lock.js'
import { agentArgs, runCli } from '../run-cli.js'

requireMta()

interface Setup {
  readonly agent: AgentFixture
  readonly node: string
  readonly args: (mail?: Record<string, unknown>) => string[]
}

async function setup (t: Test): Promise<Setup> {
  const agent = await startAgent(t)
  await agent.daemon.scanner.idle()
  const node = uniqueMarker('node')
  const args = (mail: Record<string, unknown> = {}): string[] => {
    const file = join(agent.root, `config-${uniqueMarker('c')}.json`)
    writeFileSync(file, JSON.stringify({ nodeName: node, mail: { to: MAIL_USER, sendmail: SENDMAIL, ...mail } }))
    return ['--config', file, ...agentArgs(agent.config)]
  }
  return { agent, node, args }
}

async function failCheck (s: Setup, file: string, content: string): Promise<void> {
  writeFileSync(join(s.agent.tree, file), content)
  const r = await runCli([...s.args(), 'check'])
  if (r.exitCode !== 1) throw new Error(`check should fail: ${r.exitCode} ${r.stderr}`)
}

t.test('preview: nothing new, then the failure and the denials; printing never moves the cursor', async t => {
  const s = await setup(t)
  const empty = await runCli([...s.args(), 'report'])
  t.equal(empty.exitCode, 0)
  t.equal(empty.stdout, '')
  t.match(empty.stderr, 'nothing new since the last mailed report')

  await failCheck(s, 'etc/app.conf', 'listen = 0.0.0.0\n')
  insertDenial(s.agent.daemon.store.db, denial(), 3)
  insertDenial(s.agent.daemon.store.db, denial({ user: 'alice', verb: 'create', resource: 'pods', subresource: 'exec', name: 'web-0', namespace: 'prod', userAgent: 'kubectl/v1.30.2 (linux/amd64)' }))
  for (let i = 0; i < 2; i++) {
    const r = await runCli([...s.args(), 'report'])
    t.equal(r.exitCode, 0, r.stderr)
    const lines = r.stdout.split('\n')
    t.equal(lines[0], `Subject: podsec-fim: ${s.node}: 1 integrity failure, 4 denied API requests`)
    t.match(r.stdout, `changed  ${join(s.agent.tree, 'etc/app.conf')}`)
    t.match(r.stdout, 'Detected requests to the kubernetes cluster with excess authority')
    t.match(r.stdout, /2026-11-23T10:00:00Z {2}403 {2}system:anonymous {2}\(x3, last /)
    t.match(r.stdout, '  create pods/exec (prod/web-0)\n  from 192.168.122.1\n  user agent: kubectl/v1.30.2 (linux/amd64)')
  }
  const json = JSON.parse((await runCli([...s.args(), '--json', 'report'])).stdout) as { report: { failures: Array<{ files: Array<{ path: string }> }>, findings: unknown[], next: { scanId: number } }, mail: null }
  t.equal(json.mail, null)
  t.same(json.report.failures[0]?.files.map(f => f.path), [join(s.agent.tree, 'etc/app.conf')])
  t.equal(json.report.findings.length, 2)
  t.equal(json.report.next.scanId, 2)
})

t.test('--mail delivers through sendmail once; the next run finds nothing new and sends nothing', async t => {
  const s = await setup(t)
  await failCheck(s, 'etc/app.conf', 'listen = 0.0.0.0\n')
  insertDenial(s.agent.daemon.store.db, denial())
  const sent = await runCli([...s.args(), 'report', '--mail'])
  t.equal(sent.exitCode, 0, sent.stderr)
  t.match(sent.stderr, `mailed to ${MAIL_USER} via sendmail ${SENDMAIL}: podsec-fim: ${s.node}: 1 integrity failure, 1 denied API request`)
  const [mail] = await waitForMail(s.node)
  t.equal(mail?.headers.get('subject'), `podsec-fim: ${s.node}: 1 integrity failure, 1 denied API request`)
  t.match(mail?.headers.get('to'), MAIL_USER)
  t.equal(mail?.headers.get('from'), `podsec-fim@${s.node}`)
  t.equal(mail?.headers.get('auto-submitted'), 'auto-generated')
  t.match(mail?.body, `changed  ${join(s.agent.tree, 'etc/app.conf')}`)
  t.match(mail?.body, 'Detected requests to the kubernetes cluster with excess authority')

  const again = await runCli([...s.args(), 'report', '--mail', '--quiet'])
  t.equal(again.exitCode, 0)
  t.equal(again.stderr + again.stdout, '', '--quiet says nothing when nothing is new')
  const third = await runCli([...s.args(), 'report', '--mail'])
  t.match(third.stderr, 'nothing new since the last mailed report (scans after 2); nothing sent', 'the CLI says it sent nothing')
  t.equal((await delivered(s.node)).length, 1, 'nothing mailed twice')
  t.match((await runCli([...s.args(), 'report'])).stderr, 'nothing new since the last mailed report (scans after 2)', 'the preview starts at the mailed cursor')
})

t.test('a failure that persists is mailed once; a new difference is mailed with the old one counted', async t => {
  const s = await setup(t)
  await failCheck(s, 'etc/app.conf', 'listen = 0.0.0.0\n')
  t.equal((await runCli([...s.args(), 'report', '--mail'])).exitCode, 0)
  t.equal((await runCli([...s.args(), 'check'])).exitCode, 1, 'the same difference again')
  const same = await runCli([...s.args(), 'report', '--mail'])
  t.match(same.stderr, 'nothing new')
  await failCheck(s, 'bin/tool', '#!/bin/sh\necho evil\n')
  t.equal((await runCli([...s.args(), 'report', '--mail'])).exitCode, 0)
  const mails = await waitForMail(s.node, 2)
  const second = mails[1]?.body ?? ''
  t.match(second, `changed  ${join(s.agent.tree, 'bin/tool')}`)
  t.notMatch(second, `changed  ${join(s.agent.tree, 'etc/app.conf')}`)
  t.match(second, '(1 difference already seen in scan 3 is still present)')
})

t.test('a refused mail leaves the cursor: exit 75, and the next run sends the same news', async t => {
  const s = await setup(t)
  await failCheck(s, 'etc/app.conf', 'listen = 0.0.0.0\n')
  insertDenial(s.agent.daemon.store.db, denial())
  for (const sendmail of ['/bin/false', join(s.agent.root, 'no-such-sendmail')]) {
    const r = await runCli([...s.args({ sendmail }), '--json', 'report', '--mail'])
    t.equal(r.exitCode, 75, sendmail)
    t.match(r.stderr, `mail to ${MAIL_USER} via sendmail ${sendmail} was not accepted`)
    t.match(JSON.parse(r.stdout), { error: { code: 'PFIM_MAIL_FAILED' } })
  }
  const retry = await runCli([...s.args(), 'report', '--mail'])
  t.equal(retry.exitCode, 0, retry.stderr)
  const [mail] = await waitForMail(s.node)
  t.equal(mail?.headers.get('subject'), `podsec-fim: ${s.node}: 1 integrity failure, 1 denied API request`, 'nothing lost')
})

t.test('mailed but the cursor cannot be written (the agent holds the lock too long): says the next run repeats it', async t => {
  const s = await setup(t)
  insertDenial(s.agent.daemon.store.db, denial())
  const holder = await holdWriteLock(join(s.agent.config.stateDir, 'state.db'), 14_000)
  const r = await runCli([...s.args(), 'report', '--mail'])
  t.equal(r.exitCode, 70)
  t.match(r.stderr, /the report was mailed \(<[^>]+>\) but its cursor could not be written, so the next run mails it again/)
  t.equal(await holder.released, 0)
  t.equal((await runCli([...s.args(), 'report', '--mail'])).exitCode, 0)
  t.equal((await waitForMail(s.node, 2)).length, 2, 'the documented repeat; never a loss')
})

t.test('a second report while one runs sends nothing (75, PFIM_REPORT_BUSY)', async t => {
  const s = await setup(t)
  insertDenial(s.agent.daemon.store.db, denial())
  const holder = spawn('sleep', ['60'], { stdio: 'ignore' })
  t.teardown(() => { holder.kill() })
  writeFileSync(join(s.agent.config.stateDir, 'report-mail-report.lock'), `${holder.pid}\n`)
  const busy = await runCli([...s.args(), 'report', '--mail'])
  t.equal(busy.exitCode, 75)
  t.match(busy.stderr, `another podsec-fim report (mail-report) is running on this state dir (pid ${holder.pid})`)
  t.match(busy.stderr, 'PFIM_REPORT_BUSY')
  holder.kill()
  await new Promise(resolve => holder.once('exit', resolve))
  const after = await runCli([...s.args(), 'report', '--mail'])
  t.equal(after.exitCode, 0, 'a lock whose owner is gone is taken over')
  await waitForMail(s.node)
})

t.test('--digest: counts, baseline, last check and the open failure; always sent', async t => {
  const s = await setup(t)
  const quiet = await runCli([...s.args(), 'report', '--digest'])
  t.equal(quiet.exitCode, 0)
  t.match(quiet.stdout, `Subject: podsec-fim: ${s.node}: daily digest: no check yet, 0 integrity failures, 0 denied API requests`)
  await failCheck(s, 'etc/app.conf', 'listen = 0.0.0.0\n')
  insertDenial(s.agent.daemon.store.db, denial(), 2)
  t.equal((await runCli([...s.args(), 'report', '--mail'])).exitCode, 0, 'the 10-minute report does not touch the digest')
  const r = await runCli([...s.args(), 'report', '--digest', '--mail'])
  t.equal(r.exitCode, 0, r.stderr)
  const mails = await waitForMail(s.node, 2)
  const digest = mails.find(m => m.headers.get('x-podsec-fim-report') === 'digest')
  t.equal(digest?.headers.get('subject'), `podsec-fim: ${s.node}: daily digest: FAILED, 1 integrity failure, 2 denied API requests`)
  t.match(digest?.body, /baseline: +scan 1, taken /)
  t.match(digest?.body, /last check: +\S+Z  scan 2 Failed \(\+0 ~1 -0\)/)
  t.match(digest?.body, 'Still open: failing since scan 2')
  t.match(digest?.body, `changed  ${join(s.agent.tree, 'etc/app.conf')}`)
  t.match(digest?.body, /audit-denial +1 +2/)
  const json = JSON.parse((await runCli([...s.args(), '--json', 'report', '--digest'])).stdout) as { report: { from: string, scans: Record<string, number> } }
  t.ok(Date.parse(json.report.from) > Date.now() - 60_000, 'the next digest starts where the mailed one ended')
  t.equal(json.report.scans.Failed, 0)
})

t.test('no state database: 66 and nothing locked or created', async t => {
  const dir = t.testdir()
  const r = await runCli(['--state-dir', join(dir, 'state'), 'report', '--mail'])
  t.equal(r.exitCode, 66)
  t.match(r.stderr, 'no state database at')
})

t.test('mail.transport smtp without an smtp:// URL is a config error naming the key (78), news or not', async t => {
  const s = await setup(t)
  for (let i = 0; i < 2; i++) {
    const r = await runCli([...s.args({ transport: 'smtp', smtpUrl: 'https://example.org' }), 'report', '--mail'])
    t.equal(r.exitCode, 78)
    t.match(r.stderr, 'config key "mail.smtpUrl" must be an smtp:// or smtps:// URL')
    insertDenial(s.agent.daemon.store.db, denial())
  }
  const digest = await runCli([...s.args({ transport: 'smtp', smtpUrl: null }), 'report', '--digest', '--mail'])
  t.equal(digest.exitCode, 78)
})

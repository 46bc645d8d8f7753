/** The stand-in sinks the daemon uses until findings.ts and syslog.ts are wired: both write to the log. */
import t from 'tap'
import { logFindingSink, logSyslogSink } from '../../src/agent/log-sinks.js'
import { sinkLogger } from '../helpers/agent.js'

t.test('findings and syslog lines land in the JSON log, nothing is dropped', async t => {
  const logs: Array<Record<string, unknown>> = []
  const log = sinkLogger(logs)
  const findings = logFindingSink(log)
  t.equal(findings.record({ kind: 'container-file', severity: 'critical', subject: '/usr/bin/x', message: 'm' }), 1)
  t.equal(findings.record({ kind: 'container-file', severity: 'info', subject: '/tmp/x', message: 'm' }), 2, 'ids count up')
  logSyslogSink(log).write('podsec-inotify-check-containers', 'crit', 'Critical: line')
  await new Promise<void>(resolve => log.flush(() => resolve()))
  t.match(logs, [
    { level: 40, finding: { subject: '/usr/bin/x' } },
    { level: 40, finding: { subject: '/tmp/x' } },
    { level: 30, tag: 'podsec-inotify-check-containers', priority: 'crit', line: 'Critical: line' },
  ])
})

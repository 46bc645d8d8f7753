/** The daemon starts the policy watcher when policy.enabled, reports through the sinks it is given, and shows its health. */
import t from 'tap'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { startAgent } from '../helpers/agent.js'
import { writePolicyTree } from '../helpers/policy-tree.js'
import { RecordingFindingSink, RecordingSyslogSink, until } from '../helpers/sinks.js'

t.test('policy.enabled: findings and syslog lines reach the given sinks; status lists the watcher', async t => {
  const roots = writePolicyTree(t.testdir(), {})
  const findings = new RecordingFindingSink()
  const syslog = new RecordingSyslogSink()
  const agent = await startAgent(t, { overrides: { 'policy.enabled': true, 'policy.thresholds': '-c 100 -w 0' }, deps: { policyRoots: roots, watcherSinks: () => ({ findings, syslog }) } })
  t.same(agent.daemon.watchers.map(w => w.name), ['policy'])
  writeFileSync(join(roots.containersDir, 'policy.json'), '{"default": [{"type": "insecureAcceptAnything"}]}')
  await until('root\'s 102 and 103', () => findings.findings.length >= 2)
  t.match(findings.findings.map(f => f.fingerprint), ['policy:102:root:critical', 'policy:103:root:critical'])
  t.match(syslog.lines[0], { tag: 'podsec-inotify-check-policy', priority: 'crit', message: /^Critical: Critical\(102\): Users "root"/ })
  t.match(agent.daemon.status().watchers, [{ name: 'policy', running: true, errors: 0, detail: /^CRITICAL: weight 205\/908/ }])
})

t.test('policy.enabled false starts no watcher; bad policy.thresholds stops the start naming the key', async t => {
  const off = await startAgent(t)
  t.same(off.daemon.watchers, [])
  t.same(off.daemon.status().watchers, [])
  await t.rejects(startAgent(t, { overrides: { 'policy.enabled': true, 'policy.thresholds': '-c 20-100' }, deps: { policyRoots: writePolicyTree(t.testdir(), {}) } }),
    { code: 'PFIM_CONFIG_INVALID', message: /config key "policy\.thresholds": threshold -c "20-100"/ })
})

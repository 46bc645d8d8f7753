/** The verdict: podsec's syslog lines (checked against nagwad's podsec.sed), findings with fingerprints, the Nagios status. */
import t, { type Test } from 'tap'
import { collectPolicyFacts } from '../../src/agent/policy-facts.js'
import { evaluatePolicy, syslogLines, verdictFindings } from '../../src/agent/policy-report.js'
import { parseThresholdArgs } from '../../src/agent/policy-thresholds.js'
import { STORAGE_CONF, writePolicyTree } from '../helpers/policy-tree.js'

const noImmutable = async (): Promise<boolean | null> => null

/** /etc/nagwad/podsec.sed's first two expressions (podsec-original.md §2.1) as JS. */
function nagwad (journalLine: string): string | null {
  const critical = /^.*[\s]*(podsec-inotify-check-.*)\[[0-9]+\]:\s*(Crash|Fatal|Critical|High|Middle):\s(.*)$/.exec(journalLine)
  if (critical !== null) return `${critical[1]}:CRITICAL:${critical[1]}(${critical[2]}) ${critical[3]}`
  const warning = /^.*\s(podsec-inotify-check-.*)\[[0-9]+\]:\s*(Warning):\s(.*)$/.exec(journalLine)
  return warning === null ? null : `${warning[1]}:WARNING:${warning[1]}(${warning[2]}) ${warning[3]}`
}

async function verdictOf (t: Test, args: string[]) {
  const roots = writePolicyTree(t.testdir(), {
    users: [
      { name: 'alice', uid: 1000, hasStorage: true },
      { name: 'bob', uid: 1001, groups: ['podman', 'wheel'] },
      { name: 'carol', uid: 1002, groups: ['podman'], storageConf: STORAGE_CONF },
    ],
  })
  return evaluatePolicy(await collectPolicyFacts(roots, noImmutable), parseThresholdArgs(args))
}

t.test('podsec\'s shipped -c 100: 101-107 are Critical lines, the 90xshare rule is not logged', async t => {
  const v = await verdictOf(t, ['-vvv', '-c', '100'])
  t.same(syslogLines(v), [
    { priority: 'crit', message: 'Critical: Critical(101): Users "alice" have images but are not in the podman group' },
    { priority: 'crit', message: 'Critical: Critical(107): the "bob" users are members of the podman and wheel groups' },
  ])
  t.equal(v.weight, 101 + 107 + 45, 'the summary is the sum of all violated rules, logged or not')
  t.equal(v.status, 'CRITICAL')
  t.same(v.users, ['alice', 'bob'])
  const line = `Nov 23 17:00:00 node1 podsec-inotify-check-policy[4242]: ${syslogLines(v)[0]?.message ?? ''}`
  t.equal(nagwad(line), 'podsec-inotify-check-policy:CRITICAL:podsec-inotify-check-policy(Critical) Critical(101): Users "alice" have images but are not in the podman group')
})

t.test('-m 10 logs the share rule as Middle; -w on the summary gives WARNING', async t => {
  const v = await verdictOf(t, ['-c', '1000', '-m', '10', '-w', '200'])
  const share = v.rules.find(r => r.rule === 'no-storage-conf')
  t.equal(share?.message, 'Middle(45): "bob" users do not have config file .config/containers/storage.conf')
  t.equal(share?.severity, 'critical', 'nagwad turns Middle into CRITICAL')
  t.equal(v.status, 'WARNING')
})

t.test('findings: one per rule and user, fingerprinted; severity follows the fired level', async t => {
  const v = await verdictOf(t, ['-c', '100', '-w', '0'])
  const findings = verdictFindings(v)
  t.same(findings.map(f => [f.kind, f.subject, f.severity, f.fingerprint]), [
    ['policy', 'alice', 'critical', 'policy:101:alice:critical'],
    ['policy', 'bob', 'critical', 'policy:107:bob:critical'],
    ['policy', 'bob', 'warning', 'policy:no-storage-conf:bob:warning'],
  ])
  t.match(findings[2]?.details, { rule: 'no-storage-conf', weight: 45, prefix: null, users: ['bob'] })
  t.equal(findings[2]?.message, 'Info(45): "bob" users do not have config file .config/containers/storage.conf')
})

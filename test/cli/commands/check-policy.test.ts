/** `podsec-fim check policy` as a Nagios plugin on real trees: status lines, perfdata, exit codes, bad thresholds. */
import t, { type Test } from 'tap'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { runCli } from '../run-cli.js'
import { STORAGE_CONF, writePolicyTree, type TreeSpec } from '../../helpers/policy-tree.js'

const ZERO_RULES = 'rule_101=0 rule_102=0 rule_103=0 rule_104=0 rule_105=0 rule_106=0 rule_107=0 rule_no_storage_conf=0 rule_writable_config=0'

function tree (t: Test, spec: TreeSpec): string[] {
  const root = t.testdir()
  writePolicyTree(root, spec)
  return ['check', 'policy', '--root', root, '--homes', '/home']
}

const WEAK: TreeSpec = { users: [{ name: 'alice', uid: 1000, hasStorage: true }, { name: 'bob', uid: 1001, groups: ['podman', 'wheel'] }, { name: 'carol', uid: 1002, groups: ['podman'], storageConf: STORAGE_CONF }] }

t.test('a hardened node: POLICY OK, exit 0, one line with perfdata', async t => {
  const r = await runCli(tree(t, { users: [{ name: 'alice', uid: 1000, hasStorage: true, groups: ['podman'], storageConf: STORAGE_CONF }] }))
  t.equal(r.exitCode, 0, r.stderr)
  t.equal(r.stdout, `POLICY OK - Containerization policies are not violated | weight=0;;100;0;908 ${ZERO_RULES} users=2 podman_users=1 file_problems=0\n`)
})

t.test('violations: CRITICAL with the summed weight; -v adds the heads, -vv the messages', async t => {
  const args = tree(t, WEAK)
  const r = await runCli([...args, '-w', '0', '-c', '100', '-vv'])
  t.equal(r.exitCode, 2, r.stderr)
  t.equal(r.stdout, [
    'POLICY CRITICAL - Violation of user containerization policies "alice" "bob" (weight 253, rules 101, 107, no-storage-conf) | weight=253;0;100;0;908 rule_101=101 rule_102=0 rule_103=0 rule_104=0 rule_105=0 rule_106=0 rule_107=107 rule_no_storage_conf=45 rule_writable_config=0 users=2 podman_users=2 file_problems=0',
    'There are users:',
    'outside the podman group: "alice"',
    'included in the wheel group: "bob"',
    'without a config file: "bob"',
    'Critical(101): Users "alice" have images but are not in the podman group',
    'Critical(107): the "bob" users are members of the podman and wheel groups',
    'Info(45): "bob" users do not have config file .config/containers/storage.conf',
  ].join('\n') + '\n')
  const plain = await runCli([...args, '-c', '1000', '-w', '200'])
  t.equal(plain.exitCode, 1, 'WARNING when only -w fires')
  t.match(plain.stdout, /^POLICY WARNING - .* \| weight=253;200;1000;0;908 /)
  t.equal(plain.stdout.split('\n').length, 2, 'verbosity 0: one line')
  const high = await runCli([...args, '-h', '0', '-c', '1000'])
  t.equal(high.exitCode, 0, '-h is the High threshold (syslog scale only), not help')
})

t.test('only a 90xshare rule under podsec\'s default -c 100: OK, as podsec decides it', async t => {
  const r = await runCli(tree(t, { users: [{ name: 'bob', uid: 1001, groups: ['podman'] }] }))
  t.equal(r.exitCode, 0)
  t.match(r.stdout, /^POLICY OK - Violation of user containerization policies "bob" \(weight 90, rules no-storage-conf\) \| weight=90;;100;0;908/)
  t.match(r.stdout, /\nInfo\(90\): "bob" users do not have config file/, 'no arguments = verbosity 2, as podsec')
})

t.test('an invalid policy file: UNKNOWN, exit 3, the file and line named', async t => {
  const args = tree(t, {})
  const root = args[3] as string
  writeFileSync(join(root, 'etc/containers/policy.json'), '{"default": [{"type": "rejected"}]}')
  const r = await runCli([...args, '-c', '100', '-v'])
  t.equal(r.exitCode, 3)
  t.match(r.stdout, new RegExp(`^POLICY UNKNOWN - Containerization policies are not violated; 1 policy file\\(s\\) unreadable or invalid: ${root}/etc/containers/policy.json \\| weight=0;;100;0;908 .* file_problems=1\\n`))
  t.match(r.stdout, /\$\.default\[0\]\.type, line 1\): unknown requirement type "rejected" \(expected [^)]*\) \(PFIM_POLICY_FILE_INVALID\)\n$/)
  const json = await runCli(['--json', ...args])
  t.equal(json.exitCode, 3)
  t.match(JSON.parse(json.stdout), { status: 'UNKNOWN', exitCode: 3, weight: 0, problems: [{ code: 'PFIM_POLICY_FILE_INVALID' }], thresholds: { nagios: { c: '100' } } })
})

t.test('malformed thresholds: POLICY UNKNOWN on stdout, exit 3', async t => {
  const args = tree(t, {})
  const cases: Array<[string[], RegExp]> = [
    [['-c', '20-100'], /threshold -c "20-100"/],
    [['-w', '10:5'], /start 10 is greater than end 5/],
    [['-c'], /-c needs a range/],
    [['-x', '1'], /unknown threshold letter -x/],
    [['-M', 'root'], /-M \(mail\) is not supported/],
    [['-c', '1:2:3'], /more than one ":"/],
    [['junk'], /unexpected argument "junk"/],
  ]
  for (const [extra, message] of cases) {
    const r = await runCli([...args, ...extra])
    t.equal(r.exitCode, 3, extra.join(' '))
    t.match(r.stdout, /^POLICY UNKNOWN - .*\(PFIM_THRESHOLD_INVALID\)\n$/)
    t.match(r.stdout, message)
  }
  const json = await runCli(['--json', ...args, '-w', 'x'])
  t.match(JSON.parse(json.stdout), { status: 'UNKNOWN', exitCode: 3, error: { code: 'PFIM_THRESHOLD_INVALID' } })
})

t.test('check keeps running the AIDE check; policy is its subcommand; help is --help only', async t => {
  const help = await runCli(['check', '--help'])
  t.equal(help.exitCode, 0)
  t.match(help.stdout, /Commands:\n\s+policy /)
  const policyHelp = await runCli(['check', 'policy', '--help'])
  t.equal(policyHelp.exitCode, 0)
  t.match(policyHelp.stdout, /-a -f -c -h -m -l -d <range>/)
  t.match(policyHelp.stdout, /3 {2}UNKNOWN/)
  const bogus = await runCli(['check', 'bogus'])
  t.equal(bogus.exitCode, 64, 'an unknown word after check is a usage error, not an AIDE check')
})

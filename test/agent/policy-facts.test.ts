/** Collecting the facts: who is examined (podsec's populations) and bad files as problems, never as "OK". */
import t from 'tap'
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { collectPolicyFacts } from '../../src/agent/policy-facts.js'
import { evaluatePolicy } from '../../src/agent/policy-report.js'
import { evaluateRules } from '../../src/agent/policy-rules.js'
import { parseThresholdArgs } from '../../src/agent/policy-thresholds.js'
import { STORAGE_CONF, writePolicyTree } from '../helpers/policy-tree.js'

const noImmutable = async (): Promise<boolean | null> => null

t.test('populations: root plus homes with container storage; podman (not podman_dev) users by group', async t => {
  const roots = writePolicyTree(t.testdir(), {
    users: [
      { name: 'alice', uid: 1000, hasStorage: true, groups: ['podman'], storageConf: STORAGE_CONF },
      { name: 'bob', uid: 1001, groups: ['podman'], storageConf: STORAGE_CONF },
      { name: 'dev', uid: 1002, hasStorage: true, groups: ['podman', 'podman_dev'] },
      { name: 'eve', uid: 1003 },
    ],
  })
  mkdirSync(join(roots.homes, 'ghost/.local/share/containers/storage/overlay'), { recursive: true })
  const facts = await collectPolicyFacts(roots, noImmutable)
  t.same(facts.users.map(u => [u.name, u.groups]), [['root', ['root']], ['alice', ['alice', 'podman']], ['dev', ['dev', 'podman', 'podman_dev']], ['ghost', null]])
  t.same(facts.podmanUsers.map(u => u.name), ['alice', 'bob'])
  t.equal(facts.users[1]?.policyFile, join(roots.containersDir, 'policy.json'), 'no own policy: the system one')
})

t.test('an invalid or unreadable file is a problem naming it; its users are not judged compliant', async t => {
  const roots = writePolicyTree(t.testdir(), {
    users: [
      { name: 'alice', uid: 1000, hasStorage: true, groups: ['podman'], storageConf: STORAGE_CONF, policy: '{"default": [{"type": "reject"}],\n "default": []}' },
      { name: 'bob', uid: 1001, groups: ['podman'], storageConf: 'driver = "overlay"\n' },
      { name: 'carol', uid: 1002, hasStorage: true, groups: ['podman'], storageConf: STORAGE_CONF, registries: { 'a.yaml': 'default-docker: [\n' } },
    ],
  })
  const facts = await collectPolicyFacts(roots, noImmutable)
  t.match(facts.problems, [
    { file: join(roots.homes, 'alice/.config/containers/policy.json'), code: 'PFIM_POLICY_FILE_INVALID', message: /\(line 2\): a field is duplicated/ },
    { file: join(roots.homes, 'carol/.config/containers/registries.d/a.yaml'), code: 'PFIM_POLICY_FILE_INVALID', message: /not valid YAML/ },
    { file: join(roots.homes, 'bob/.config/containers/storage.conf'), code: 'PFIM_POLICY_FILE_INVALID', message: /no \[storage\] table/ },
  ])
  t.equal(facts.users.find(u => u.name === 'alice')?.policy, null)
  t.same(evaluateRules(facts), [], 'nothing is decided from a file that could not be read')
  t.equal(evaluatePolicy(facts, parseThresholdArgs([])).status, 'UNKNOWN', 'and the verdict is not OK')
})

t.test('missing system policy, unreadable storage.conf, broken /etc/group', async t => {
  const roots = writePolicyTree(t.testdir(), { policy: null, users: [{ name: 'alice', uid: 1000, groups: ['podman'] }] })
  mkdirSync(join(roots.homes, 'alice/.config/containers/storage.conf'), { recursive: true })
  let facts = await collectPolicyFacts(roots, noImmutable)
  t.match(facts.problems, [
    { file: join(roots.containersDir, 'policy.json'), code: 'PFIM_POLICY_FILE_UNREADABLE', message: /does not exist/ },
    { file: join(roots.homes, 'alice/.config/containers/storage.conf'), code: 'PFIM_POLICY_FILE_UNREADABLE', message: /cannot read/ },
  ])
  rmSync(join(roots.homes, 'alice/.config/containers/storage.conf'), { recursive: true })
  writeFileSync(roots.groupFile, 'root:x:0\n')
  facts = await collectPolicyFacts(roots, noImmutable)
  t.match(facts.problems.map(p => p.message), [/group \(line 1\): has 3 fields/, /policy\.json/])
  t.same(facts.podmanUsers, [], 'no membership without /etc/group')
  t.equal(facts.users[0]?.groups, null)
})

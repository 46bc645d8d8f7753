/** podsec's rules on real trees in temp dirs, one case per rule and per fixed bug. */
import t, { type Test } from 'tap'
import { chmodSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { collectPolicyFacts } from '../../src/agent/policy-facts.js'
import { evaluateRules, MAX_WEIGHT, shareWeight, summaryWeight } from '../../src/agent/policy-rules.js'
import { GOOD_REGISTRIES, STORAGE_CONF, writePolicyTree, type TreeSpec } from '../helpers/policy-tree.js'

const noImmutable = async (): Promise<boolean | null> => null

const policy = (doc: unknown): string => JSON.stringify(doc)
const signedLocal = { 'registry.local': [{ type: 'signedBy', keyType: 'GPGKeys', keyPath: '/k' }] }
const podman = { groups: ['podman'], storageConf: STORAGE_CONF }

async function violations (t: Test, spec: TreeSpec): Promise<Record<string, { weight: number, users: readonly string[] }>> {
  const roots = writePolicyTree(t.testdir(), spec)
  const facts = await collectPolicyFacts(roots, noImmutable)
  t.same(facts.problems, [], 'no file problems')
  return Object.fromEntries(evaluateRules(facts).map(v => [v.rule, { weight: v.weight, users: v.users }]))
}

t.test('table: each rule fires on its condition and only then', async t => {
  const cases: Array<[string, TreeSpec, Record<string, { weight: number, users: string[] }>]> = [
    ['a hardened node with a podman user', { users: [{ name: 'alice', uid: 1000, hasStorage: true, ...podman }] }, {}],
    ['101: images but not in podman', { users: [{ name: 'alice', uid: 1000, hasStorage: true }] }, { 101: { weight: 101, users: ['alice'] } }],
    ['101: podman_dev alone is not podman (jq index matched substrings)', { users: [{ name: 'alice', uid: 1000, hasStorage: true, groups: ['podman_dev'] }] }, { 101: { weight: 101, users: ['alice'] } }],
    ['102: root accepts anything', { policy: policy({ default: [{ type: 'insecureAcceptAnything' }], transports: { docker: signedLocal } }) }, { 102: { weight: 102, users: ['root'] } }],
    ['102: podman_dev may accept anything', { users: [{ name: 'dev', uid: 1000, hasStorage: true, groups: ['podman', 'podman_dev'], policy: policy({ default: [{ type: 'insecureAcceptAnything' }], transports: { docker: signedLocal } }) }] }, {}],
    ['102: a reject among the default requirements rejects (they are ANDed)', { policy: policy({ default: [{ type: 'insecureAcceptAnything' }, { type: 'reject' }], transports: { docker: signedLocal } }) }, {}],
    ['103: no signed registry.local', { users: [{ name: 'alice', uid: 1000, hasStorage: true, ...podman, policy: policy({ default: [{ type: 'reject' }] }) }] }, { 103: { weight: 103, users: ['alice'] } }],
    ['103: registry.local:5000 and sigstoreSigned count as signed', { policy: policy({ default: [{ type: 'reject' }], transports: { docker: { 'registry.local:5000': [{ type: 'sigstoreSigned', keyPath: '/k.pub' }] } } }) }, {}],
    ['104: a docker scope without signatures', { policy: policy({ default: [{ type: 'reject' }], transports: { docker: { ...signedLocal, 'docker.io': [{ type: 'insecureAcceptAnything' }] } } }) }, { 104: { weight: 104, users: ['root'] } }],
    ['104: rejected and signed-plus-accept scopes are not unsigned', { policy: policy({ default: [{ type: 'reject' }], transports: { docker: { ...signedLocal, 'docker.io': [{ type: 'reject' }], 'quay.io': [{ type: 'insecureAcceptAnything' }, { type: 'signedBy', keyType: 'GPGKeys', keyPath: '/k' }] } } }) }, {}],
    ['105: another transport that accepts', { policy: policy({ default: [{ type: 'reject' }], transports: { docker: signedLocal, 'docker-daemon': { '': [{ type: 'insecureAcceptAnything' }] } } }) }, { 105: { weight: 105, users: ['root'] } }],
    ['105: another transport that rejects is no weakening', { policy: policy({ default: [{ type: 'reject' }], transports: { docker: signedLocal, 'docker-daemon': { '': [{ type: 'reject' }] } } }) }, {}],
    ['106: no default lookaside', { registries: { 'default.yaml': 'docker:\n  quay.io:\n    lookaside: https://q/\n' } }, { 106: { weight: 106, users: ['root'] } }],
    ['106: the lookaside in a file other than default.yaml counts (podsec read default.yaml only)', { registries: { 'default.yaml': '', 'sigstore.yaml': GOOD_REGISTRIES } }, {}],
    ['106: the old name sigstore counts', { registries: { 'default.yaml': 'default-docker:\n  sigstore: http://sigstore.local:81/sigstore\n' } }, {}],
    ['106: a user\'s own registries.d replaces the system one', { users: [{ name: 'alice', uid: 1000, hasStorage: true, ...podman, registries: { 'mine.yaml': 'default-docker:\n  lookaside: https://elsewhere/\n' } }] }, { 106: { weight: 106, users: ['alice'] } }],
    ['107: podman and wheel, users named (podsec printed none)', { users: [{ name: 'alice', uid: 1000, groups: ['podman', 'wheel'], storageConf: STORAGE_CONF }, { name: 'bob', uid: 1001, groups: ['podman', 'wheel', 'podman_dev'] }] }, { 107: { weight: 107, users: ['alice'] } }],
    ['90xshare: 1 of 2 podman users without storage.conf', { users: [{ name: 'alice', uid: 1000, groups: ['podman'] }, { name: 'bob', uid: 1001, ...podman }] }, { 'no-storage-conf': { weight: 45, users: ['alice'] } }],
    ['90xshare: all of them', { users: [{ name: 'alice', uid: 1000, groups: ['podman'] }, { name: 'bob', uid: 1001, groups: ['podman'] }, { name: 'carol', uid: 1002, groups: ['podman'] }] }, { 'no-storage-conf': { weight: 90, users: ['alice', 'bob', 'carol'] } }],
  ]
  for (const [name, spec, expected] of cases) {
    await t.test(name, async t => {
      t.same(await violations(t, spec), expected)
    })
  }
})

t.test('90xshare: a writable config dir, by mode bits; immutable dirs are not writable', async t => {
  const roots = writePolicyTree(t.testdir(), { users: [{ name: 'alice', uid: 1000, ...podman }, { name: 'bob', uid: 1001, ...podman }, { name: 'carol', uid: 1002, ...podman }] })
  chmodSync(join(roots.homes, 'alice/.config/containers'), 0o777)
  chmodSync(join(roots.homes, 'bob/.config/containers'), 0o777)
  const immutableBob = async (dir: string): Promise<boolean | null> => dir.includes('/bob/')
  const rules = evaluateRules(await collectPolicyFacts(roots, immutableBob))
  t.same(rules.map(r => [r.rule, r.weight, r.users]), [['writable-config', 30, ['alice']]], 'floor(90 x 1/3)')
})

t.test('shares never divide by zero and never exceed 90; the sum is clamped to 0..MAX_WEIGHT', async t => {
  t.equal(shareWeight(0, 0), 0)
  t.equal(shareWeight(1, 0), 0)
  t.equal(shareWeight(3, 2), 90)
  t.equal(shareWeight(2, 3), 60)
  t.equal(MAX_WEIGHT, 908)
  const v = (weight: number) => ({ rule: '101' as const, weight, users: [], head: '', text: '' })
  t.equal(summaryWeight([]), 0)
  t.equal(summaryWeight([v(101), v(45)]), 146, 'the sum, not the last weight')
  t.equal(summaryWeight([v(900), v(900)]), MAX_WEIGHT)
})

t.test('every rule at once gives the documented maximum', async t => {
  const accept = policy({ default: [{ type: 'insecureAcceptAnything' }], transports: { docker: { 'docker.io': [{ type: 'insecureAcceptAnything' }] }, atomic: { '': [{ type: 'insecureAcceptAnything' }] } } })
  const root = t.testdir()
  const roots = writePolicyTree(root, { policy: accept, registries: {}, users: [{ name: 'alice', uid: 1000, hasStorage: true, groups: ['wheel'] }, { name: 'bob', uid: 1001, groups: ['podman', 'wheel'] }, { name: 'carol', uid: 1002, groups: ['podman'], storageConf: STORAGE_CONF }] })
  chmodSync(join(roots.homes, 'carol/.config/containers'), 0o777)
  mkdirSync(join(roots.homes, 'carol/.local/share/containers/storage/overlay'), { recursive: true })
  const rules = evaluateRules(await collectPolicyFacts(roots, noImmutable))
  t.same(rules.map(r => r.rule), ['101', '102', '103', '104', '105', '106', '107', 'no-storage-conf', 'writable-config'])
  t.equal(summaryWeight(rules), 101 + 102 + 103 + 104 + 105 + 106 + 107 + 45 + 45)
  t.same(rules.find(r => r.rule === '102')?.users, ['alice', 'carol', 'root'])
})

/** The policy watcher on real directories with real inotify: changes of verdict only, new users, bad files, health. */
import t, { type Test } from 'tap'
import { mkdirSync, renameSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { PolicyWatcher } from '../../src/agent/policy-watcher.js'
import type { PolicyRoots } from '../../src/agent/policy-facts.js'
import { CursorStore } from '../../src/agent/cursor-store.js'
import { openStore } from '../../src/agent/store.js'
import { parseThresholdArgs } from '../../src/agent/policy-thresholds.js'
import { sinkLogger } from '../helpers/agent.js'
import { accountsText, GOOD_POLICY, STORAGE_CONF, writePolicyTree, writeUser, type TreeUser } from '../helpers/policy-tree.js'
import { RecordingFindingSink, RecordingSyslogSink, until } from '../helpers/sinks.js'

const ALICE: TreeUser = { name: 'alice', uid: 1000, hasStorage: true, groups: ['podman'], storageConf: STORAGE_CONF }

async function started (t: Test, opts: { cursors?: CursorStore, roots?: PolicyRoots, logs?: Array<Record<string, unknown>> } = {}) {
  const roots = opts.roots ?? writePolicyTree(t.testdir(), { users: [ALICE] })
  const findings = new RecordingFindingSink()
  const syslog = new RecordingSyslogSink()
  const watcher = new PolicyWatcher({
    roots, thresholds: parseThresholdArgs(['-c', '100']), findings, syslog, log: sinkLogger(opts.logs ?? []), now: Date.now,
    probe: async () => null, debounceMs: 30, rescanMs: 3_600_000, cursors: opts.cursors,
  })
  t.teardown(() => watcher.close())
  await watcher.start()
  /** Waits for the evaluation that follows a change made by `act`. */
  const after = async (what: string, act: () => void): Promise<void> => {
    const before = watcher.evaluations
    act()
    await until(what, () => watcher.evaluations > before)
    await until(`${what} (settled)`, () => watcher.health().lastEventAt !== null)
  }
  return { roots, findings, syslog, watcher, after }
}

t.test('a weakened policy is reported once; rewriting the same content reports nothing new', async t => {
  const { roots, findings, syslog, watcher, after } = await started(t)
  t.equal(watcher.verdict?.status, 'OK')
  t.same(findings.findings, [])
  const accept = JSON.stringify({ default: [{ type: 'insecureAcceptAnything' }], transports: JSON.parse(GOOD_POLICY).transports })
  await after('policy.json changed', () => writeFileSync(join(roots.containersDir, 'policy.json'), accept))
  await until('102 findings', () => findings.findings.length === 2)
  t.same(findings.findings.map(f => [f.kind, f.subject, f.fingerprint]), [['policy', 'alice', 'policy:102:alice:critical'], ['policy', 'root', 'policy:102:root:critical']])
  t.same(syslog.lines, [{ tag: 'podsec-inotify-check-policy', priority: 'crit', message: 'Critical: Critical(102): Users "alice" "root" have defaultPolicy!=reject in policy.json but are not in the podman_dev group' }])
  await after('same content written again', () => writeFileSync(join(roots.containersDir, 'policy.json'), accept))
  t.equal(findings.findings.length, 2, 'no new finding while the verdict holds')
  t.equal(syslog.lines.length, 1, 'no new syslog line')
  await after('policy restored', () => writeFileSync(join(roots.containersDir, 'policy.json'), GOOD_POLICY))
  t.equal(watcher.verdict?.status, 'OK')
  await after('weakened again', () => writeFileSync(join(roots.containersDir, 'policy.json'), accept))
  await until('reported again after it was resolved', () => findings.findings.length === 4)
})

t.test('a user\'s new registries.d, a new user and a replaced /etc/group are noticed', async t => {
  const { roots, findings, syslog, watcher } = await started(t)
  const own = join(roots.homes, 'alice/.config/containers/registries.d')
  mkdirSync(own)
  writeFileSync(join(own, 'mine.yaml'), 'default-docker:\n  lookaside: https://elsewhere/\n')
  await until('alice\'s 106', () => findings.findings.find(f => f.fingerprint === 'policy:106:alice:critical'))
  const bob: TreeUser = { name: 'bob', uid: 1001, hasStorage: true }
  writeUser(roots, bob)
  const { passwd, group } = accountsText([ALICE, bob])
  writeFileSync(roots.passwdFile, passwd)
  writeFileSync(`${roots.groupFile}+`, group)
  renameSync(`${roots.groupFile}+`, roots.groupFile) // as vigr and useradd replace it
  await until('bob\'s 101', () => findings.findings.find(f => f.fingerprint === 'policy:101:bob:critical'))
  t.match(syslog.lines.map(l => l.message), [/Critical\(106\): Users "alice"/, /Critical\(101\): Users "bob"/])
  // eve has a home but no container storage: no rule examines her until she starts using podman
  const watchesBefore = watcher.health().watches ?? 0
  const eve: TreeUser = { name: 'eve', uid: 1002 }
  writeUser(roots, eve)
  const all = accountsText([ALICE, bob, eve])
  writeFileSync(roots.passwdFile, all.passwd)
  writeFileSync(roots.groupFile, all.group)
  await until('eve\'s home watched', () => (watcher.health().watches ?? 0) > watchesBefore)
  mkdirSync(join(roots.homes, 'eve/.local/share/containers/storage/overlay'), { recursive: true })
  await until('eve\'s 101', () => findings.findings.find(f => f.fingerprint === 'policy:101:eve:critical'))
  const h = watcher.health()
  t.match(h, { name: 'policy', running: true, errors: 0, overflows: 0, budget: null })
  t.ok((h.watches ?? 0) > 5, 'directories of both users are watched')
  t.ok(h.lastEventAt !== null)
})

t.test('an invalid policy.json is a policy-file finding and a Warning line, not OK and not a crash', async t => {
  const { roots, findings, syslog, watcher } = await started(t)
  writeFileSync(join(roots.containersDir, 'policy.json'), '{"default": [\n  {"type": "reject"},\n]}')
  await until('policy-file finding', () => findings.findings.find(f => f.kind === 'policy-file'))
  t.match(findings.findings, [{ kind: 'policy-file', severity: 'warning', subject: join(roots.containersDir, 'policy.json'), message: /\(line 3\): not valid JSON/ }])
  t.match(syslog.lines, [{ priority: 'warning', message: /^Warning: .*policy\.json \(line 3\): not valid JSON/ }])
  t.equal(watcher.verdict?.status, 'UNKNOWN')
  t.match(watcher.health().detail, /^UNKNOWN: weight 0\/908, 0 rule\(s\) violated, 1 file problem\(s\)/)
  await watcher.close()
  t.equal(watcher.health().running, false)
})

t.test('a restart does not report a verdict that held before it again; a change while stopped is reported', async t => {
  const store = openStore(join(t.testdir(), 'state.db'))
  t.teardown(() => store.close())
  const cursors = new CursorStore(store.db)
  const first = await started(t, { cursors })
  const accept = JSON.stringify({ default: [{ type: 'insecureAcceptAnything' }], transports: JSON.parse(GOOD_POLICY).transports })
  await first.after('policy.json weakened', () => writeFileSync(join(first.roots.containersDir, 'policy.json'), accept))
  await until('102 findings', () => first.findings.findings.length === 2)
  await first.watcher.close()

  const second = await started(t, { cursors, roots: first.roots })
  t.equal(second.watcher.verdict?.status, 'CRITICAL', 'the verdict still holds')
  t.same(second.findings.findings, [], 'not reported again')
  t.same(second.syslog.lines, [], 'no syslog line again')
  await second.watcher.close()

  writeFileSync(join(first.roots.containersDir, 'policy.json'), GOOD_POLICY)
  const third = await started(t, { cursors, roots: first.roots })
  t.equal(third.watcher.verdict?.status, 'OK')
  await third.after('weakened again', () => writeFileSync(join(first.roots.containersDir, 'policy.json'), accept))
  await until('reported again: it was resolved while the agent was stopped', () => third.findings.findings.length === 2)

  cursors.set('policy-verdict', { seen: 'not a list' })
  const logs: Array<Record<string, unknown>> = []
  const fourth = await started(t, { cursors, roots: first.roots, logs })
  t.equal(fourth.findings.findings.length, 2, 'a malformed kept verdict: the current one is reported again')
  t.ok(logs.some(l => l.msg === 'the kept policy verdict is malformed; the current verdict is reported again'))
})

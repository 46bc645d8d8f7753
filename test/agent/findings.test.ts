/** The findings repository on real SQLite: outbox in the same transaction, burst collapsing, final counts announced once, listing. */
import t, { type Test } from 'tap'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { FindingStore, findingPayload, listFindings, type ClosedBurst } from '../../src/agent/findings.js'
import type { FindingInput } from '../../src/agent/finding-types.js'
import { Outbox } from '../../src/agent/outbox.js'
import { openStore } from '../../src/agent/store.js'
import { MIGRATIONS } from '../../src/agent/store-schema.js'
import { checkFindingPayload } from '../../src/core/protocol.js'

const T0 = Date.parse('2026-11-23T10:00:00Z')

function setup (t: Test, opts: { aggregator?: boolean, burstMs?: number, maxOpenBursts?: number } = {}) {
  const file = join(t.testdir(), 'state.db')
  const clock = { now: T0 }
  const open = () => {
    const store = openStore(file)
    t.teardown(() => store.close())
    const outbox = new Outbox(store.db, () => clock.now)
    const findings = new FindingStore(store.db, { now: () => clock.now, outbox: opts.aggregator === false ? null : outbox, burstMs: { 'audit-denial': opts.burstMs ?? 60_000 }, maxOpenBursts: opts.maxOpenBursts })
    return { store, outbox, findings }
  }
  return { clock, open, ...open() }
}

const denial = (user = 'alice', fingerprint: string | null = `fp-${user}`): FindingInput => ({
  kind: 'audit-denial', severity: 'critical', subject: user, message: `forbidden: User "${user}" cannot list resource "secrets"`,
  details: { user, verb: 'list' }, ...(fingerprint === null ? {} : { fingerprint }),
})

t.test('record inserts and queues a valid finding report in the same transaction', async t => {
  const { findings, outbox, clock } = setup(t)
  const id = findings.record(denial())
  t.match(findings.get(id), { kind: 'audit-denial', severity: 'critical', subject: 'alice', count: 1, observedAt: clock.now, lastSeenAt: clock.now, details: { user: 'alice' }, fingerprint: 'fp-alice' })
  const [row] = outbox.peek(10)
  t.equal(row?.kind, 'finding')
  t.same(checkFindingPayload(row?.payload, 'payload'), {
    findingId: id, kind: 'audit-denial', severity: 'critical', observedAt: '2026-11-23T10:00:00.000Z',
    subject: 'alice', message: 'forbidden: User "alice" cannot list resource "secrets"', count: 1, details: { user: 'alice', verb: 'list' },
  })
})

t.test('standalone (no aggregator): findings are kept, nothing is queued', async t => {
  const { findings, outbox, clock } = setup(t, { aggregator: false })
  findings.record(denial())
  findings.record(denial())
  clock.now += 61_000
  t.equal(findings.closeBursts().length, 1, 'the burst still closes (syslog summary)')
  t.equal(findings.list({ limit: 10 }).length, 1)
  t.equal(outbox.backlog().count, 0)
})

t.test('a burst collapses; its final count is queued once when the window closes', async t => {
  const { findings, outbox, clock } = setup(t)
  const heard: ClosedBurst[] = []
  findings.onBurstClosed('audit-denial', b => heard.push(b))
  const first = findings.record(denial())
  for (let i = 0; i < 4; i++) {
    clock.now += 10_000
    t.same(findings.recordAll([denial()]), [{ id: first, isNew: false }], 'same finding')
  }
  const other = findings.record(denial('bob'))
  t.not(other, first, 'another fingerprint is another finding')
  t.match(findings.get(first), { count: 5, observedAt: T0, lastSeenAt: T0 + 40_000 })
  t.equal(outbox.backlog().count, 2, 'repeats are not queued one by one')
  t.same(findings.closeBursts(), [], 'the window (from the first observation) is still open')
  clock.now = T0 + 60_000
  const closed = findings.closeBursts()
  t.equal(closed.length, 1)
  t.match(closed[0], { finding: { id: first, count: 5 }, repeats: 4 })
  t.same(heard, closed, 'the listener heard it')
  const last = outbox.peek(10).pop()
  t.match(last?.payload, { findingId: first, count: 5 }, 'the final count goes to the aggregator under the same id')
  t.same(findings.closeBursts(), [], 'announced once')
  t.equal(outbox.backlog().count, 3)

  const next = findings.record(denial())
  t.not(next, first, 'after the window a new finding starts')
  t.equal(findings.get(next).count, 1)
})

t.test('recordAll: a batch collapses within itself, in order, in one transaction', async t => {
  const { findings, outbox } = setup(t)
  const [a, again, b] = findings.recordAll([denial('alice'), denial('alice'), denial('bob')])
  t.match([a, again, b], [{ isNew: true }, { id: a?.id, isNew: false }, { isNew: true }])
  t.not(b?.id, a?.id)
  t.equal(findings.get(a?.id as number).count, 2)
  t.equal(outbox.backlog().count, 2, 'one report per new finding')
  t.same(findings.recordAll([]), [])
  t.throws(() => findings.recordAll([denial('carol'), { ...denial('dave'), severity: 'bogus' as 'critical' }]), /CHECK constraint/)
  t.notOk(findings.list({ limit: 10 }).some(f => f.subject === 'carol'), 'a failed batch leaves nothing of itself')
  const [carol] = findings.recordAll([denial('carol')])
  t.match(findings.get(carol?.id as number), { subject: 'carol', count: 1 }, 'and its open burst is not trusted afterwards')
})

t.test('no fingerprint, or a kind without a window: never collapsed', async t => {
  const { findings } = setup(t)
  const a = findings.record(denial('alice', null))
  const b = findings.record(denial('alice', null))
  t.not(a, b)
  const p1 = findings.record({ kind: 'policy', severity: 'warning', subject: '/etc/containers/policy.json', message: 'insecureAcceptAnything', fingerprint: 'same' })
  const p2 = findings.record({ kind: 'policy', severity: 'warning', subject: '/etc/containers/policy.json', message: 'insecureAcceptAnything', fingerprint: 'same' })
  t.not(p1, p2)
})

t.test('a restart keeps collapsing into the open burst and announces nothing twice', async t => {
  const s = setup(t)
  const first = s.findings.record(denial())
  s.findings.record(denial())
  s.clock.now += 61_000
  t.equal(s.findings.closeBursts().length, 1)
  s.store.close()
  const again = s.open()
  t.same(again.findings.closeBursts(), [], 'already announced before the restart')
  s.clock.now += 1000
  const fresh = again.findings.record(denial())
  t.not(fresh, first)
  again.findings.record(denial())
  again.store.close()
  const third = s.open()
  t.equal(third.findings.record(denial()), fresh, 'the open burst survives a restart')
  t.equal(third.findings.get(fresh).count, 3)
})

t.test('past maxOpenBursts the oldest burst is forgotten: its repeat starts a new finding, none is lost', async t => {
  const { findings } = setup(t, { maxOpenBursts: 2 })
  const [a, b, c] = ['a', 'b', 'c'].map(u => findings.record(denial(u)))
  const again = findings.record(denial('a'))
  t.not(again, a, 'a was the oldest of three open bursts with room for two')
  t.equal(findings.record(denial('c')), c, 'c is still open')
  t.not(findings.record(denial('b')), b, 'b was pushed out by the new burst of a')
  t.equal(findings.list({ limit: 10 }).reduce((n, f) => n + f.count, 0), 6, 'every observation is counted')
})

t.test('an outer transaction rolled back: the next repeat is recorded, not collapsed into a row that is gone or reused', async t => {
  const { findings, store } = setup(t)
  const kept = findings.record(denial('alice'))
  t.throws(() => store.db.transaction(() => {
    findings.record(denial('bob'))
    throw new Error('the batch failed')
  })())
  const carol = findings.record(denial('carol'))
  const bob = findings.record(denial('bob'))
  t.not(bob, carol, "bob's burst named the id SQLite gave to carol")
  t.match(findings.get(carol), { subject: 'carol', count: 1 }, "carol's finding was not counted as bob's repeat")
  t.match(findings.get(bob), { subject: 'bob', count: 1 })
  t.equal(findings.record(denial('bob')), bob, 'and collapses from then on')
  t.equal(findings.record(denial('alice')), kept)
})

t.test('list: newest first, by kind, since, limit; readable on a read-only connection', async t => {
  const s = setup(t)
  s.findings.record(denial('a'))
  s.clock.now += 3_600_000
  s.findings.record(denial('b'))
  s.findings.record({ kind: 'policy', severity: 'warning', subject: 'p', message: 'm' })
  t.same(s.findings.list({ limit: 10 }).map(f => f.subject), ['p', 'b', 'a'])
  t.same(s.findings.list({ limit: 10, kind: 'audit-denial' }).map(f => f.subject), ['b', 'a'])
  t.same(s.findings.list({ limit: 10, sinceMs: s.clock.now - 1000 }).map(f => f.subject), ['p', 'b'])
  t.same(s.findings.list({ limit: 1 }).map(f => f.subject), ['p'])
  const ro = openStore(s.store.file, { readonly: true })
  t.teardown(() => ro.close())
  t.equal(listFindings(ro.db, { limit: 10 }).length, 3)
})

t.test('oversized text and details are cut so the aggregator never rejects the payload', async t => {
  const { findings, outbox } = setup(t)
  const id = findings.record({ kind: 'container-file', severity: 'warning', subject: 's'.repeat(10_000), message: 'm'.repeat(20_000), details: { blob: 'x'.repeat(70_000) } })
  const payload = checkFindingPayload(outbox.peek(1)[0]?.payload, 'payload')
  t.equal(payload.subject.length, 8192)
  t.equal(payload.message.length, 16_384)
  t.match(payload.details, { truncated: true, detailsBytes: Number })
  t.equal((findings.get(id).details as { blob: string }).blob.length, 70_000, 'the store keeps everything')
  t.same(findingPayload(findings.get(id)), payload)
})

t.test('a failed insert queues nothing (one transaction)', async t => {
  const { findings, outbox } = setup(t)
  t.throws(() => findings.record({ ...denial(), severity: 'bogus' as 'critical' }), /CHECK constraint/)
  t.equal(outbox.backlog().count, 0)
  t.equal(findings.list({ limit: 10 }).length, 0)
})

t.test('a collapsed finding from before the upgrade is announced once with its count', async t => {
  const file = join(t.testdir(), 'state.db')
  const old = new Database(file)
  const before = MIGRATIONS.findIndex(m => m.includes('reported_count'))
  MIGRATIONS.slice(0, before).forEach(sql => old.exec(sql))
  old.pragma(`user_version = ${before}`)
  old.prepare("INSERT INTO findings (kind, severity, observed_at, last_seen_at, subject, message, count, fingerprint) VALUES ('audit-denial', 'critical', 1, 2, 'alice', 'm', 3, 'fp')").run()
  old.close()
  const store = openStore(file)
  t.teardown(() => store.close())
  const findings = new FindingStore(store.db, { now: () => T0, outbox: new Outbox(store.db, () => T0), burstMs: { 'audit-denial': 60_000 } })
  t.match(findings.get(1), { count: 3, subject: 'alice' })
  t.equal(findings.closeBursts().length, 1, 'its count beyond 1 was never announced: announced once now')
  t.same(findings.closeBursts(), [])
})

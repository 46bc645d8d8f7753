/**
 * The audit watcher on real files, real inotify, real SQLite and logger into a real socket: findings,
 * podsec's forbidden.log and syslog lines, bursts, bad lines, a late file, restarts.
 * (The same against the real kube-apiserver: test/cli/commands/findings.test.ts.)
 */
import t, { type Test } from 'tap'
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import Database from 'better-sqlite3'
import { join } from 'node:path'
import { AuditWatcher, denialFingerprint, KUBEAPI_TAG } from '../../src/agent/audit-watcher.js'
import { parseAuditLine } from '../../src/agent/audit-event.js'
import { FindingStore } from '../../src/agent/findings.js'
import { openStore } from '../../src/agent/store.js'
import { LoggerSyslog } from '../../src/agent/syslog.js'
import { parseConfig } from '../../src/core/config.js'
import { sinkLogger } from '../helpers/agent.js'
import { syslogSocket, type SyslogCapture } from '../helpers/syslog-socket.js'

function event (user: string, opts: { code?: number, name?: string, ip?: string } = {}): string {
  return JSON.stringify({
    kind: 'Event', apiVersion: 'audit.k8s.io/v1', auditID: `id-${Math.random()}`, stage: 'ResponseComplete',
    requestURI: `/api/v1/namespaces/default/secrets/${opts.name ?? 's'}`, verb: 'get', user: { username: user, groups: ['system:authenticated'] },
    sourceIPs: [opts.ip ?? '10.0.0.1'], userAgent: 'kubectl/v1.34', objectRef: { resource: 'secrets', namespace: 'default', name: opts.name ?? 's' },
    responseStatus: { code: opts.code ?? 403, message: `secrets "${opts.name ?? 's'}" is forbidden: User "${user}" cannot get resource "secrets" in API group "" in the namespace "default"` },
    requestReceivedTimestamp: '2026-11-23T10:00:00.123456Z',
  }) + '\n'
}

async function until<T> (what: string, probe: () => T | null | undefined | false, timeoutMs = 30_000): Promise<T> {
  for (const end = Date.now() + timeoutMs; Date.now() < end; await new Promise(resolve => setTimeout(resolve, 25))) {
    const v = probe()
    if (v !== null && v !== undefined && v !== false) return v
  }
  throw new Error(`timed out waiting for ${what}`)
}

interface Bed {
  dir: string, auditLog: string, forbidden: string, sock: SyslogCapture, clock: { now: number }
  logs: Array<Record<string, unknown>>
  start (overrides?: Record<string, unknown>, tickMs?: number): Promise<{ watcher: AuditWatcher, findings: FindingStore, syslog: LoggerSyslog, stop: () => Promise<void> }>
}

async function bed (t: Test): Promise<Bed> {
  // Short: the syslog socket path must fit in 108 bytes.
  const dir = mkdtempSync(join(tmpdir(), 'pfim-aw-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const sock = await syslogSocket(t, dir)
  const auditLog = join(dir, 'audit', 'audit.log')
  const forbidden = join(dir, 'kubeapi', 'log', 'forbidden.log')
  const clock = { now: Date.parse('2026-11-23T10:00:00Z') }
  const logs: Array<Record<string, unknown>> = []
  const b: Bed = {
    dir, auditLog, forbidden, sock, clock, logs,
    async start (overrides = {}, tickMs = 3_600_000) {
      const config = parseConfig({ audit: { path: auditLog, forbiddenLog: forbidden, burstSeconds: 60 } }, {}, overrides)
      const store = openStore(join(dir, 'state.db'), { now: () => clock.now })
      const findings = new FindingStore(store.db, { now: () => clock.now, outbox: null, burstMs: { 'audit-denial': config.audit.burstSeconds * 1000 } })
      const syslog = new LoggerSyslog({ log: sinkLogger([]), pid: 77, socket: sock.path })
      const watcher = new AuditWatcher({ config: config.audit, store, findings, syslog, log: sinkLogger(logs), now: () => clock.now, tickMs })
      await watcher.start()
      let isStopped = false
      const stop = async (): Promise<void> => {
        if (isStopped) return
        isStopped = true
        await watcher.close()
        await syslog.close()
        store.close()
      }
      t.teardown(stop)
      return { watcher, findings, syslog, stop }
    },
  }
  return b
}

t.test('denials become findings, forbidden.log records and syslog lines; inotify wakes the watcher', async t => {
  const b = await bed(t)
  mkdirSync(join(b.dir, 'audit'))
  writeFileSync(b.auditLog, '')
  const { watcher, findings, syslog } = await b.start() // the safety-net tick is an hour away
  const lines = [event('alice', { name: 'a' }), event('bob', { code: 200 }), event('carol', { code: 401, name: 'c' })]
  appendFileSync(b.auditLog, lines.join(''))
  const list = await until('two findings', () => { const l = findings.list({ limit: 10 }); return l.length === 2 && l })
  const alice = parseAuditLine(lines[0] as string, 1)!
  t.match(list[1], {
    kind: 'audit-denial', severity: 'critical', subject: 'alice', count: 1, fingerprint: denialFingerprint(alice),
    message: 'secrets "a" is forbidden: User "alice" cannot get resource "secrets" in API group "" in the namespace "default"',
  })
  t.same(list[1]?.details, { ...alice }, 'details are every field of the denial')
  t.match(list[0], { subject: 'carol', details: { code: 401 } })

  const record = (user: string, name: string) => `["2026-11-23T10:00:00.123456Z","10.0.0.1","secrets \\"${name}\\" is forbidden: User \\"${user}\\" cannot get resource \\"secrets\\" in API group \\"\\" in the namespace \\"default\\""]`
  t.equal(readFileSync(b.forbidden, 'utf8'), `${record('alice', 'a')}\n${record('carol', 'c')}\n`, 'podsec records, byte for byte')
  t.equal(statSync(b.forbidden).mode & 0o777, 0o600)
  t.equal(statSync(join(b.dir, 'kubeapi', 'log')).mode & 0o777, 0o700)

  await syslog.idle()
  const got = await b.sock.until('two syslog lines', l => l.length === 2)
  t.same(got, [
    { priority: 10, tag: KUBEAPI_TAG, pid: 77, message: `Critical: ${record('alice', 'a')}` },
    { priority: 10, tag: KUBEAPI_TAG, pid: 77, message: `Critical: ${record('carol', 'c')}` },
  ])
  t.match(watcher.health(), { name: 'audit', running: true, lastEventAt: '2026-11-23T10:00:00.000Z', watches: 1, budget: null, overflows: 0, errors: 0, detail: /^following .*audit\.log \(inode \d+, offset \d+\); 3 lines, 2 denials, 0 malformed$/ })
})

t.test('a burst collapses: one finding with the count, every forbidden.log record, one syslog line plus a summary', async t => {
  const b = await bed(t)
  mkdirSync(join(b.dir, 'audit'))
  const { findings, syslog } = await b.start()
  writeFileSync(b.auditLog, event('alice').repeat(5) + event('alice', { ip: '10.0.0.2' }))
  const list = await until('two findings', () => { const l = findings.list({ limit: 10 }); return l.length === 2 && l })
  t.same(list.map(f => f.count), [1, 5], 'another source IP is another finding')
  t.equal(readFileSync(b.forbidden, 'utf8').split('\n').length - 1, 6, 'forbidden.log keeps every request, as podsec')
  await syslog.idle()
  t.equal((await b.sock.settle()).length, 2, 'no syslog line per repeat')

  b.clock.now += 60_000
  findings.closeBursts()
  await syslog.idle()
  const lines = await b.sock.until('the summary', l => l.length === 3)
  t.match(lines[2]?.message, /^Critical: \["2026-11-23T10:00:00\.123456Z","10\.0\.0\.1","secrets \\"s\\" is forbidden: .*"\] and 4 more identical denials until 2026-11-23T10:00:00\.000Z$/)
  t.equal(lines[2]?.priority, 10)
})

t.test('malformed and oversized lines: counted in health, logged, the rest processed', async t => {
  const b = await bed(t)
  mkdirSync(join(b.dir, 'audit'))
  const { watcher, findings } = await b.start()
  writeFileSync(b.auditLog, `not json\n{"kind":"Event"}\n${'x'.repeat(2 * 1024 * 1024)}\n${event('alice')}`)
  await until('the good line', () => findings.list({ limit: 10 }).length === 1)
  t.match(watcher.health(), { running: true, errors: 3, detail: /3 malformed$/ })
  t.ok(b.logs.some(l => l.msg === 'skipped malformed or oversized audit log lines' && l.total === 3))
})

t.test('no directory and no file at start: waits, then follows them once they appear', async t => {
  const b = await bed(t)
  const { watcher, findings } = await b.start({}, 100)
  t.match(watcher.health(), { running: true, watches: 0, detail: /^waiting for .*audit\.log;/ })
  mkdirSync(join(b.dir, 'audit'))
  await until('the directory watch', () => watcher.health().watches === 1)
  writeFileSync(b.auditLog, event('alice'))
  await until('the finding', () => findings.list({ limit: 10 }).length === 1)
  t.match(watcher.health().detail, /^following /)
})

t.test('a restart neither replays nor skips', async t => {
  const b = await bed(t)
  mkdirSync(join(b.dir, 'audit'))
  writeFileSync(b.auditLog, event('a') + event('b'))
  const first = await b.start()
  await until('two findings', () => first.findings.list({ limit: 10 }).length === 2)
  await first.stop()
  appendFileSync(b.auditLog, event('c'))
  const second = await b.start()
  await until('three findings', () => second.findings.list({ limit: 10 }).length >= 3)
  appendFileSync(b.auditLog, event('d'))
  await until('four findings', () => second.findings.list({ limit: 10 }).length >= 4)
  t.same(second.findings.list({ limit: 10 }).map(f => f.subject), ['d', 'c', 'b', 'a'])
  t.equal(readFileSync(b.forbidden, 'utf8').split('\n').length - 1, 4)
  await second.syslog.idle()
  t.same((await b.sock.settle()).map(l => /User \\"(\w)\\"/.exec(l.message)?.[1]), ['a', 'b', 'c', 'd'])
})

t.test('an unwritable forbidden.log is an error in health; findings and syslog go on', async t => {
  const b = await bed(t)
  mkdirSync(join(b.dir, 'audit'))
  writeFileSync(join(b.dir, 'file'), '')
  const { watcher, findings } = await b.start({ 'audit.forbiddenLog': join(b.dir, 'file', 'forbidden.log') })
  writeFileSync(b.auditLog, event('alice'))
  await until('the finding', () => findings.list({ limit: 10 }).length === 1)
  t.match(watcher.health(), { errors: 1 })
  t.ok(b.logs.some(l => l.msg === 'cannot append to the forbidden log'))
  await b.sock.until('the syslog line', l => l.length === 1)
})

t.test('forbiddenLog null: no file is written', async t => {
  const b = await bed(t)
  mkdirSync(join(b.dir, 'audit'))
  writeFileSync(b.auditLog, event('alice'))
  const { findings } = await b.start({ 'audit.forbiddenLog': null })
  await until('the finding', () => findings.list({ limit: 10 }).length === 1)
  t.throws(() => statSync(b.forbidden), { code: 'ENOENT' })
})

t.test('a read that cannot commit (database locked) writes nothing; the next read does it once', async t => {
  const b = await bed(t)
  mkdirSync(join(b.dir, 'audit'))
  writeFileSync(b.auditLog, event('a'))
  const { watcher, findings, syslog } = await b.start()
  t.equal(findings.list({ limit: 10 }).length, 1)
  // Another writer holds the lock: the watcher's transaction fails after SQLite's busy timeout.
  const other = new Database(join(b.dir, 'state.db'))
  other.exec('BEGIN IMMEDIATE')
  appendFileSync(b.auditLog, event('b'))
  watcher.tick()
  t.match(watcher.health(), { errors: 1 })
  const failed = b.logs.find(l => l.msg === 'reading the audit log failed; retrying on the next change or tick')
  t.match(failed?.err, { code: 'SQLITE_BUSY' })
  other.exec('ROLLBACK')
  other.close()
  watcher.tick()
  t.same(findings.list({ limit: 10 }).map(f => f.subject), ['b', 'a'])
  t.equal(readFileSync(b.forbidden, 'utf8').split('\n').length - 1, 2, 'b once in forbidden.log')
  await syslog.idle()
  t.equal((await b.sock.settle()).length, 2, 'b once in syslog')
})

t.test('a large backlog is read in batches, each its own transaction, all of it exactly once', async t => {
  const b = await bed(t)
  mkdirSync(join(b.dir, 'audit'))
  const users = Array.from({ length: 4500 }, (_, i) => `u${i}`)
  writeFileSync(b.auditLog, users.map(u => event(u)).join(''))
  const { watcher, findings } = await b.start({ 'audit.forbiddenLog': null })
  t.ok(findings.list({ limit: 5000 }).length < users.length, 'start() read one batch, not all')
  await until('all findings', () => findings.list({ limit: 5000 }).length === users.length)
  t.match(watcher.health().detail, /; 4500 lines, 4500 denials, 0 malformed$/)
  t.equal(new Set(findings.list({ limit: 5000 }).map(f => f.subject)).size, users.length)
})

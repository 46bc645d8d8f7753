/** The watcher set as the daemon starts it: reports queued only with an aggregator, watchers by config, bursts announced by its timer. */
import t, { type Test } from 'tap'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { Outbox } from '../../src/agent/outbox.js'
import { openStore } from '../../src/agent/store.js'
import { NO_SYSLOG } from '../../src/agent/syslog.js'
import { startWatchers } from '../../src/agent/watchers.js'
import { parseConfig } from '../../src/core/config.js'
import { sinkLogger } from '../helpers/agent.js'

async function setup (t: Test, raw: Record<string, unknown>) {
  const dir = t.testdir()
  mkdirSync(join(dir, 'audit'))
  const store = openStore(join(dir, 'state.db'))
  t.teardown(() => store.close())
  const config = parseConfig({ audit: { path: join(dir, 'audit', 'audit.log'), forbiddenLog: join(dir, 'forbidden.log'), burstSeconds: 1 }, syslog: { enabled: false }, policy: { enabled: false }, containers: { enabled: false }, ...raw }, {})
  const outbox = new Outbox(store.db, Date.now)
  const set = await startWatchers(config, { store, log: sinkLogger([]), now: Date.now, pid: 1, path: '/usr/bin:/bin', outbox: config.aggregator.url === null ? null : outbox })
  t.teardown(() => set.close())
  return { dir, store, set, outbox }
}

const finding = { kind: 'policy', severity: 'warning', subject: 's', message: 'm' } as const

t.test('standalone: findings are kept and nothing is queued for an aggregator', async t => {
  const { set, outbox } = await setup(t, {})
  set.findings.record(finding)
  t.equal(set.findings.list({ limit: 5 }).length, 1)
  t.equal(outbox.backlog().count, 0)
  t.equal(set.syslog, NO_SYSLOG, 'syslog.enabled false: no logger')
})

t.test('with an aggregator: every new finding is queued', async t => {
  const { set, outbox } = await setup(t, { aggregator: { url: 'https://10.96.0.50:8443' } })
  set.findings.record(finding)
  t.match(outbox.peek(5), [{ kind: 'finding', payload: { kind: 'policy', count: 1 } }])
})

t.test('the audit watcher runs when audit.enabled; its health is listed; bursts close on the timer', async t => {
  const { dir, set, outbox } = await setup(t, { aggregator: { url: 'https://10.96.0.50:8443' } })
  t.match(set.health(), [{ name: 'audit', running: true }])
  const line = JSON.stringify({
    kind: 'Event', apiVersion: 'audit.k8s.io/v1', requestURI: '/api', verb: 'get', user: { username: 'alice' },
    responseStatus: { code: 403, message: 'forbidden' }, requestReceivedTimestamp: '2026-11-23T10:00:00Z', sourceIPs: ['10.0.0.1'],
  })
  writeFileSync(join(dir, 'audit', 'audit.log'), `${line}\n${line}\n`)
  for (let end = Date.now() + 30_000; Date.now() < end && outbox.backlog().count < 2; await new Promise(resolve => setTimeout(resolve, 50)));
  t.match(outbox.peek(5).map(r => r.payload), [{ count: 1 }, { count: 2 }], 'the first at once, the final count when the 1 s window closed')
})

t.test('audit.enabled false: no watcher', async t => {
  const { set } = await setup(t, { audit: { enabled: false } })
  t.same(set.health(), [])
})

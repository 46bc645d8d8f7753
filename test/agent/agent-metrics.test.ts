/** The agent's metrics from a real agent (real AIDE, SQLite, control socket) and from a real store. */
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { request } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { AgentMetrics } from '../../src/agent/agent-metrics.js'
import { startDaemon } from '../../src/agent/daemon.js'
import { Outbox } from '../../src/agent/outbox.js'
import { openStore, stateDbPath } from '../../src/agent/store.js'
import type { StatusView } from '../../src/core/control-api.js'
import { parseExposition, sampleValue } from '../helpers/exposition.js'
import { sinkLogger, startAgent } from '../helpers/agent.js'

const P = 'podsec_fim_agent_'

function getControl (socketPath: string, path: string, method = 'GET'): Promise<{ status: number, type: string, text: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, path, method }, res => {
      let text = ''
      res.on('data', (b: Buffer) => { text += b.toString() })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), text }))
    })
    req.on('error', reject)
    req.end()
  })
}

function promtool (text: string): string {
  const r = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' })
  if (r.error !== undefined) throw r.error
  return `${r.status ?? 'signal'} ${r.stdout}${r.stderr}`
}

t.test('after a baseline and a failed check, GET /metrics on the control socket shows both', async t => {
  const agent = await startAgent(t)
  await agent.daemon.scanner.idle()
  writeFileSync(join(agent.tree, 'etc/app.conf'), 'listen = 0.0.0.0\n')
  writeFileSync(join(agent.tree, 'etc/new.conf'), 'x\n')
  await agent.daemon.scanner.run('check', 'manual')
  const res = await getControl(agent.config.socketPath, '/metrics')
  t.equal(res.status, 200)
  t.equal(res.type, 'text/plain; version=0.0.4; charset=utf-8')
  t.equal(promtool(res.text), '0 ', 'promtool accepts it without lint complaints')
  const m = parseExposition(res.text)
  t.equal(sampleValue(m, `${P}scans_total`, { kind: 'init', condition: 'Succeeded' }), 1)
  t.equal(sampleValue(m, `${P}scans_total`, { kind: 'check', condition: 'Failed' }), 1)
  t.equal(sampleValue(m, `${P}scans_total`, { kind: 'check', condition: 'Errored' }), 0, 'conditions not seen yet are exported at 0')
  t.equal(sampleValue(m, `${P}last_scan_condition`, { kind: 'check', condition: 'Failed' }), 1)
  t.equal(sampleValue(m, `${P}last_scan_condition`, { kind: 'check', condition: 'Succeeded' }), 0)
  t.equal(sampleValue(m, `${P}last_check_files`, { change: 'changed' }), 1)
  t.equal(sampleValue(m, `${P}last_check_files`, { change: 'added' }), 1)
  t.equal(sampleValue(m, `${P}last_check_files`, { change: 'removed' }), 0)
  t.equal(sampleValue(m, `${P}scan_duration_seconds_count`, { kind: 'check' }), 1)
  t.equal(sampleValue(m, `${P}scan_duration_seconds_bucket`, { kind: 'init', le: '+Inf' }), 1)
  const check = agent.daemon.store.lastScan('check')!
  t.equal(sampleValue(m, `${P}last_scan_timestamp_seconds`, { kind: 'check' }), check.finishedAt! / 1000)
  t.equal(sampleValue(m, `${P}scan_running`, { kind: 'check' }), 0)
  t.equal(sampleValue(m, `${P}info`, { node: 'node-a', version: agent.daemon.status().agentVersion, aide_version: agent.daemon.status().aideVersion }), 1)
  t.equal(sampleValue(m, `${P}outbox_backlog`), 0)

  const json = await getControl(agent.config.socketPath, '/v1/metrics')
  t.equal(json.status, 200)
  const families = (JSON.parse(json.text) as { metrics: Array<{ name: string }> }).metrics
  t.ok(families.some(f => f.name === `${P}scans_total`), 'the JSON form has the same families')
  t.equal((await getControl(agent.config.socketPath, '/metrics', 'POST')).status, 405)
})

t.test('scan counts survive a restart: they come from SQLite, not memory', async t => {
  const agent = await startAgent(t)
  await agent.daemon.scanner.idle()
  writeFileSync(join(agent.tree, 'etc/app.conf'), 'changed\n')
  await agent.daemon.scanner.run('check', 'manual')
  await agent.daemon.close()
  const again = await startDaemon(agent.config, { log: sinkLogger([]), now: Date.now, path: process.env.PATH ?? '', pid: process.pid })
  t.teardown(() => again.close())
  const m = parseExposition((await getControl(agent.config.socketPath, '/metrics')).text)
  t.equal(sampleValue(m, `${P}scans_total`, { kind: 'init', condition: 'Succeeded' }), 1)
  t.equal(sampleValue(m, `${P}scans_total`, { kind: 'check', condition: 'Failed' }), 1)
  t.equal(sampleValue(m, `${P}scan_duration_seconds_count`, { kind: 'check' }), 1)
})

function statusWith (watchers: StatusView['watchers']): StatusView {
  return {
    node: 'n1', agentVersion: '0.1.0', aideVersion: 'AIDE 0.18.3', pid: 1, startedAt: '2026-01-01T00:00:00.000Z', stateDir: '/s',
    baseline: null, running: { kind: 'check' }, lastScan: null, lastCheck: null, nextCheckAt: '2026-01-01T00:15:00.000Z',
    totals: { scans: 0, failed: 0 }, watchers, aggregator: null,
  }
}

t.test('findings, outbox backlog and watcher health from a real state database', async t => {
  const dir = mkdtempSync(join(tmpdir(), 'pfim-m-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  let now = Date.parse('2026-01-01T01:00:00Z')
  const store = openStore(stateDbPath(dir), { now: () => now })
  t.teardown(() => store.close())
  // The findings repository belongs to the watchers' branch; rows as it writes them are enough here.
  const insert = store.db.prepare("INSERT INTO findings (kind, severity, observed_at, last_seen_at, subject, message, count) VALUES (?, ?, 0, 0, 's', 'm', ?)")
  insert.run('audit-denial', 'warning', 5)
  insert.run('audit-denial', 'warning', 1)
  insert.run('policy', 'critical', 1)
  const outbox = new Outbox(store.db, () => now)
  outbox.enqueue('heartbeat', {})
  now += 90_000
  outbox.enqueue('heartbeat', {})
  now += 30_000
  const metrics = new AgentMetrics({ store, now: () => now })
  const text = metrics.collect(statusWith([
    { name: 'fast-path', running: true, lastEventAt: '2026-01-01T00:30:00.000Z', watches: 812, budget: 4096, overflows: 2, errors: 0, detail: null },
    { name: 'audit "log"', running: false, lastEventAt: null, watches: null, budget: null, overflows: 0, errors: 3, detail: 'waiting' },
  ])).render()
  t.equal(promtool(text), '0 ')
  const m = parseExposition(text)
  t.equal(sampleValue(m, `${P}findings_total`, { kind: 'audit-denial', severity: 'warning' }), 6, 'collapsed bursts count in full')
  t.equal(sampleValue(m, `${P}findings_total`, { kind: 'policy', severity: 'critical' }), 1)
  t.equal(sampleValue(m, `${P}outbox_backlog`), 2)
  t.equal(sampleValue(m, `${P}outbox_oldest_age_seconds`), 120)
  t.equal(sampleValue(m, `${P}watcher_running`, { watcher: 'fast-path' }), 1)
  t.equal(sampleValue(m, `${P}watcher_watches`, { watcher: 'fast-path' }), 812)
  t.equal(sampleValue(m, `${P}watcher_watch_budget`, { watcher: 'fast-path' }), 4096)
  t.equal(sampleValue(m, `${P}watcher_overflows_total`, { watcher: 'fast-path' }), 2)
  t.equal(sampleValue(m, `${P}watcher_last_event_timestamp_seconds`, { watcher: 'fast-path' }), Date.parse('2026-01-01T00:30:00Z') / 1000)
  t.equal(sampleValue(m, `${P}watcher_running`, { watcher: 'audit "log"' }), 0, 'a watcher name is a label value, escaped')
  t.equal(sampleValue(m, `${P}watcher_errors_total`, { watcher: 'audit "log"' }), 3)
  t.equal(sampleValue(m, `${P}watcher_watches`, { watcher: 'audit "log"' }), undefined, 'no budget, no watches series')
  t.equal(sampleValue(m, `${P}scan_running`, { kind: 'check' }), 1)
  t.equal(sampleValue(m, `${P}next_check_timestamp_seconds`), Date.parse('2026-01-01T00:15:00Z') / 1000)
  t.equal(sampleValue(m, `${P}baseline_timestamp_seconds`), undefined, 'no baseline, no timestamp')
  t.equal(sampleValue(m, `${P}scans_total`, { kind: 'init', condition: 'Succeeded' }), 0)
  t.equal(sampleValue(m, `${P}scan_duration_seconds_count`, { kind: 'init' }), 0)
  t.equal(sampleValue(m, `${P}aggregator_connected`), undefined, 'standalone: no aggregator link series')
  t.equal(sampleValue(m, `${P}held`), undefined)
})

t.test('the aggregator link: connected, last acknowledgement, holdoff', async t => {
  const dir = mkdtempSync(join(tmpdir(), 'pfim-m-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const store = openStore(stateDbPath(dir))
  t.teardown(() => store.close())
  const aggregator = { url: 'https://10.96.0.50:8443', isConnected: false, lastAckSeq: 41, lastAckAt: '2026-01-01T00:10:00.000Z', backlog: 3, oldestAt: null, lastError: 'ECONNREFUSED', lastErrorAt: null, directiveVersion: '7', isHeld: true }
  const m = parseExposition(new AgentMetrics({ store, now: Date.now }).collect({ ...statusWith([]), aggregator }).render())
  t.equal(sampleValue(m, `${P}aggregator_connected`), 0)
  t.equal(sampleValue(m, `${P}aggregator_last_ack_timestamp_seconds`), Date.parse('2026-01-01T00:10:00Z') / 1000)
  t.equal(sampleValue(m, `${P}held`), 1)
})

t.test('durations: buckets and sums per kind; Interrupted scans are counted but have no duration', async t => {
  const dir = mkdtempSync(join(tmpdir(), 'pfim-m-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const store = openStore(stateDbPath(dir))
  t.teardown(() => store.close())
  const insert = store.db.prepare("INSERT INTO scans (kind, trigger, started_at, finished_at, condition) VALUES (?, 'schedule', 0, ?, ?)")
  insert.run('check', 2_000, 'Succeeded')
  insert.run('check', 45_000, 'Failed')
  insert.run('check', 500_000, 'Interrupted')
  insert.run('init', 20_000, 'Errored')
  store.db.prepare("INSERT INTO scans (kind, trigger, started_at, condition) VALUES ('check', 'manual', 0, 'Running')").run()
  const m = parseExposition(new AgentMetrics({ store, now: Date.now }).collect(statusWith([])).render())
  t.equal(sampleValue(m, `${P}scans_total`, { kind: 'check', condition: 'Interrupted' }), 1)
  t.equal(sampleValue(m, `${P}scan_duration_seconds_count`, { kind: 'check' }), 2, 'the Interrupted and the Running scan have no duration')
  t.equal(sampleValue(m, `${P}scan_duration_seconds_sum`, { kind: 'check' }), 47)
  t.equal(sampleValue(m, `${P}scan_duration_seconds_bucket`, { kind: 'check', le: '1' }), 0)
  t.equal(sampleValue(m, `${P}scan_duration_seconds_bucket`, { kind: 'check', le: '5' }), 1)
  t.equal(sampleValue(m, `${P}scan_duration_seconds_bucket`, { kind: 'check', le: '60' }), 2)
  t.equal(sampleValue(m, `${P}scan_duration_seconds_bucket`, { kind: 'check', le: '+Inf' }), 2)
  t.equal(sampleValue(m, `${P}scan_duration_seconds_bucket`, { kind: 'init', le: '15' }), 0)
  t.equal(sampleValue(m, `${P}scan_duration_seconds_bucket`, { kind: 'init', le: '30' }), 1)
})

t.test('every metric family is documented in the README\'s metrics table, and nothing else is', async t => {
  const dir = mkdtempSync(join(tmpdir(), 'pfim-m-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const store = openStore(stateDbPath(dir))
  t.teardown(() => store.close())
  const names = (new AgentMetrics({ store, now: Date.now }).collect(statusWith([])).toJSON() as Array<{ name: string }>).map(f => f.name)
  const readme = readFileSync('README.md', 'utf8')
  const documented = new Set([...readme.matchAll(/`(podsec_fim_agent_[a-z_]+)`/g)].map(m => m[1]))
  t.same([...documented].sort(), [...names].sort())
})

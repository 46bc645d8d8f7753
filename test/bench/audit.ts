/**
 * Audit-log catch-up through the audit watcher (tailer + findings in SQLite + forbidden.log) against
 * the least any reader must do: read the file and JSON.parse every line. Two logs: a normal one
 * (5% denials from 20 repeated requests, which collapse) and a flood of distinct denials (each a
 * new finding and a forbidden.log record).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { AuditWatcher } from '../../src/agent/audit-watcher.js'
import { FindingStore } from '../../src/agent/findings.js'
import { openStore } from '../../src/agent/store.js'
import { NO_SYSLOG } from '../../src/agent/syslog.js'
import { parseConfig } from '../../src/core/config.js'
import { sinkLogger } from '../helpers/agent.js'

const LINES = Number(process.env.BENCH_AUDIT_LINES ?? 50_000)

function line (i: number, isDenial: boolean, distinct: number): string {
  const name = `s${i % distinct}`
  return JSON.stringify({
    kind: 'Event', apiVersion: 'audit.k8s.io/v1', level: 'Metadata', auditID: `00000000-0000-0000-0000-${String(i).padStart(12, '0')}`, stage: 'ResponseComplete',
    requestURI: `/api/v1/namespaces/default/secrets/${name}`, verb: 'get', user: { username: 'alice', groups: ['system:authenticated'] },
    sourceIPs: ['10.0.0.1'], userAgent: 'kubectl/v1.34.0 (linux/amd64) kubernetes/abcdef', objectRef: { resource: 'secrets', namespace: 'default', name, apiVersion: 'v1' },
    responseStatus: isDenial ? { code: 403, message: `secrets "${name}" is forbidden: User "alice" cannot get resource "secrets"` } : { code: 200, metadata: {} },
    requestReceivedTimestamp: '2026-11-23T10:00:00.000000Z', stageTimestamp: '2026-11-23T10:00:00.001000Z',
  })
}

function timedMs (fn: () => void): number {
  const t0 = process.hrtime.bigint()
  fn()
  return Number(process.hrtime.bigint() - t0) / 1e6
}

async function catchUp (root: string, name: string, text: string): Promise<number> {
  const dir = join(root, name)
  const auditLog = join(dir, 'audit.log')
  mkdirSync(dir, { recursive: true })
  writeFileSync(auditLog, text)
  const config = parseConfig({ audit: { path: auditLog, forbiddenLog: join(dir, 'forbidden.log') } }, {})
  const store = openStore(join(dir, 'state.db'))
  const findings = new FindingStore(store.db, { now: Date.now, outbox: null, burstMs: { 'audit-denial': 60_000 } })
  const watcher = new AuditWatcher({ config: config.audit, store, findings, syslog: NO_SYSLOG, log: sinkLogger([]), now: Date.now, tickMs: 3_600_000 })
  const t0 = process.hrtime.bigint()
  await watcher.start() // reads the first batch; the rest follow on the next turns of the event loop
  while (!(watcher.health().detail ?? '').includes(`; ${LINES} lines`)) await new Promise(resolve => setImmediate(resolve))
  const ms = Number(process.hrtime.bigint() - t0) / 1e6
  await watcher.close()
  store.close()
  return ms
}

export async function auditRatio (root: string): Promise<void> {
  const logs = {
    normal: Array.from({ length: LINES }, (_, i) => line(i, i % 20 === 0, 20)).join('\n') + '\n',
    flood: Array.from({ length: LINES }, (_, i) => line(i, true, LINES)).join('\n') + '\n',
  }
  for (const [name, text] of Object.entries(logs)) {
    const file = join(root, `${name}-baseline.log`)
    writeFileSync(file, text)
    // Median of three, so the first (cold) run does not flatter the watcher.
    const baseRuns = [0, 1, 2].map(() => timedMs(() => { for (const l of readFileSync(file, 'utf8').split('\n')) if (l !== '') JSON.parse(l) }))
    const baseMs = baseRuns.sort((a, b) => a - b)[1] as number
    const watcherMs = await catchUp(root, name, text)
    console.log(`audit log catch-up, ${LINES} lines (${name}): watcher ${watcherMs.toFixed(0)} ms (${Math.round(LINES / watcherMs * 1000)} lines/s), read + JSON.parse ${baseMs.toFixed(0)} ms, ratio ${(watcherMs / baseMs).toFixed(2)}`)
  }
}

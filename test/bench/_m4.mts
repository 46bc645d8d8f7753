import { rmSync, mkdtempSync } from 'node:fs'
import { join } from 'node:path'
import { openStore } from '../../src/agent/store.js'
import { FindingStore } from '../../src/agent/findings.js'
const N = 100000
for (const drop of [[], ['findings_open_bursts'], ['findings_open_bursts', 'findings_time'], ['findings_open_bursts', 'findings_time', 'findings_kind']]) for (const small of [false, true]) {
  const dir = mkdtempSync('/tmp/m4-')
  const store = openStore(join(dir, 'state.db'))
  for (const d of drop) store.db.exec(`DROP INDEX ${d}`)
  const f = new FindingStore(store.db, { now: Date.now, outbox: null, burstMs: { 'audit-denial': 60000 } })
  const mk = (i: number) => ({ kind: 'audit-denial' as const, severity: 'critical' as const, subject: 'alice', message: `secrets "s${i}" is forbidden: User "alice" cannot get resource "secrets"`, fingerprint: `fp${i}-${'x'.repeat(58)}`, details: small ? {} : { time: '2026-11-23T10:00:00.000000Z', auditId: '00000000-0000-0000-0000-000000000001', user: 'alice', groups: ['system:authenticated'], verb: 'get', resource: 'secrets', subresource: null, namespace: 'default', name: `s${i}`, requestUri: `/api/v1/namespaces/default/secrets/s${i}`, sourceIps: ['10.0.0.1'], userAgent: 'kubectl/v1.34.0 (linux/amd64) kubernetes/abcdef', code: 403, message: `secrets "s${i}" is forbidden: User "alice" cannot get resource "secrets"` } })
  const inputs = []; for (let i = 0; i < N; i++) inputs.push(mk(i))
  const t0 = performance.now()
  for (let b = 0; b < N; b += 2000) store.db.transaction(() => f.recordAll(inputs.slice(b, b + 2000)))()
  console.log(`drop ${drop.join(',')} small ${small}`, ((performance.now() - t0) / N * 1000).toFixed(1), 'µs/finding')
  store.close(); rmSync(dir, { recursive: true })
}

/** Findings and syslog lines the container watcher emits: labels, escaping, the summary text. */
import t from 'tap'
import { containerLabel, fileReport, storageReport, summaryReport } from '../../src/agent/container-report.js'
import type { ContainerRecord } from '../../src/agent/container-storage.js'
import { classify } from '../../src/agent/container-classify.js'
import { AppError } from '../../src/core/errors.js'

const record = (over: Partial<ContainerRecord> = {}): ContainerRecord => ({
  id: 'a'.repeat(64), name: 'nginx', names: ['k8s_nginx_web-0_shop_u_0'], layer: 'b'.repeat(64), upperDir: '/s/overlay/b/diff',
  pod: 'web-0', namespace: 'shop', image: 'nginx:1.27', infra: false, ...over,
})

t.test('labels: namespace/pod/container for Kubernetes, the name for podman, one token always', async t => {
  t.equal(containerLabel(record()), 'shop/web-0/nginx')
  t.equal(containerLabel(record({ pod: null, namespace: null, name: 'db' })), 'db')
  t.equal(containerLabel(record({ pod: null, namespace: null, name: 'my db\nCritical: x' })), 'my\\x20db\\nCritical:\\x20x')
})

t.test('a file change: finding details and the podsec line; info has no line', async t => {
  const change = { path: Buffer.from('/etc/shadow'), event: 'MODIFY', mode: 0o100640, whiteout: false }
  const r = fileReport('/s', record(), change, classify('/etc/shadow', 'MODIFY', 0o100640)!)
  t.match(r.finding, { kind: 'container-file', severity: 'warning', subject: '/etc/shadow', details: { mode: '0640', event: 'MODIFY', storage: '/s', pod: 'web-0' } })
  t.same(r.line, { priority: 'notice', message: 'Warning: An event MODIFY occurred in the container shop/web-0/nginx in configuration directory on the file /etc/shadow' })
  const tmp = { path: Buffer.from('/tmp/x'), event: 'CREATE', mode: 0o100644, whiteout: false }
  t.equal(fileReport('/s', record(), tmp, classify('/tmp/x', 'CREATE', 0o100644)!).line, null)
})

t.test('summary and storage reports', async t => {
  const s = summaryReport(record({ pod: null, namespace: null, name: 'db' }), { key: '/s\0id', count: 57, worst: 'critical', windowStart: 0 }, 60_000, 60)
  t.same(s.line, { priority: 'crit', message: 'Critical: 57 more events occurred in the container db within 60 s and were not reported one by one (limit 60)' })
  t.match(s.finding, { kind: 'container-summary', details: { suppressed: 57, windowStart: '1970-01-01T00:00:00.000Z' } })
  t.equal(summaryReport(undefined, { key: '/s\0gone-id', count: 1, worst: 'info', windowStart: 0 }, 60_000, 60).line, null)
  const err = new AppError('PFIM_CONTAINER_STORAGE_INVALID', '/s/overlay-containers/containers.json: [0].id: expected a 64-hex-digit id\nforged', { where: '/s/overlay-containers/containers.json: [0].id' })
  const bad = storageReport('/s', err)
  t.match(bad.finding, { kind: 'container-storage', subject: '/s/overlay-containers/containers.json: [0].id' })
  t.notOk(bad.line?.message.includes('\n'))
})

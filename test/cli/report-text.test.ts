/** The mail text: subject wording, escaped names, the kubeapi heading, limits, 80 columns. */
import t from 'tap'
import type { DigestReport, EventReport, FindingView } from '../../src/cli/report-model.js'
import { CURSOR_START } from '../../src/cli/report-model.js'
import { denialView } from '../../src/cli/report-denials.js'
import { digestBody, digestSubject, eventBody, eventSubject } from '../../src/cli/report-text.js'
import type { ScanView } from '../../src/core/control-api.js'
import { pathView } from '../../src/cli/path-view.js'
import { denial } from '../helpers/findings.js'

const SCAN: ScanView = {
  id: 7, kind: 'check', trigger: 'schedule', startedAt: '2026-11-23T10:00:00.000Z', finishedAt: '2026-11-23T10:01:00.000Z',
  condition: 'Failed', exitCode: 5, added: 1, changed: 30, removed: 0, unverified: 0, errorCode: null, error: null, detailsPruned: false,
}

function finding (over: Partial<FindingView>): FindingView {
  return {
    id: 1, kind: 'audit-denial', severity: 'critical', observedAt: '2026-11-23T10:00:00.000Z', lastSeenAt: '2026-11-23T10:00:30.000Z',
    subject: 'system:anonymous', message: 'forbidden', count: 1, isRepeat: false, details: { ...denial() }, ...over,
  }
}

function report (over: Partial<EventReport>): EventReport {
  return { kind: 'events', node: 'node-a', generatedAt: '2026-11-23T10:05:00.000Z', since: CURSOR_START, next: CURSOR_START, failures: [], errors: [], findings: [], ...over }
}

const evil = Buffer.concat([Buffer.from('/etc/evil\nname\x1b[31m'), Buffer.from([0xff])])
const files = [{ ...pathView(evil), change: 'added' as const }, ...Array.from({ length: 30 }, (_, i) => ({ ...pathView(Buffer.from(`/etc/f${i}`)), change: 'changed' as const }))]

t.test('subject: counts per kind, denials counted by occurrences', async t => {
  const r = report({
    failures: [{ scan: SCAN, files, stillPresent: 0, comparedWith: null }, { scan: { ...SCAN, id: 8 }, files: [], stillPresent: 2, comparedWith: 7 }],
    errors: [{ scan: { ...SCAN, id: 9, condition: 'Errored', error: 'AIDE error: 17 bad\nline', errorCode: 'PFIM_AIDE_FAILED' }, files: [], stillPresent: 0, comparedWith: null }],
    findings: [finding({ count: 4 }), finding({ id: 2, count: 1 }), finding({ id: 3, kind: 'policy', subject: 'policy.json', message: 'insecure\x07' })],
  })
  t.equal(eventSubject(r), 'podsec-fim: node-a: 2 integrity failures, 1 scan error, 5 denied API requests, 1 other finding')
  t.equal(eventSubject(report({ findings: [finding({})], node: 'n\nBcc: x' })), 'podsec-fim: n\\x0aBcc: x: 1 denied API request', 'no header injection through the node name')
  const body = eventBody(r, { limit: 10 })
  t.match(body, '  added    /etc/evil\\nname\\x1b[31m\\xff\n', 'file names are escaped, one per line')
  t.match(body, '  ... and 21 more\n')
  t.match(body, '(2 differences already seen in scan 7 are still present)')
  t.match(body, '  error: AIDE error: 17 bad\\x0aline (PFIM_AIDE_FAILED)')
  t.match(body, 'Denied API requests\n-------------------\n\nDetected requests to the kubernetes cluster with excess authority\n')
  t.match(body, '2026-11-23T10:00:00Z  403  system:anonymous  (x4, last 2026-11-23T10:00:30Z)\n  get secrets (kube-system/admin-token)\n  from 192.168.122.1\n  user agent: curl/8.5.0\n')
  t.match(body, 'insecure\\x07')
  t.notMatch(body, /[\x00-\x09\x0b-\x1f\x7f]/, 'no control character but newlines')
  const long = body.split('\n').filter(l => l.length > 80 && !l.includes('/etc/'))
  t.same(long, [], 'the fixed text fits 80 columns')
})

t.test('a denial written by another version still renders from what it has', async t => {
  t.same(denialView(finding({ details: { requestUri: '/api', sourceIps: ['10.0.0.1', 7, '10.0.0.2'] } })), {
    time: '2026-11-23T10:00:00.000Z', code: null, user: 'system:anonymous', verb: '-', resource: '/api', sourceIp: '10.0.0.1, 10.0.0.2', userAgent: '-',
  })
  t.same(denialView(finding({ details: {} })).resource, '-')
})

t.test('digest: state, baseline and last check in 80 columns', async t => {
  const d: DigestReport = {
    kind: 'digest', node: 'node-a', generatedAt: '2026-11-23T10:05:00.000Z', from: '2026-11-22T10:05:00.000Z', to: '2026-11-23T10:05:00.000Z',
    scans: { Succeeded: 95, Failed: 1, Errored: 0, Interrupted: 0 }, findings: [{ kind: 'audit-denial', findings: 2, events: 12 }],
    baseline: { scanId: 1, createdAt: '2026-11-01T00:00:00.000Z', sha256: 'ab'.repeat(32), size: 99_999_999 },
    lastCheck: { ...SCAN, id: 12345, added: 12345, changed: 12345, removed: 12345 }, open: { scan: SCAN, files, stillPresent: 0, comparedWith: null, since: 7 },
  }
  t.equal(digestSubject(d), 'podsec-fim: node-a: daily digest: FAILED, 1 integrity failure, 12 denied API requests')
  const body = digestBody(d, { limit: 5 })
  t.match(body, 'last check:  2026-11-23T10:00:00Z  scan 12345 Failed (+12345 ~12345 -12345)\n')
  t.match(body, 'Still open: failing since scan 7\n')
  t.same(body.split('\n').filter(l => l.length > 80), [])
  t.equal(digestSubject({ ...d, open: null, lastCheck: { ...SCAN, condition: 'Succeeded' }, scans: { Succeeded: 96 }, findings: [] }), 'podsec-fim: node-a: daily digest: OK, 0 integrity failures, 0 denied API requests')
})

import t from 'tap'
import { checkAck, checkDirectiveResponse, checkReportBatch, parseBody, type ScanPayload } from '../../src/core/protocol.js'

const scan: ScanPayload = {
  scanId: 3, kind: 'check', trigger: 'schedule', condition: 'Failed', startedAt: '2026-11-23T10:00:00.000Z', finishedAt: '2026-11-23T10:00:05Z',
  exitCode: 4, added: 0, changed: 1, removed: 0, unverified: 0, errorCode: null, error: null, logGzipBase64: null, logBytes: 0,
  files: { added: [], changed: ['/etc/hosts'], removed: [] }, filesTruncated: false, reinitToken: null,
}
const batch = {
  node: 'node-a',
  reports: [
    { seq: 1, at: '2026-11-23T10:00:05Z', kind: 'scan', payload: scan },
    { seq: 2, at: '2026-11-23T10:00:06Z', kind: 'finding', payload: { findingId: 1, kind: 'kubeapi-denial', severity: 'warning', observedAt: '2026-11-23T10:00:06Z', subject: 'alice', message: 'forbidden', count: 1, details: {} } },
    { seq: 3, at: '2026-11-23T10:00:07Z', kind: 'heartbeat', payload: { agentVersion: '0.1.0', aideVersion: 'AIDE 0.18.3', state: 'active', backlog: 0, lastScanId: 3, directiveVersion: null } },
  ],
}

t.test('a valid batch round-trips through JSON', async t => {
  t.same(parseBody(JSON.stringify(batch), checkReportBatch), batch)
})

const broken: Array<[string, (b: typeof batch) => unknown, string]> = [
  ['not JSON', () => '{', 'body'],
  ['bad node name', b => ({ ...b, node: 'Node A' }), 'body.node'],
  ['unknown top field', b => ({ ...b, extra: true }), 'body.extra'],
  ['seq not increasing', b => ({ ...b, reports: [b.reports[1], b.reports[0]] }), 'body.reports[1].seq'],
  ['unknown kind', b => ({ ...b, reports: [{ ...b.reports[0], kind: 'gossip' }] }), 'body.reports[0].kind'],
  ['payload of the wrong kind', b => ({ ...b, reports: [{ ...b.reports[0], kind: 'heartbeat' }] }), 'body.reports[0].payload.scanId'],
  ['bad condition', b => ({ ...b, reports: [{ ...b.reports[0], payload: { ...scan, condition: 'Maybe' } }] }), 'body.reports[0].payload.condition'],
  ['negative count', b => ({ ...b, reports: [{ ...b.reports[0], payload: { ...scan, changed: -1 } }] }), 'body.reports[0].payload.changed'],
  ['local time', b => ({ ...b, reports: [{ ...b.reports[0], at: '2026-11-23 10:00:00' }] }), 'body.reports[0].at'],
  ['missing files', b => ({ ...b, reports: [{ ...b.reports[0], payload: { ...scan, files: undefined } }] }), 'body.reports[0].payload.files'],
]
for (const [name, mutate, where] of broken) {
  t.test(`rejects ${name}, naming ${where}`, async t => {
    const value = mutate(batch)
    const text = typeof value === 'string' ? value : JSON.stringify(value)
    t.throws(() => parseBody(text, checkReportBatch), { code: 'PFIM_PROTOCOL_INVALID', where })
  })
}

t.test('ack and directive shapes', async t => {
  t.same(checkAck({ node: 'n1', ackedSeq: 4 }, 'body'), { node: 'n1', ackedSeq: 4 })
  t.throws(() => checkAck({ node: 'n1' }, 'body'), { name: 'SchemaError', where: 'body.ackedSeq' })
  const d = { node: 'n1', directive: { version: 'abc', fileIntegrity: { name: 'worker-fileintegrity', namespace: 'openshift-file-integrity' }, gracePeriod: 900, debug: false, aideConfig: null, holdoff: false, reinitToken: 'r1' } }
  t.match(checkDirectiveResponse(d, 'body'), d)
  t.throws(() => checkDirectiveResponse({ ...d, directive: { ...d.directive, gracePeriod: 5 } }, 'body'), { name: 'SchemaError', where: 'body.directive.gracePeriod' })
})

import t from 'tap'
import { denialScreen, forbiddenLogRecord, parseAuditLine, MAX_AUDIT_LINE_BYTES, type AuditDenial } from '../../src/agent/audit-event.js'
import { auditLines, kubeFixture } from '../helpers/kube.js'
import { until } from '../helpers/until.js'

const denied = {
  kind: 'Event', apiVersion: 'audit.k8s.io/v1', level: 'Metadata', auditID: 'a1', stage: 'ResponseComplete',
  requestURI: '/api/v1/namespaces/default/secrets', verb: 'list',
  user: { username: 'alice', groups: ['system:authenticated'] }, sourceIPs: ['192.168.122.1', '10.0.0.1'], userAgent: 'kubectl/v1.36.4',
  objectRef: { resource: 'secrets', namespace: 'default', apiVersion: 'v1' },
  responseStatus: { metadata: {}, status: 'Failure', message: 'secrets is forbidden: User "alice" cannot list resource "secrets"', reason: 'Forbidden', code: 403 },
  requestReceivedTimestamp: '2026-11-23T10:00:00.123456Z', stageTimestamp: '2026-11-23T10:00:00.125000Z',
}

t.test('a 403 becomes a denial with who, what and from where', async t => {
  t.same(parseAuditLine(JSON.stringify(denied), 1), {
    time: '2026-11-23T10:00:00.123456Z', auditId: 'a1', user: 'alice', groups: ['system:authenticated'], verb: 'list',
    resource: 'secrets', subresource: null, namespace: 'default', name: null, requestUri: '/api/v1/namespaces/default/secrets',
    sourceIps: ['192.168.122.1', '10.0.0.1'], userAgent: 'kubectl/v1.36.4', code: 403, message: denied.responseStatus.message,
  })
})

t.test('only the configured codes count; a stage without a response is not a denial', async t => {
  const notFound = { ...denied, responseStatus: { ...denied.responseStatus, code: 404 } }
  t.equal(parseAuditLine(JSON.stringify(notFound), 1), null, '404 is not a denial by default (podsec counted every >= 400)')
  t.equal(parseAuditLine(JSON.stringify(notFound), 1, [404])?.code, 404)
  const { responseStatus: _omitted, ...received } = { ...denied, stage: 'RequestReceived' }
  void _omitted
  t.equal(parseAuditLine(JSON.stringify(received), 1), null)
})

t.test('podsec\'s forbidden.log record, byte-compatible', async t => {
  const d = parseAuditLine(JSON.stringify(denied), 1) as AuditDenial
  t.equal(forbiddenLogRecord(d), '["2026-11-23T10:00:00.123456Z","192.168.122.1","secrets is forbidden: User \\"alice\\" cannot list resource \\"secrets\\""]')
  t.equal(forbiddenLogRecord({ ...d, sourceIps: [] }).split(',')[1], 'null')
})

const malformed: Array<[string, string, RegExp]> = [
  ['not JSON', '{"kind": "Event",', /not JSON/],
  ['a JSON array', '[1,2]', /not a JSON object/],
  ['another kind', JSON.stringify({ ...denied, kind: 'Pod' }), /not an audit.k8s.io\/v1 Event/],
  ['another API version', JSON.stringify({ ...denied, apiVersion: 'audit.k8s.io/v1beta1' }), /not an audit.k8s.io\/v1 Event/],
  ['a code that is not an integer', JSON.stringify({ ...denied, responseStatus: { code: '403' } }), /responseStatus.code/],
  ['a denial without a user', JSON.stringify({ ...denied, user: undefined }), /without/],
  ['an oversized line', JSON.stringify({ ...denied, userAgent: 'x'.repeat(MAX_AUDIT_LINE_BYTES) }), /longer than/],
]
for (const [what, line, message] of malformed) {
  t.test(`rejects ${what}, naming the line`, async t => {
    t.throws(() => parseAuditLine(line, 42), { code: 'PFIM_AUDIT_LINE_INVALID', where: 'line 42', message })
  })
}

t.test('the screen skips only lines that cannot hold a denial code', async t => {
  const mayHold = denialScreen([401, 403])
  const go = (event: object): Buffer => Buffer.from(JSON.stringify(event))
  const ok = { ...denied, responseStatus: { metadata: {}, code: 200 } }
  t.equal(mayHold(go(ok)), false, 'a 200 written as the kube-apiserver writes it is skipped unparsed')
  t.equal(mayHold(go(denied)), true, 'a 403 is parsed')
  t.equal(mayHold(go({ ...denied, responseStatus: { code: 401 } })), true, 'a 401 is parsed')
  t.equal(mayHold(go({ ...ok, requestURI: '/api/v1/namespaces/ns403/pods' })), true, "the code's digits anywhere: parsed, and the parse decides")
  t.equal(parseAuditLine(JSON.stringify({ ...ok, requestURI: '/api/v1/namespaces/ns403/pods' }), 1), null)
  t.equal(mayHold(go(ok).subarray(0, 200)), true, 'a cut line (no closing brace) is parsed, so it is counted as malformed')
  t.equal(mayHold(Buffer.from(JSON.stringify({ apiVersion: 'audit.k8s.io/v1', kind: 'Event', responseStatus: { code: 200 } }))), true, 'another key order: parsed')
  t.equal(mayHold(Buffer.from('{"kind": "Event", "apiVersion": "audit.k8s.io/v1", "code": 200}')), true, 'whitespace: parsed')
  t.equal(mayHold(Buffer.from('')), true, 'an empty line is left to the parser')
  t.equal(denialScreen([418])(go(ok)), false)
  t.equal(denialScreen([418])(go({ ...ok, responseStatus: { code: 418 } })), true, 'the configured codes decide')
})

t.test('denials written by the real kube-apiserver', async t => {
  const kube = await kubeFixture(t)
  const bob = await kube.makeClientCert('bob', ['dev'])
  const r = await kube.kubectl(['get', 'secrets', '-n', 'kube-system'], { kubeconfig: bob.kubeconfig })
  t.not(r.code, 0, 'bob is refused')
  // The ResponseComplete event can land in the file just after kubectl saw the answer.
  const denial = await until('bob\'s denial in the audit log', () => auditLines(kube.auditLogPath).map((l, n) => parseAuditLine(l, n + 1)).find(d => d?.user === 'bob'))
  t.match(denial, { user: 'bob', groups: ['dev', 'system:authenticated'], verb: 'list', resource: 'secrets', namespace: 'kube-system', code: 403, sourceIps: ['127.0.0.1'], userAgent: /^kubectl\// })
  t.match(denial?.message, /forbidden: User "bob" cannot list resource "secrets"/)
  const lines = auditLines(kube.auditLogPath)
  const mayHold = denialScreen([401, 403])
  const skipped = lines.filter(l => !mayHold(Buffer.from(l)))
  t.ok(skipped.length > lines.length / 2, `the screen knows how the real kube-apiserver writes events: ${skipped.length} of ${lines.length} lines skipped unparsed`)
  t.same(skipped.filter(l => parseAuditLine(l, 1) !== null), [], 'no skipped line held a denial')
})

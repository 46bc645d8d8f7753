/* eslint-disable @typescript-eslint/no-explicit-any -- kubectl and protocol JSON is untyped here; the assertions are what check its shape */
// The aggregator against the real kube-apiserver, driven by HTTPS requests as agents make them
// (node client certificates, protocol v1 bodies). End-to-end runs with real agents are in e2e.test.ts.
import t from 'tap';
import { gzipSync } from 'node:zlib';
import { aggregatorBed, NAMESPACE, waitFor } from '../helpers/aggregator.js';

const at = (s: number) => new Date(Date.UTC(2026, 10, 23, 12, 0, s)).toISOString();

function scan(seq: number, over: Record<string, unknown> = {}) {
  const log = 'AIDE found differences between database and filesystem!!\n\nSummary:\n  Total number of entries:\t3\n  Added entries:\t\t0\n  Removed entries:\t\t0\n  Changed entries:\t\t1\n\nChanged entries:\nf   ...    .C... : /etc/resolv.conf\n';
  return {
    seq, at: at(seq), kind: 'scan',
    payload: {
      scanId: seq, kind: 'check', trigger: 'schedule', condition: 'Failed', startedAt: at(seq), finishedAt: at(seq), exitCode: 4,
      added: 0, changed: 1, removed: 0, unverified: 0, errorCode: null, error: null,
      logGzipBase64: gzipSync(log).toString('base64'), logBytes: log.length,
      files: { added: [], changed: ['/etc/resolv.conf'], removed: [] }, filesTruncated: false, reinitToken: null, ...over,
    },
  };
}
const ok = (seq: number, over: Record<string, unknown> = {}) => scan(seq, { condition: 'Succeeded', exitCode: 0, changed: 0, logGzipBase64: null, logBytes: 0, files: { added: [], changed: [], removed: [] }, ...over });

t.test('results become FIO objects; nodes speak only for themselves', async (t) => {
  const bed = await aggregatorBed(t);
  await bed.kube.createNode('node-a', { 'node-role.kubernetes.io/worker': '' });
  await bed.kube.createNode('node-b', { 'node-role.kubernetes.io/worker': '' });
  await bed.k(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'fileintegrity.openshift.io/v1alpha1', kind: 'FileIntegrity', metadata: { name: 'worker', namespace: NAMESPACE }, spec: { nodeSelector: { 'node-role.kubernetes.io/worker': '' }, config: { gracePeriod: 20 } } }));
  await bed.agg.reconcile();
  const a = await bed.nodeCreds('node-a');
  const b = await bed.nodeCreds('node-b');

  let r = await bed.post(a, '/v1/reports', { node: 'node-a', reports: [ok(1)] });
  t.same(r, { status: 200, json: { node: 'node-a', ackedSeq: 1 } });
  r = await bed.post(b, '/v1/reports', { node: 'node-b', reports: [ok(1)] });
  t.equal(r.status, 200);
  const table = await bed.k(['get', 'fileintegritynodestatuses', '-n', NAMESPACE]);
  t.match(table, /NAME\s+NODE\s+STATUS/);
  t.match(table, /worker-node-a\s+node-a\s+Succeeded/);
  t.match(table, /worker-node-b\s+node-b\s+Succeeded/);

  r = await bed.post(a, '/v1/reports', { node: 'node-a', reports: [scan(2)] });
  t.equal(r.json.ackedSeq, 2, JSON.stringify(r.json));
  const status = await bed.getJson(['get', 'fileintegritynodestatus', 'worker-node-a', '-n', NAMESPACE]);
  t.equal(status.lastResult.condition, 'Failed');
  t.equal(status.lastResult.filesChanged, 1);
  t.equal(status.lastResult.filesAdded, undefined, 'zero counts are omitted as in FIO');
  t.equal(status.lastResult.resultConfigMapName, 'aide-worker-node-a-failed');
  t.same(status.results.map((x: any) => x.condition).sort(), ['Failed', 'Succeeded'], 'one result per condition');
  const cm = await bed.getJson(['get', 'configmap', 'aide-worker-node-a-failed', '-n', NAMESPACE]);
  t.match(cm.data.integritylog, '/etc/resolv.conf');
  t.same(cm.metadata.annotations, { 'file-integrity.openshift.io/files-added': '0', 'file-integrity.openshift.io/files-changed': '1', 'file-integrity.openshift.io/files-removed': '0' });
  t.same(cm.metadata.labels, { 'file-integrity.openshift.io/owner': 'worker', 'file-integrity.openshift.io/node': 'node-a', 'file-integrity.openshift.io/result-log': '' });
  t.equal(cm.metadata.ownerReferences, undefined, 'the failure log outlives the FileIntegrity, as in FIO');
  const events = await bed.getJson(['get', 'events', '-n', NAMESPACE, '--field-selector', 'reason=NodeIntegrityStatus']);
  const messages = events.items.map((e: any) => `${e.type} ${e.message}`).sort();
  t.same(messages, ['Normal no changes to node node-a', 'Normal no changes to node node-b', `Warning node node-a has changed! a:0,c:1,r:0 log:${NAMESPACE}/aide-worker-node-a-failed`]);
  const metrics = await bed.get(null, '/metrics');
  t.match(metrics.json, /^file_integrity_operator_node_failed\{node="node-a"\} 1$/m);
  t.match(metrics.json, /^file_integrity_operator_node_failed\{node="node-b"\} 0$/m);

  // Object versions, not the client's write count: the phase reconciler may write the FileIntegrity
  // at any moment, and that is not what these requests are about.
  const version = async (name: string): Promise<string> => (await bed.getJson(['get', 'fileintegritynodestatus', name, '-n', NAMESPACE])).metadata.resourceVersion;
  const [versionA, versionB] = [await version('worker-node-a'), await version('worker-node-b')];
  r = await bed.post(a, '/v1/reports', { node: 'node-a', reports: [scan(2)] });
  t.same(r.json, { node: 'node-a', ackedSeq: 2 }, 'a re-sent report is acknowledged');
  t.equal(await version('worker-node-a'), versionA, 'and writes nothing');

  r = await bed.post(a, '/v1/reports', { node: 'node-b', reports: [scan(3)] });
  t.equal(r.status, 403, "node-a's certificate cannot report for node-b");
  t.equal(r.json.error.code, 'PFIM_FORBIDDEN');
  t.equal(await version('worker-node-b'), versionB, 'nothing written for a forged report');
  t.equal((await bed.getJson(['get', 'fileintegritynodestatus', 'worker-node-b', '-n', NAMESPACE])).lastResult.condition, 'Succeeded');

  r = await bed.post(null, '/v1/reports', { node: 'node-a', reports: [scan(3)] });
  t.equal(r.status, 401, 'no credential');
  const admin = await bed.kube.makeClientCert('alice', ['developers']);
  const { readFile } = await import('node:fs/promises');
  r = await bed.post({ node: 'alice', certFile: '', keyFile: '', cert: await readFile(admin.certFile), key: await readFile(admin.keyFile) }, '/v1/reports', { node: 'node-a', reports: [scan(3)] });
  t.equal(r.status, 403, 'a cluster user who is not a node');

  r = await bed.post(a, '/v1/reports', { node: 'node-a', reports: [{ ...scan(3), payload: { ...scan(3).payload, changed: 'one' } }] });
  t.equal(r.status, 400);
  t.match(r.json.error.message, 'body.reports[0].payload.changed');
  r = await bed.post(a, '/v1/reports', '{"node": "node-a", "reports": [');
  t.equal(r.status, 400);

  await bed.agg.reconcile();
  const fi = await bed.getJson(['get', 'fileintegrity', 'worker', '-n', NAMESPACE]);
  t.equal(fi.status.phase, 'Active');
  t.match(await bed.k(['get', 'fileintegrities', '-n', NAMESPACE]), /worker\s+Active/);

  await bed.k(['delete', 'node', 'node-b']);
  await bed.agg.reconcile();
  await waitFor('the status of the deleted node to go', async () => {
    const r = await bed.kube.kubectl(['get', 'fileintegritynodestatus', 'worker-node-b', '-n', NAMESPACE]);
    return r.code !== 0 ? true : undefined;
  });
});

t.test('re-init, holdoff and config become directives; phases follow', async (t) => {
  const bed = await aggregatorBed(t);
  await bed.kube.createNode('node-a', { role: 'w' });
  await bed.kube.createNode('node-b', { role: 'w' });
  await bed.k(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'fileintegrity.openshift.io/v1alpha1', kind: 'FileIntegrity', metadata: { name: 'fi', namespace: NAMESPACE }, spec: { nodeSelector: { role: 'w' }, config: { maxBackups: 1 } } }));
  await bed.agg.reconcile();
  const a = await bed.nodeCreds('node-a');
  const b = await bed.nodeCreds('node-b');
  let d = await bed.get(a, '/v1/directives?after=&waitSeconds=0');
  t.equal(d.status, 200);
  t.match(d.json.directive, { fileIntegrity: { name: 'fi', namespace: NAMESPACE }, gracePeriod: 900, maxBackups: 1, holdoff: false, reinitToken: null, aideConfig: null });
  t.equal((await bed.getJson(['get', 'fileintegrity', 'fi', '-n', NAMESPACE])).status.phase, 'Pending');
  await bed.post(a, '/v1/reports', { node: 'node-a', reports: [ok(1)] });
  await bed.agg.reconcile();
  t.equal((await bed.getJson(['get', 'fileintegrity', 'fi', '-n', NAMESPACE])).status.phase, 'Initializing', 'node-b has not reported');
  await bed.post(b, '/v1/reports', { node: 'node-b', reports: [ok(1)] });
  await bed.agg.reconcile();
  t.equal((await bed.getJson(['get', 'fileintegrity', 'fi', '-n', NAMESPACE])).status.phase, 'Active');

  // A long-poll waiting on the current version wakes when holdoff names this node.
  const version = d.json.directive.version;
  const held = bed.get(a, `/v1/directives?after=${version}&waitSeconds=60`);
  await bed.k(['annotate', 'fileintegrity', 'fi', '-n', NAMESPACE, 'file-integrity.openshift.io/holdoff=node-a']);
  d = await held;
  t.equal(d.json.directive.holdoff, true);
  t.not(d.json.directive.version, version);
  t.equal((await bed.get(b, '/v1/directives?waitSeconds=0')).json.directive.holdoff, false, 'node-b is not held');
  await bed.k(['annotate', 'fileintegrity', 'fi', '-n', NAMESPACE, 'file-integrity.openshift.io/holdoff-']);

  await bed.k(['annotate', 'fileintegrity', 'fi', '-n', NAMESPACE, 'file-integrity.openshift.io/re-init=']);
  await bed.agg.reconcile();
  const fi = await bed.getJson(['get', 'fileintegrity', 'fi', '-n', NAMESPACE]);
  t.equal(fi.metadata.annotations['file-integrity.openshift.io/re-init'], undefined, 'the annotation is consumed');
  t.equal(fi.status.phase, 'Initializing');
  const tokenA = (await bed.get(a, '/v1/directives?waitSeconds=0')).json.directive.reinitToken;
  const tokenB = (await bed.get(b, '/v1/directives?waitSeconds=0')).json.directive.reinitToken;
  t.ok(tokenA && tokenB && tokenA !== tokenB, 'each node gets its own re-init token');
  await bed.post(a, '/v1/reports', { node: 'node-a', reports: [ok(2, { kind: 'init', reinitToken: tokenA })] });
  await bed.agg.reconcile();
  t.equal((await bed.get(a, '/v1/directives?waitSeconds=0')).json.directive.reinitToken, null, 'done once reported');
  t.equal((await bed.getJson(['get', 'fileintegrity', 'fi', '-n', NAMESPACE])).status.phase, 'Initializing', 'node-b still re-initializes');
  await bed.post(b, '/v1/reports', { node: 'node-b', reports: [ok(2, { kind: 'init', reinitToken: tokenB })] });
  await bed.agg.reconcile();
  t.equal((await bed.getJson(['get', 'fileintegrity', 'fi', '-n', NAMESPACE])).status.phase, 'Active');

  // re-init-on-failed: only the failed node.
  await bed.post(a, '/v1/reports', { node: 'node-a', reports: [scan(3)] });
  await bed.k(['annotate', 'fileintegrity', 'fi', '-n', NAMESPACE, 'file-integrity.openshift.io/re-init-on-failed=']);
  await bed.agg.reconcile();
  t.type((await bed.get(a, '/v1/directives?waitSeconds=0')).json.directive.reinitToken, 'string');
  t.equal((await bed.get(b, '/v1/directives?waitSeconds=0')).json.directive.reinitToken, null);

  // A user config in a ConfigMap is handed out and re-inits every node.
  await bed.k(['create', 'configmap', 'myconf', '-n', NAMESPACE, '--from-literal=aide.conf=/etc CONTENT_EX\n']);
  await bed.k(['patch', 'fileintegrity', 'fi', '-n', NAMESPACE, '--type=merge', '-p', JSON.stringify({ spec: { config: { name: 'myconf', namespace: NAMESPACE } } })]);
  await bed.agg.reconcile();
  const db = (await bed.get(b, '/v1/directives?waitSeconds=0')).json.directive;
  t.equal(db.aideConfig, '/etc CONTENT_EX\n');
  t.type(db.reinitToken, 'string', 'a config change re-inits');

  // An Errored init (bad config) is phase Error.
  await bed.post(b, '/v1/reports', { node: 'node-b', reports: [scan(3, { kind: 'init', condition: 'Errored', exitCode: 17, error: 'Invalid configureline error', changed: 0, reinitToken: db.reinitToken })] });
  const ta = (await bed.get(a, '/v1/directives?waitSeconds=0')).json.directive.reinitToken;
  await bed.post(a, '/v1/reports', { node: 'node-a', reports: [ok(4, { kind: 'init', reinitToken: ta })] });
  await bed.agg.reconcile();
  t.equal((await bed.getJson(['get', 'fileintegrity', 'fi', '-n', NAMESPACE])).status.phase, 'Error');
  const sb = await bed.getJson(['get', 'fileintegritynodestatus', 'fi-node-b', '-n', NAMESPACE]);
  t.equal(sb.lastResult.errorMessage, 'Error initializing the AIDE DB: Invalid configureline error');
  const phases = (await bed.getJson(['get', 'events', '-n', NAMESPACE, '--field-selector', 'reason=FileIntegrityStatus'])).items.map((e: any) => e.message);
  t.same([...new Set(phases)].sort(), ['Active', 'Error', 'Initializing', 'Pending']);
});

t.test('bearer tokens are checked by TokenReview: a node token speaks for its node only', async (t) => {
  const { mkdtempSync, writeFileSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { tmpdir } = await import('node:os');
  const dir = mkdtempSync(join(tmpdir(), 'pfim-tokens-'));
  const tokenFile = join(dir, 'tokens.csv');
  // kube-apiserver's static token file: token,user,uid,"group1,group2"
  writeFileSync(tokenFile, 'node-c-secret,system:node:node-c,uid-c,"system:nodes"\nalice-secret,alice,uid-alice,"developers"\n');
  const bed = await aggregatorBed(t, { tokenAuthFile: tokenFile });
  await bed.kube.createNode('node-c', {});
  await bed.k(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'fileintegrity.openshift.io/v1alpha1', kind: 'FileIntegrity', metadata: { name: 'all', namespace: NAMESPACE }, spec: { config: {} } }));
  let r = await bed.post({ token: 'node-c-secret' }, '/v1/reports', { node: 'node-c', reports: [ok(1)] });
  t.same(r, { status: 200, json: { node: 'node-c', ackedSeq: 1 } });
  t.equal((await bed.getJson(['get', 'fileintegritynodestatus', 'all-node-c', '-n', NAMESPACE])).lastResult.condition, 'Succeeded');
  r = await bed.post({ token: 'node-c-secret' }, '/v1/reports', { node: 'node-d', reports: [ok(1)] });
  t.equal(r.status, 403, 'a node token cannot speak for another node');
  r = await bed.post({ token: 'alice-secret' }, '/v1/reports', { node: 'node-c', reports: [ok(2)] });
  t.equal(r.status, 403, 'a user token is not a node');
  t.match(r.json.error.message, 'alice is not a node');
  r = await bed.post({ token: 'made-up' }, '/v1/reports', { node: 'node-c', reports: [ok(2)] });
  t.equal(r.status, 401, 'an unknown token');
  r = await bed.get({ token: 'node-c-secret' }, '/v1/directives?waitSeconds=0');
  t.equal(r.json.directive.fileIntegrity.name, 'all');
});

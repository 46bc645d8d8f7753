/* eslint-disable @typescript-eslint/no-explicit-any -- kubectl JSON is untyped here; the assertions check its shape */
// The whole loop: real agents (real AIDE, SQLite, their own node certificates) report through the
// real aggregator to the real kube-apiserver; what users see is read back with kubectl.
import t from 'tap';
import { appendFileSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { aggregatorBed, NAMESPACE, waitFor, type AggregatorBed } from '../helpers/aggregator.js';
import { postControl, startAgent, treeAideConf, type AgentFixture } from '../helpers/agent.js';

const FI = 'worker';

async function agentFor(t: Parameters<typeof startAgent>[0], bed: AggregatorBed, node: string): Promise<AgentFixture> {
  const c = await bed.nodeCreds(node);
  return await startAgent(t, {
    overrides: {
      nodeName: node, 'aggregator.url': bed.url, 'aggregator.caFile': bed.caFile, 'aggregator.certFile': c.certFile, 'aggregator.keyFile': c.keyFile,
      'aggregator.pollSeconds': 2, 'aggregator.heartbeatSeconds': 5, 'audit.enabled': false,
    },
  });
}

const status = (bed: AggregatorBed, node: string) => bed.getJson(['get', 'fileintegritynodestatus', `${FI}-${node}`, '-n', NAMESPACE]);
const phase = async (bed: AggregatorBed) => (await bed.getJson(['get', 'fileintegrity', FI, '-n', NAMESPACE])).status?.phase;
async function until(bed: AggregatorBed, what: string, probe: () => Promise<boolean>): Promise<void> {
  try {
    await waitFor(what, async () => { await bed.agg.reconcile(); return (await probe().catch(() => false)) ? true : undefined; }, 90_000);
  } catch (err) {
    // What the cluster looked like, so a timeout explains itself.
    const seen = await bed.k(['get', 'fileintegrities,fileintegritynodestatuses', '-n', NAMESPACE, '-o', 'yaml']).catch((e: Error) => e.message);
    throw new Error(`${(err as Error).message}\n${seen}`);
  }
}
const backups = (a: AgentFixture) => readdirSync(join(a.config.stateDir, 'aide')).filter((f) => f.startsWith('aide.db.gz.backup-'));
const check = (a: AgentFixture) => postControl(a.config.socketPath, '/v1/check');

t.test('two nodes, one FileIntegrity: results, failures, re-init, backups', async (t) => {
  const bed = await aggregatorBed(t);
  await bed.kube.createNode('node-a', { 'node-role.kubernetes.io/worker': '' });
  await bed.kube.createNode('node-b', { 'node-role.kubernetes.io/worker': '' });
  await bed.k(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'fileintegrity.openshift.io/v1alpha1', kind: 'FileIntegrity', metadata: { name: FI, namespace: NAMESPACE }, spec: { nodeSelector: { 'node-role.kubernetes.io/worker': '' }, config: { gracePeriod: 3600, initialDelay: 3600, maxBackups: 1 } } }));
  const a = await agentFor(t, bed, 'node-a');
  const b = await agentFor(t, bed, 'node-b');

  await until(bed, 'both nodes Succeeded', async () => {
    const table = await bed.k(['get', 'fileintegritynodestatuses', '-n', NAMESPACE]);
    return /worker-node-a\s+node-a\s+Succeeded/.test(table) && /worker-node-b\s+node-b\s+Succeeded/.test(table);
  });
  t.match(await bed.k(['get', 'fileintegritynodestatuses', '-n', NAMESPACE]), /NAME\s+NODE\s+STATUS/);
  await until(bed, 'phase Active', async () => (await phase(bed)) === 'Active');

  appendFileSync(join(a.tree, 'etc/app.conf'), '#foobar\n');
  t.equal((await check(a)).status, 200);
  await until(bed, 'node-a Failed', async () => (await status(bed, 'node-a')).lastResult.condition === 'Failed');
  const failed = await status(bed, 'node-a');
  t.equal(failed.lastResult.filesChanged, 1);
  const cm = await bed.getJson(['get', 'configmap', failed.lastResult.resultConfigMapName, '-n', NAMESPACE]);
  t.match(cm.data.integritylog, join(a.tree, 'etc/app.conf'), 'the failure log names the changed file');
  const events = await bed.getJson(['get', 'events', '-n', NAMESPACE, '--field-selector', 'reason=NodeIntegrityStatus,type=Warning']);
  t.ok(events.items.some((e: any) => e.message === `node node-a has changed! a:0,c:1,r:0 log:${NAMESPACE}/aide-worker-node-a-failed`), "FIO's Warning event");
  t.match((await bed.get(null, '/metrics')).json, /^file_integrity_operator_node_failed\{node="node-a"\} 1$/m);
  t.equal((await status(bed, 'node-b')).lastResult.condition, 'Succeeded', 'node-b is untouched');

  // re-init-on-failed re-initializes only the failed node.
  const before = { a: backups(a).length, b: backups(b).length };
  await bed.k(['annotate', 'fileintegrity', FI, '-n', NAMESPACE, 'file-integrity.openshift.io/re-init-on-failed=']);
  await until(bed, 'node-a re-initialized and Succeeded', async () => (await status(bed, 'node-a')).lastResult.condition === 'Succeeded' && (await phase(bed)) === 'Active');
  t.equal(backups(a).length, 1, 'node-a backed up its database');
  t.equal(backups(b).length, before.b, 'node-b was not re-initialized');

  // re-init of all nodes, twice, with maxBackups 1: exactly one backup each.
  for (let round = 0; round < 2; round++) {
    const done = a.daemon.store.lastScan('init')?.id;
    await bed.k(['annotate', '--overwrite', 'fileintegrity', FI, '-n', NAMESPACE, 'file-integrity.openshift.io/re-init=']);
    await until(bed, `re-init round ${round + 1} on both nodes`, async () =>
      a.daemon.store.lastScan('init')?.id !== done && (await phase(bed)) === 'Active' &&
      (await status(bed, 'node-a')).lastResult.condition === 'Succeeded' && (await status(bed, 'node-b')).lastResult.condition === 'Succeeded');
  }
  t.equal(backups(a).length, 1, 'maxBackups 1 keeps one backup on node-a');
  t.equal(backups(b).length, 1, 'maxBackups 1 keeps one backup on node-b');
  const fi = await bed.getJson(['get', 'fileintegrity', FI, '-n', NAMESPACE]);
  t.equal(fi.metadata.annotations?.['file-integrity.openshift.io/re-init'], undefined, 'annotations are cleaned up');
  t.equal(fi.metadata.annotations?.['podsec-fim.altlinux.org/reinit-pending'], undefined, 'no re-init left pending');
});

t.test('a user config from a ConfigMap; a bad one is Error until fixed', async (t) => {
  const bed = await aggregatorBed(t);
  await bed.kube.createNode('node-a', { role: 'w' });
  const a = await agentFor(t, bed, 'node-a');
  const extra = join(a.root, 'extra');
  mkdirSync(extra);
  writeFileSync(join(extra, 'watched'), 'x\n');
  const good = treeAideConf(extra);
  await bed.k(['create', 'configmap', 'fi-conf', '-n', NAMESPACE, `--from-literal=conf=${good}`]);
  await bed.k(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'fileintegrity.openshift.io/v1alpha1', kind: 'FileIntegrity', metadata: { name: FI, namespace: NAMESPACE }, spec: { nodeSelector: { role: 'w' }, config: { name: 'fi-conf', namespace: NAMESPACE, key: 'conf', gracePeriod: 3600, initialDelay: 3600 } } }));
  await until(bed, 'Active with the user config', async () => (await phase(bed)) === 'Active' && (await status(bed, 'node-a')).lastResult.condition === 'Succeeded');
  writeFileSync(join(extra, 'watched'), 'changed\n');
  appendFileSync(join(a.tree, 'etc/app.conf'), 'not watched any more\n');
  await check(a);
  await until(bed, 'Failed on the user-selected file', async () => (await status(bed, 'node-a')).lastResult.condition === 'Failed');
  const cm = await bed.getJson(['get', 'configmap', 'aide-worker-node-a-failed', '-n', NAMESPACE]);
  t.match(cm.data.integritylog, join(extra, 'watched'));
  t.notMatch(cm.data.integritylog, 'app.conf', 'the node runs the cluster config, not its own');

  await bed.k(['create', 'configmap', 'fi-conf', '-n', NAMESPACE, '--from-literal=conf=NORMAL = sha513+md5+XXXXXX\n', '--dry-run=client', '-o', 'json'])
    .then((json) => bed.k(['replace', '-f', '-'], json));
  await until(bed, 'phase Error on a bad config', async () => (await phase(bed)) === 'Error');
  t.match((await status(bed, 'node-a')).lastResult.errorMessage, /^Error initializing the AIDE DB: /);
  await bed.k(['create', 'configmap', 'fi-conf', '-n', NAMESPACE, `--from-literal=conf=${good}`, '--dry-run=client', '-o', 'json'])
    .then((json) => bed.k(['replace', '-f', '-'], json));
  await until(bed, 'Active again once fixed', async () => (await phase(bed)) === 'Active' && (await status(bed, 'node-a')).lastResult.condition === 'Succeeded');
});

t.test('10,000 added files with long names: the compressed log', async (t) => {
  const bed = await aggregatorBed(t);
  await bed.kube.createNode('node-a', { role: 'w' });
  await bed.k(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'fileintegrity.openshift.io/v1alpha1', kind: 'FileIntegrity', metadata: { name: FI, namespace: NAMESPACE }, spec: { config: { gracePeriod: 3600, initialDelay: 3600 } } }));
  const a = await agentFor(t, bed, 'node-a');
  await until(bed, 'Succeeded', async () => (await status(bed, 'node-a')).lastResult.condition === 'Succeeded');
  const dir = join(a.tree, 'etc', 'many');
  mkdirSync(dir);
  for (let i = 0; i < 10_000; i++) writeFileSync(join(dir, `${String(i).padStart(5, '0')}-${'very-long-file-name-'.repeat(10)}`), '');
  await check(a);
  await until(bed, 'Failed', async () => (await status(bed, 'node-a')).lastResult.condition === 'Failed');
  const s = await status(bed, 'node-a');
  t.ok(s.lastResult.filesAdded >= 10_000, `filesAdded ${s.lastResult.filesAdded}`);
  const cm = await bed.getJson(['get', 'configmap', 'aide-worker-node-a-failed', '-n', NAMESPACE]);
  t.equal(cm.metadata.annotations['file-integrity.openshift.io/compressed'], '');
  const { gunzipSync } = await import('node:zlib');
  t.match(gunzipSync(Buffer.from(cm.data.integritylog, 'base64')).toString(), '00042-very-long-file-name-');
});

t.test('aggregator down while agents produce results: each applied exactly once', async (t) => {
  const bed = await aggregatorBed(t);
  await bed.kube.createNode('node-a', { role: 'w' });
  await bed.k(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'fileintegrity.openshift.io/v1alpha1', kind: 'FileIntegrity', metadata: { name: FI, namespace: NAMESPACE }, spec: { config: { gracePeriod: 3600, initialDelay: 3600 } } }));
  const a = await agentFor(t, bed, 'node-a');
  await until(bed, 'Succeeded', async () => (await status(bed, 'node-a')).lastResult.condition === 'Succeeded');
  await bed.stop();
  // Three results while nobody listens: Failed c:1, Failed c:2, Failed c:3 (each a new failure).
  for (const f of ['etc/app.conf', 'etc/secret.key', 'bin/tool']) {
    appendFileSync(join(a.tree, f), 'tampered\n');
    await check(a);
  }
  t.equal((a.daemon.store.db.prepare("SELECT count(*) AS n FROM outbox WHERE kind = 'scan'").get() as { n: number }).n, 3, 'the three results wait in the outbox');
  await bed.restart();
  await until(bed, 'the backlog delivered', async () => (a.daemon.store.db.prepare("SELECT count(*) AS n FROM outbox WHERE kind = 'scan'").get() as { n: number }).n === 0);
  const s = await status(bed, 'node-a');
  t.equal(s.lastResult.filesChanged, 3);
  const warnings = (await bed.getJson(['get', 'events', '-n', NAMESPACE, '--field-selector', 'reason=NodeIntegrityStatus,type=Warning'])).items.map((e: any) => e.message).sort();
  t.same(warnings, [1, 2, 3].map((c) => `node node-a has changed! a:0,c:${c},r:0 log:${NAMESPACE}/aide-worker-node-a-failed`), 'one event per result, none twice, none lost');
  t.match((await bed.get(null, '/metrics')).json, /^file_integrity_operator_node_status_total\{condition="Failed",node="node-a"\} 3$/m);
});

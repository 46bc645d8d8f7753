// `podsec-fim top` against the real aggregator and API server, authenticated as a node.
import t from 'tap';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { aggregatorBed, NAMESPACE } from '../../helpers/aggregator.js';
import { runCli } from '../run-cli.js';
import { until } from '../../helpers/until.js';

const at = '2026-11-23T12:00:00.000Z';
const scan = (seq: number, condition: string, changed: number) => ({
  seq, at, kind: 'scan',
  payload: {
    scanId: seq, kind: 'check', trigger: 'schedule', condition, startedAt: at, finishedAt: at, exitCode: changed > 0 ? 4 : 0,
    added: 0, changed, removed: 0, unverified: 0, errorCode: null, error: null, logGzipBase64: null, logBytes: 0,
    files: { added: [], changed: changed > 0 ? ['/etc/hosts'] : [], removed: [] }, filesTruncated: false, reinitToken: null,
  },
});

t.test('top lists every node with status, counts, agent state and backlog', async (t) => {
  const bed = await aggregatorBed(t);
  for (const n of ['node-a', 'node-b', 'node-c']) await bed.kube.createNode(n, n === 'node-c' ? {} : { role: 'w' });
  await bed.k(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'fileintegrity.openshift.io/v1alpha1', kind: 'FileIntegrity', metadata: { name: 'fi', namespace: NAMESPACE }, spec: { nodeSelector: { role: 'w' }, config: {} } }));
  const a = await bed.nodeCreds('node-a');
  const b = await bed.nodeCreds('node-b');
  const ra = await bed.post(a, '/v1/reports', { node: 'node-a', reports: [scan(1, 'Succeeded', 0), scan(2, 'Failed', 2)] });
  t.equal(ra.json.ackedSeq, 2, JSON.stringify(ra.json));
  const rb = await bed.post(b, '/v1/reports', { node: 'node-b', reports: [scan(1, 'Succeeded', 0), { seq: 2, at, kind: 'heartbeat', payload: { agentVersion: '0.1.0', aideVersion: '0.18.3', state: 'active', backlog: 7, lastScanId: 1, directiveVersion: null } }] });
  t.equal(rb.json.ackedSeq, 2, JSON.stringify(rb.json));
  await bed.agg.reconcile();
  // Both statuses are in the API server before top asks (the answer comes from the aggregator's
  // cache, which a loaded machine may refresh a moment later than the writes).
  for (const n of ['node-a', 'node-b']) await until(`the status of ${n}`, async () => (await bed.get(a, '/v1/nodes')).json.nodes?.find((x: { node: string, condition: string | null }) => x.node === n)?.condition);
  const config = join(bed.dir, 'agent.json');
  writeFileSync(config, JSON.stringify({ nodeName: 'node-a', stateDir: join(bed.dir, 'state'), aggregator: { url: bed.url, caFile: bed.caFile, certFile: a.certFile, keyFile: a.keyFile } }));

  const json = await runCli(['--config', config, '--json', 'top']);
  t.equal(json.exitCode, 0, json.stderr);
  const rows = JSON.parse(json.stdout).nodes;
  t.match(rows, [
    { node: 'node-a', fileIntegrity: 'fi', condition: 'Failed', filesChanged: 2, backlog: null },
    { node: 'node-b', fileIntegrity: 'fi', condition: 'Succeeded', agentState: 'active', backlog: 7 },
    { node: 'node-c', fileIntegrity: null, condition: null },
  ]);
  const text = await runCli(['--config', config, 'top', '--once']);
  t.equal(text.exitCode, 0, text.stderr);
  t.match(text.stdout, /NODE\s+FILEINTEGRITY\s+STATUS\s+LAST CHANGE\s+A\/C\/R\s+AGENT\s+BACKLOG/);
  t.match(text.stdout, /node-a\s+fi\s+Failed\s+2026-11-23T12:00:00Z\s+0\/2\/0/);

  const standalone = join(bed.dir, 'standalone.json');
  writeFileSync(standalone, JSON.stringify({ nodeName: 'node-a', stateDir: join(bed.dir, 'state') }));
  const none = await runCli(['--config', standalone, 'top', '--once']);
  t.equal(none.exitCode, 78, 'no aggregator.url');
  t.match(none.stderr, 'aggregator.url');
  const alice = await bed.kube.makeClientCert('alice', []);
  const wrong = join(bed.dir, 'alice.json');
  writeFileSync(wrong, JSON.stringify({ nodeName: 'node-a', stateDir: join(bed.dir, 'state'), aggregator: { url: bed.url, caFile: bed.caFile, certFile: alice.certFile, keyFile: alice.keyFile } }));
  const refused = await runCli(['--config', wrong, 'top', '--once']);
  t.equal(refused.exitCode, 77, `a user who is not a node is refused: ${refused.stderr}`);
});

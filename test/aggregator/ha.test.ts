/* eslint-disable @typescript-eslint/no-explicit-any -- kubectl JSON is untyped here; the assertions check its shape */
// Two aggregator replicas on one cluster: one Lease holder runs the reconcilers, both serve every
// agent, conflicting writes retry, and nothing is written when nothing changed.
import t from 'tap';
import { aggregatorBed, NAMESPACE, waitFor } from '../helpers/aggregator.js';

const at = (s: number) => new Date(Date.UTC(2026, 10, 23, 12, 0, s)).toISOString();
const ok = (seq: number) => ({
  seq, at: at(seq), kind: 'scan',
  payload: {
    scanId: seq, kind: 'check', trigger: 'schedule', condition: 'Succeeded', startedAt: at(seq), finishedAt: at(seq), exitCode: 0,
    added: 0, changed: 0, removed: 0, unverified: 0, errorCode: null, error: null, logGzipBase64: null, logBytes: 0,
    files: { added: [], changed: [], removed: [] }, filesTruncated: false, reinitToken: null,
  },
});
const errored = (seq: number) => { const r = ok(seq); return { ...r, payload: { ...r.payload, condition: 'Errored', exitCode: 17, error: 'Invalid configureline error' } }; };
const heartbeat = (seq: number, state: string) => ({ seq, at: at(seq), kind: 'heartbeat', payload: { agentVersion: '0.1.0', aideVersion: '0.18.3', state, backlog: 0, lastScanId: 1, directiveVersion: null } });

t.test('one leader, any replica serves any agent, leadership moves on close', async (t) => {
  // No timer runs a round or a refresh here: the test drives every step, so nothing depends on how fast the machine is.
  const bed = await aggregatorBed(t, { resyncSeconds: 3600 });
  const second = await bed.replica('replica-2');
  const leaders = () => [bed.agg.elector?.isLeader, second.elector?.isLeader].filter(Boolean).length;
  t.equal(leaders(), 1, 'exactly one replica holds the lease');
  const lease = await bed.getJson(['get', 'lease', 'podsec-fim-aggregator', '-n', NAMESPACE]);
  t.equal(lease.spec.holderIdentity, 'test-replica');

  await bed.kube.createNode('node-a', {});
  await bed.k(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'fileintegrity.openshift.io/v1alpha1', kind: 'FileIntegrity', metadata: { name: 'all', namespace: NAMESPACE }, spec: { config: {} } }));
  const a = await bed.nodeCreds('node-a');
  await waitFor('both replicas to see the FileIntegrity', async () => {
    const r1 = await bed.postTo(second, a, '/v1/reports', { node: 'node-a', reports: [] });
    return r1.status === 200 ? true : undefined;
  });
  await bed.agg.reconcile();
  await second.reconcile();
  let r = await bed.postTo(second, a, '/v1/reports', { node: 'node-a', reports: [ok(1)] });
  t.same(r.json, { node: 'node-a', ackedSeq: 1 }, 'the follower applies reports');
  r = await bed.postTo(bed.agg, a, '/v1/reports', { node: 'node-a', reports: [ok(1), errored(2)] });
  t.same(r.json, { node: 'node-a', ackedSeq: 2 }, 'the leader skips seq 1 applied by the other replica');
  const status = await bed.getJson(['get', 'fileintegritynodestatus', 'all-node-a', '-n', NAMESPACE]);
  t.equal(status.metadata.annotations['podsec-fim.altlinux.org/applied-seq'], '2');
  t.same(status.results.map((x: any) => x.condition), ['Succeeded', 'Errored'], 'seq 1 was applied once, seq 2 once');
  r = await bed.postTo(bed.agg, a, '/v1/reports', { node: 'node-a', reports: [ok(3)] });
  t.equal(r.json.ackedSeq, 3);
  await bed.agg.reconcile();

  // Steady state: reconciling and identical heartbeats write nothing.
  await bed.agg.reconcile();
  await waitFor('phase Active', async () => (await bed.getJson(['get', 'fileintegrity', 'all', '-n', NAMESPACE])).status?.phase === 'Active' ? true : undefined);
  await bed.postTo(second, a, '/v1/reports', { node: 'node-a', reports: [heartbeat(4, 'active')] });
  await bed.agg.reconcile();
  const before = bed.agg.kube.writes + second.kube.writes;
  const c0 = JSON.stringify([bed.agg.kube.calls, second.kube.calls, bed.agg.kube.leaseWrites, second.kube.leaseWrites]);
  await bed.agg.reconcile();
  await second.reconcile();
  r = await bed.postTo(second, a, '/v1/reports', { node: 'node-a', reports: [heartbeat(5, 'active'), heartbeat(6, 'active'), ok(7)] });
  t.equal(r.json.ackedSeq, 7, 'heartbeats and a result equal to the last are acknowledged');
  t.equal(bed.agg.kube.writes + second.kube.writes - before, 0, 'no API writes when nothing changed ' + c0 + JSON.stringify([bed.agg.kube.calls, second.kube.calls, bed.agg.kube.leaseWrites, second.kube.leaseWrites]));

  await bed.stop(); // releases the lease
  await waitFor('replica-2 to take the lease', async () => { await second.elector?.tick(); return second.elector?.isLeader === true ? true : undefined; });
  const moved = await bed.getJson(['get', 'lease', 'podsec-fim-aggregator', '-n', NAMESPACE]);
  t.equal(moved.spec.holderIdentity, 'replica-2');
  t.equal(moved.spec.leaseTransitions, 1);
});

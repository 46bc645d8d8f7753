// FIO's naming, log encoding and node-status rules as pure functions (fio-compat.md §0, §3.7, §4.2).
import t from 'tap';
import { createHash, randomBytes } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { daemonSetName, failedConfigMapName, nodeStatusName } from '../../src/aggregator/fio-names.js';
import { CONFIGMAP_MAX_SIZE, encodeIntegrityLog } from '../../src/aggregator/integrity-log.js';
import { isNewFailureOrTransition, mergeResult, newNodeStatus, scanResult, secondPrecision } from '../../src/aggregator/node-status.js';
import { inNodeList } from '../../src/aggregator/directive-builder.js';

t.test('names as FIO builds them', async (t) => {
  t.equal(failedConfigMapName('example-fileintegrity', 'ip-10-0-1-2.ec2.internal'), 'aide-example-fileintegrity-ip-10-0-1-2.ec2.internal-failed');
  t.equal(nodeStatusName('worker-fileintegrity', 'node-1'), 'worker-fileintegrity-node-1');
  const long = 'f'.repeat(59); // aide- + 59 = 64 characters: hashed
  t.equal(daemonSetName(long), `aide${createHash('sha1').update(`aide-${long}`).digest('hex')}`);
  t.match(daemonSetName(long), /^aide[0-9a-f]{40}$/);
  t.equal(daemonSetName('f'.repeat(58)), `aide-${'f'.repeat(58)}`, '63 characters are kept');
});

t.test('integrity log: plain, compressed, too large (the 1 MB rule)', async (t) => {
  const small = Buffer.from('Changed entries:\n/etc/resolv.conf\n');
  t.same(encodeIntegrityLog(small, 'n1', 7), { data: small.toString(), compressed: false });
  const edge = Buffer.alloc(CONFIGMAP_MAX_SIZE, 'a');
  t.equal(encodeIntegrityLog(edge, 'n1', 7).compressed, false, 'exactly the limit stays plain');
  const big = Buffer.from('f   ...    .C... : /etc/some/long/path/name\n'.repeat(30_000));
  const enc = encodeIntegrityLog(big, 'n1', 7);
  t.equal(enc.compressed, true);
  t.same(gunzipSync(Buffer.from(enc.data, 'base64')), big, 'base64 of gzip, decodable as FIO documents');
  const noise = randomBytes(CONFIGMAP_MAX_SIZE + 100);
  const tooBig = encodeIntegrityLog(noise, 'n1', 7);
  t.match(tooBig.data, /^compressed AIDE log is too large for a configMap \(\d+\) - fetch it with "podsec-fim log 7" on node n1$/);
  t.equal(tooBig.compressed, true);
  // gzip fits but its base64 does not: 1.3 MB of which 70 % is incompressible.
  const mixed = Buffer.concat([randomBytes(850_000), Buffer.alloc(450_000, 'x')]);
  t.match(encodeIntegrityLog(mixed, 'n1', 7).data, /^compressed, encoded AIDE log is too large for a configMap \(\d+\) - fetch it/);
});

t.test('results: omitempty, one per condition, news rule', async (t) => {
  const at = '2026-11-23T12:00:00.123Z';
  t.equal(secondPrecision(at), '2026-11-23T12:00:00Z');
  t.same(scanResult({ condition: 'Succeeded', at, added: 3 }), { lastProbeTime: '2026-11-23T12:00:00Z', condition: 'Succeeded' });
  t.same(scanResult({ condition: 'Failed', at, added: 0, changed: 2, removed: 0, configMap: { name: 'cm', namespace: 'ns' } }),
    { lastProbeTime: '2026-11-23T12:00:00Z', condition: 'Failed', resultConfigMapName: 'cm', resultConfigMapNamespace: 'ns', filesChanged: 2 });
  t.same(scanResult({ condition: 'Errored', at, error: 'boom' }), { lastProbeTime: '2026-11-23T12:00:00Z', condition: 'Errored', errorMessage: 'boom' });

  const ok1 = scanResult({ condition: 'Succeeded', at })
  const fail = scanResult({ condition: 'Failed', at, changed: 1 })
  const fail2 = scanResult({ condition: 'Failed', at, changed: 2 })
  const err = scanResult({ condition: 'Errored', at, error: 'x' })
  let s = newNodeStatus({ name: 'fi', namespace: 'ns', uid: 'u' }, 'n1', ok1);
  s = mergeResult(mergeResult(mergeResult(s, fail), err), fail2);
  t.same(s.results.map(r => r.condition), ['Succeeded', 'Errored', 'Failed'], 'at most one per condition, newest last');
  t.same(s.lastResult, fail2);
  const ok2 = { ...ok1, lastProbeTime: ok1.lastProbeTime };
  t.same(mergeResult(s, ok2).lastResult, ok2, 'same-second results still move lastResult (FIO kept the older one)');

  t.equal(isNewFailureOrTransition(null, ok1, 0), true, 'first result');
  t.equal(isNewFailureOrTransition(ok1, ok1, 0), false, 'Succeeded after Succeeded is no news');
  t.equal(isNewFailureOrTransition(ok1, fail, 0), true);
  t.equal(isNewFailureOrTransition(fail, fail, 1), false, 'the same failure again');
  t.equal(isNewFailureOrTransition(fail, fail2, 1), true, 'counts changed');
  t.equal(isNewFailureOrTransition(fail, fail, 0), true, 'gauge lost (restart): re-derived, OCPBUGS-42807');
  t.equal(isNewFailureOrTransition(ok1, ok1, 1), true, 'gauge says failed but node is fine');
  t.equal(isNewFailureOrTransition(err, err, 0), false);
  t.equal(isNewFailureOrTransition(ok1, err, 0), true);
});

t.test('node lists in annotations: trimmed, exact, "" is everyone', async (t) => {
  t.equal(inNodeList(undefined, 'a'), false);
  t.equal(inNodeList('', 'a'), true);
  t.equal(inNodeList('b, a ,c', 'a'), true, 'spaces around entries');
  t.equal(inNodeList('node-10', 'node-1'), false, 'no substring matches (FIO used strings.Contains)');
  t.equal(inNodeList('x,node-1', 'node-1'), true, 'at the end of the list');
});

// The aggregator's config file: defaults from the pod, every bad key named.
import t from 'tap';
import { parseAggregatorConfig } from '../../src/aggregator/aggregator-config.js';

const tls = { certFile: '/tls/tls.crt', keyFile: '/tls/tls.key' };

t.test('defaults come from the pod environment', async (t) => {
  const c = parseAggregatorConfig({ tls }, { POD_NAMESPACE: 'sec', POD_NAME: 'agg-0' });
  t.match(c, { host: '0.0.0.0', port: 8443, namespace: 'sec', identity: 'agg-0', kubeconfig: null, clientCaFile: null, resyncSeconds: 10, leaderElection: true });
  t.ok(Object.isFrozen(c) && Object.isFrozen(c.tls), 'frozen');
  t.equal(parseAggregatorConfig({ tls }, {}).namespace, 'podsec-fim');
});

t.test('bad config names the key', async (t) => {
  const cases: Array<[unknown, RegExp]> = [
    [{}, /config\.tls: expected an object/],
    [{ tls, port: 70000 }, /config\.port: expected an integer/],
    [{ tls, prot: 1 }, /config\.prot: expected no such field/],
    [{ tls: { ...tls, certFile: 'relative.crt' } }, /config\.tls\.certFile/],
    [{ tls, namespace: 'Bad_NS' }, /config\.namespace/],
    [[], /config: expected an object/],
  ];
  for (const [raw, message] of cases) t.throws(() => parseAggregatorConfig(raw, {}), { code: 'PFIM_CONFIG_INVALID', message }, JSON.stringify(raw));
});

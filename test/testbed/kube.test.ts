// Proves the Kubernetes test bed works end to end. When the bed cannot be built or started this
// fails with the reason (startKube throws); it never skips.
import t from 'tap';
import { existsSync } from 'node:fs';
import { auditLines, startKube, type Kube } from '../helpers/kube.js';
import { until } from '../helpers/until.js';

// A cold build.sh (no cached binaries) runs inside startKube and takes up to ~25 min on 2 cores.
t.setTimeout(45 * 60_000);

const NS = 'bed-check';

const CRD = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: 'probes.testbed.podsec-fim.local' },
  spec: {
    group: 'testbed.podsec-fim.local',
    scope: 'Namespaced',
    names: { plural: 'probes', singular: 'probe', kind: 'Probe', shortNames: ['prb'] },
    versions: [{
      name: 'v1', served: true, storage: true,
      schema: { openAPIV3Schema: { type: 'object', properties: { spec: { type: 'object', properties: { message: { type: 'string' } } } } } },
    }],
  },
};

const CR = { apiVersion: 'testbed.podsec-fim.local/v1', kind: 'Probe', metadata: { name: 'p1', namespace: NS }, spec: { message: 'hello' } };

interface AuditEvent {
  verb?: string; stage?: string;
  user?: { username?: string; groups?: string[] };
  objectRef?: { resource?: string; namespace?: string };
  responseStatus?: { code?: number };
  annotations?: Record<string, string>;
}

function auditEvents(kube: Kube): AuditEvent[] {
  return auditLines(kube.auditLogPath).map((line) => JSON.parse(line) as AuditEvent);
}


t.test('kube test bed', async (t) => {
  const t0 = Date.now();
  const kube = await startKube();
  t.teardown(() => kube.close()); // also when an assertion below throws
  t.comment(`bed ready in ${Date.now() - t0} ms at ${kube.url}`);

  await t.test('kubectl version shows the server version', async (t) => {
    const r = await kube.kubectl(['version', '-o', 'json']);
    t.equal(r.code, 0, r.stderr);
    const v = JSON.parse(r.stdout) as { clientVersion: { gitVersion: string }; serverVersion: { gitVersion: string } };
    t.match(v.serverVersion.gitVersion, /^v1\.\d+\.\d+$/, 'server version is stamped, not v0.0.0-master');
    t.equal(v.serverVersion.gitVersion, v.clientVersion.gitVersion, 'kubectl and kube-apiserver come from the same build');
  });

  await t.test('create a namespace', async (t) => {
    const r = await kube.kubectl(['create', 'namespace', NS]);
    t.equal(r.code, 0, r.stderr);
    const phase = await kube.kubectl(['get', 'namespace', NS, '-o', 'jsonpath={.status.phase}']);
    t.equal(phase.stdout, 'Active');
  });

  await t.test('apply a CRD and a custom resource', async (t) => {
    const crd = await kube.kubectl(['apply', '-f', '-'], { input: JSON.stringify(CRD) });
    t.equal(crd.code, 0, crd.stderr);
    const est = await kube.kubectl(['wait', '--for=condition=Established', `crd/${CRD.metadata.name}`, '--timeout=60s']);
    t.equal(est.code, 0, est.stderr);
    const cr = await kube.kubectl(['apply', '-f', '-'], { input: JSON.stringify(CR) });
    t.equal(cr.code, 0, cr.stderr);
    const got = await kube.kubectl(['get', 'prb', 'p1', '-n', NS, '-o', 'jsonpath={.spec.message}']);
    t.equal(got.code, 0, got.stderr);
    t.equal(got.stdout, 'hello', 'custom resource is read back via its short name');
  });

  await t.test('an unprivileged user is denied and audited', async (t) => {
    const alice = await kube.makeClientCert('alice', []);
    const r = await kube.kubectl(['get', 'secrets', '-n', NS], { kubeconfig: alice.kubeconfig });
    t.not(r.code, 0, 'alice cannot list secrets');
    t.match(r.stderr, /Forbidden/);
    t.match(r.stderr, /User "alice" cannot list resource "secrets"/);
    // The ResponseComplete event can land in the file just after kubectl saw the answer.
    const ev = await until(`a 403 event for alice in ${kube.auditLogPath}`, () => auditEvents(kube).find((e) => e.user?.username === 'alice' && e.responseStatus?.code === 403));
    t.match(ev, { verb: 'list', stage: 'ResponseComplete', objectRef: { resource: 'secrets', namespace: NS },
      annotations: { 'authorization.k8s.io/decision': 'forbid' } });
    // podsec's policy drops system:masters, so none of the admin's requests above may be logged.
    const masters = auditEvents(kube).filter((e) => e.user?.groups?.includes('system:masters'));
    t.same(masters, [], 'requests by system:masters are not audited');
  });

  await t.test('node identity: Node authorizer and NodeRestriction are on', async (t) => {
    await kube.createNode('n1', { 'podsec-fim.test/role': 'worker' });
    await kube.createNode('n2');
    const n1 = await kube.makeClientCert('system:node:n1', ['system:nodes']);
    const own = await kube.kubectl(['get', 'node', 'n1', '-o', 'jsonpath={.metadata.labels}'], { kubeconfig: n1.kubeconfig });
    t.equal(own.code, 0, own.stderr);
    t.match(own.stdout, /podsec-fim\.test\/role/);
    // The Node authorizer confines a node to its own Node object ...
    const other = await kube.kubectl(['get', 'node', 'n2'], { kubeconfig: n1.kubeconfig });
    t.not(other.code, 0, 'n1 may not read node n2');
    t.match(other.stderr, /only its own Node object/);
    // ... and NodeRestriction admission stops it from setting node-restriction.kubernetes.io/ labels.
    const label = await kube.kubectl(['label', 'node', 'n1', 'node-restriction.kubernetes.io/pool=a'], { kubeconfig: n1.kubeconfig });
    t.not(label.code, 0, 'n1 may not set a node-restriction label on itself');
    t.match(label.stderr, /is not allowed to modify labels: node-restriction\.kubernetes\.io\/pool/);
  });

  await t.test('close() leaves no process and no temp dir behind', async (t) => {
    const { etcd, apiserver } = kube.pids;
    await kube.close();
    for (const [name, pid] of [['etcd', etcd], ['kube-apiserver', apiserver]] as const) {
      t.throws(() => process.kill(pid, 0), { code: 'ESRCH' }, `${name} (pid ${pid}) is gone`);
    }
    t.notOk(existsSync(kube.dir), `${kube.dir} removed`);
  });
});

// kubeconfig and in-cluster credentials: what is read, and malformed files named precisely.
import t from 'tap';
import { mkdtempSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadInCluster, loadKubeconfig } from '../../src/core/kubeconfig.js';

const dir = mkdtempSync(join(tmpdir(), 'pfim-kubeconfig-'));
writeFileSync(join(dir, 'ca.crt'), 'CA');
mkdirSync(join(dir, 'pki'));
writeFileSync(join(dir, 'pki', 'client.pem'), 'CERT');
const write = (name: string, text: string) => { const p = join(dir, name); writeFileSync(p, text); return p; };

const kubelet = `apiVersion: v1
kind: Config
clusters:
- name: default-cluster
  cluster:
    certificate-authority-data: ${Buffer.from('CADATA').toString('base64')}
    server: https://10.0.0.1:6443
contexts:
- name: default-context
  context: {cluster: default-cluster, user: default-auth}
current-context: default-context
users:
- name: default-auth
  user:
    client-certificate: pki/client.pem
    client-key: pki/client.pem
`;

t.test('a kubelet.conf: relative paths from the file, -data fields decoded', async (t) => {
  const c = loadKubeconfig(write('kubelet.conf', kubelet));
  t.equal(c.server, 'https://10.0.0.1:6443');
  t.equal(c.ca?.toString(), 'CADATA');
  t.equal(c.cert?.toString(), 'CERT');
  t.equal(c.key?.toString(), 'CERT');
  t.equal(c.token, null);
});

t.test('malformed kubeconfigs name the file and the field', async (t) => {
  const cases: Array<[string, string, RegExp]> = [
    ['not yaml', 'clusters: [\n', /is not valid YAML/],
    ['no context', kubelet.replace('current-context: default-context\n', ''), /current-context is missing/],
    ['unknown context', kubelet.replace('current-context: default-context', 'current-context: other'), /contexts has no entry named "other"/],
    ['no server', kubelet.replace('    server: https://10.0.0.1:6443\n', ''), /cluster\.server is missing/],
    ['missing cert file', kubelet.replace('client-certificate: pki/client.pem', 'client-certificate: pki/nope.pem'), /user\.client-certificate names .*nope\.pem, which cannot be read \(ENOENT\)/],
    ['server not a string', kubelet.replace('server: https://10.0.0.1:6443', 'server: [1]'), /cluster\.server must be a non-empty string/],
    ['clusters not a list', kubelet.replace(/clusters:[\s\S]*?contexts:/, 'clusters: 5\ncontexts:'), /clusters must be a list/],
  ];
  for (const [name, text, message] of cases) {
    const file = write(`${name.replace(/ /g, '-')}.conf`, text);
    t.throws(() => loadKubeconfig(file), { code: 'PFIM_KUBECONFIG_INVALID', message }, name);
  }
  t.throws(() => loadKubeconfig(join(dir, 'absent.conf')), { code: 'PFIM_KUBECONFIG_INVALID', message: /cannot be read \(ENOENT\)/ });
});

t.test('in-cluster: the service account files and the service host', async (t) => {
  const sa = mkdtempSync(join(tmpdir(), 'pfim-sa-'));
  writeFileSync(join(sa, 'token'), 'tok\n');
  writeFileSync(join(sa, 'ca.crt'), 'CA');
  const c = loadInCluster({ KUBERNETES_SERVICE_HOST: 'fd00::1', KUBERNETES_SERVICE_PORT: '443' }, sa);
  t.equal(c.server, 'https://[fd00::1]:443');
  t.equal(c.token, 'tok');
  t.throws(() => loadInCluster({}, sa), { code: 'PFIM_KUBECONFIG_INVALID', message: /not running in a pod/ });
});

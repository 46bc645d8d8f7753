// kubeconfig and in-cluster credentials: what is read, and malformed files named precisely.
import t from 'tap';
import { mkdtempSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadInCluster, loadKubeconfig } from '../../src/core/kubeconfig.js';

const dir = mkdtempSync(join(tmpdir(), 'pfim-kubeconfig-'));
const PEM = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
writeFileSync(join(dir, 'ca.crt'), PEM);
mkdirSync(join(dir, 'pki'));
writeFileSync(join(dir, 'pki', 'client.pem'), PEM);
writeFileSync(join(dir, 'not-pem.txt'), 'hello');
const write = (name: string, text: string) => { const p = join(dir, name); writeFileSync(p, text); return p; };

const kubelet = `apiVersion: v1
kind: Config
clusters:
- name: default-cluster
  cluster:
    certificate-authority-data: ${Buffer.from(PEM).toString('base64')}
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
  t.equal(c.ca?.toString(), PEM);
  t.equal(c.cert?.toString(), PEM);
  t.equal(c.key?.toString(), PEM);
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
    ['a scalar', 'just text', /\(root\) must be a mapping/],
    ['users missing', kubelet.replace(/users:[\s\S]*$/, ''), /users must be a list/],
    ['data not PEM', kubelet.replace(/certificate-authority-data: \S+/, 'certificate-authority-data: eA=='), /cluster\.certificate-authority-data is not base64 of a PEM block/],
    ['file not PEM', kubelet.replace('client-key: pki/client.pem', 'client-key: not-pem.txt'), /user\.client-key names .*not-pem\.txt, which holds no PEM block/],
    ['data not a string', kubelet.replace(/certificate-authority-data: \S+/, 'certificate-authority-data: 42'), /cluster\.certificate-authority-data must be a non-empty string/],
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
  writeFileSync(join(sa, 'ca.crt'), PEM);
  const c = loadInCluster({ KUBERNETES_SERVICE_HOST: 'fd00::1', KUBERNETES_SERVICE_PORT: '443' }, sa);
  t.equal(c.server, 'https://[fd00::1]:443');
  t.equal(c.token, 'tok');
  t.throws(() => loadInCluster({}, sa), { code: 'PFIM_KUBECONFIG_INVALID', message: /not running in a pod/ });
});

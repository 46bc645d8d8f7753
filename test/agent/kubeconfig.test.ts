/** The kubelet's kubeconfig as the source of the agent's client certificate, key and CA. */
import t from 'tap'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { stringify } from 'yaml'
import { readKubeconfigTls } from '../../src/agent/kubeconfig.js'
import { makePki } from '../helpers/protocol-stub.js'

function kubeconfig (user: Record<string, unknown>, cluster: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  return stringify({
    apiVersion: 'v1', kind: 'Config', 'current-context': 'system:node:node-a@kubernetes',
    clusters: [{ name: 'kubernetes', cluster: { server: 'https://10.0.0.1:6443', ...cluster } }],
    users: [{ name: 'system:node:node-a', user }],
    contexts: [{ name: 'system:node:node-a@kubernetes', context: { cluster: 'kubernetes', user: 'system:node:node-a' } }],
    ...extra,
  })
}

t.test('kubelet.conf style: file references relative to the kubeconfig, CA as -data', async t => {
  const dir = t.testdir()
  const pki = await makePki(dir)
  const client = await pki.client('system:node:node-a')
  mkdirSync(join(dir, 'etc', 'pki'), { recursive: true })
  writeFileSync(join(dir, 'etc', 'pki', 'kubelet-client-current.pem'), readFileSync(client.certFile, 'utf8') + readFileSync(client.keyFile, 'utf8'))
  const file = join(dir, 'etc', 'kubelet.conf')
  writeFileSync(file, kubeconfig(
    { 'client-certificate': 'pki/kubelet-client-current.pem', 'client-key': 'pki/kubelet-client-current.pem' },
    { 'certificate-authority-data': readFileSync(pki.caFile).toString('base64') }))
  const tls = await readKubeconfigTls(file)
  t.match(tls.cert, /BEGIN CERTIFICATE/)
  t.match(tls.key, /PRIVATE KEY/)
  t.equal(tls.ca, readFileSync(pki.caFile, 'utf8'))
})

t.test('-data fields for the user, a CA file given by absolute path', async t => {
  const dir = t.testdir()
  const pki = await makePki(dir)
  const client = await pki.client('system:node:node-a')
  const file = join(dir, 'kubelet.conf')
  writeFileSync(file, kubeconfig(
    { 'client-certificate-data': readFileSync(client.certFile).toString('base64'), 'client-key-data': readFileSync(client.keyFile).toString('base64') },
    { 'certificate-authority': pki.caFile }))
  t.same(await readKubeconfigTls(file), { cert: readFileSync(client.certFile, 'utf8'), key: readFileSync(client.keyFile, 'utf8'), ca: readFileSync(pki.caFile, 'utf8') })
})

t.test('a user without a certificate gives nulls (token users), not an error', async t => {
  const dir = t.testdir({ 'k.conf': kubeconfig({ token: 'abc' }, {}) })
  t.same(await readKubeconfigTls(join(dir, 'k.conf')), { cert: null, key: null, ca: null })
})

t.test('malformed kubeconfigs: typed errors naming the file and the field', async t => {
  const good = { 'client-certificate': '/nonexistent/cert.pem', 'client-key': '/nonexistent/key.pem' }
  const cases: Array<[string, string, RegExp]> = [
    ['missing', '', /kubeconfig .*missing\.conf: \(file\) cannot be read \(ENOENT\)/],
    ['not-yaml.conf', 'a: [unclosed', /not-yaml\.conf: \(file\) is not valid YAML/],
    ['scalar.conf', 'just text', /scalar\.conf: \(file\) is not a YAML mapping/],
    ['no-context.conf', kubeconfig(good, {}, { 'current-context': '' }), /current-context is missing or empty/],
    ['bad-context.conf', kubeconfig(good, {}, { 'current-context': 'elsewhere' }), /contexts\[name=elsewhere\] does not exist/],
    ['no-users.conf', kubeconfig(good, {}, { users: 'nobody' }), /: users is missing or not a list/],
    ['user-not-map.conf', kubeconfig(good, {}, { users: [{ name: 'system:node:node-a', user: 'x' }] }), /users\[name=system:node:node-a\]\.user is missing or not a mapping/],
    ['no-cert-file.conf', kubeconfig(good, {}), /users\[name=system:node:node-a\]\.user\.client-certificate names \/nonexistent\/cert\.pem, which cannot be read \(ENOENT\)/],
    ['bad-data.conf', kubeconfig({ 'client-certificate-data': 'bm90IGEgcGVt' }, {}), /user\.client-certificate-data is not base64 of a PEM block/],
    ['num-data.conf', kubeconfig({ 'client-key-data': 42 }, {}), /user\.client-key-data is not a string/],
    ['empty-name.conf', kubeconfig({ 'client-certificate': '' }, {}), /user\.client-certificate is not a file name/],
    ['no-pem.conf', kubeconfig({ 'client-certificate': 'no-pem.conf' }, {}), /client-certificate names .*no-pem\.conf, which holds no PEM block/],
    ['bad-ca.conf', kubeconfig({}, { 'certificate-authority-data': 'eA==' }), /clusters\[name=kubernetes\]\.cluster\.certificate-authority-data is not base64 of a PEM block/],
  ]
  const dir = t.testdir(Object.fromEntries(cases.filter(c => c[1] !== '').map(([name, text]) => [name, text])))
  for (const [name, , message] of cases) {
    await t.rejects(readKubeconfigTls(join(dir, name === 'missing' ? 'missing.conf' : name)), { code: 'PFIM_AGGREGATOR_CREDENTIALS', message }, name)
  }
})

// The Kubernetes manifests in etc/kubernetes/ on a real kube-apiserver + etcd (Node,RBAC
// authorization, PodSecurity admission): they apply in file-name order, the CRDs behave like FIO's,
// and podsec-fim-aggregator's RBAC is proven by the real authorizer to be exactly what the
// aggregator needs. No kubelet runs here, so the Deployment has no pods: its stored object is checked.
import t, { type Test } from 'tap'
import { readdirSync, writeFileSync } from 'node:fs'
import { isIPv4 } from 'node:net'
import { join } from 'node:path'
import { kubeFixture, type RunResult } from '../helpers/kube.js'
import { CAN_I_CASES, canIList, diffRules, EXPECTED_RULES, SA, UNBOUND_SA } from './rbac-rules.js'

t.setTimeout(45 * 60_000) // a cold test-bed build happens inside kubeFixture

const DIR = 'etc/kubernetes'
const NS = 'podsec-fim'
const GROUP = 'fileintegrity.openshift.io'
const FI_CRD = `fileintegrities.${GROUP}`
const NS_CRD = `fileintegritynodestatuses.${GROUP}`

// prometheus-operator does not run here. This stand-in only registers its PrometheusRule kind
// (monitoring.coreos.com/v1) with a structural schema of the fields our rule uses, so the rule can be
// applied and read back; unknown fields are pruned, so a misspelt field shows up as a difference.
const PROMETHEUS_RULE_CRD_STAND_IN = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: 'prometheusrules.monitoring.coreos.com', labels: { 'podsec-fim.test/stand-in': 'true' } },
  spec: {
    group: 'monitoring.coreos.com',
    scope: 'Namespaced',
    names: { kind: 'PrometheusRule', listKind: 'PrometheusRuleList', plural: 'prometheusrules', singular: 'prometheusrule' },
    versions: [{
      name: 'v1', served: true, storage: true,
      schema: { openAPIV3Schema: { type: 'object', properties: { spec: { type: 'object', properties: { groups: { type: 'array', items: {
        type: 'object', properties: { name: { type: 'string' }, rules: { type: 'array', items: { type: 'object', properties: {
          alert: { type: 'string' }, expr: { type: 'string' }, for: { type: 'string' },
          labels: { type: 'object', additionalProperties: { type: 'string' } },
          annotations: { type: 'object', additionalProperties: { type: 'string' } },
        } } } },
      } } } } } } },
    }],
  },
}

const kube = await kubeFixture(t)

async function ok (args: string[], input?: string): Promise<RunResult> {
  const r = await kube.kubectl(args, { input })
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed (exit ${r.code}): ${r.stderr.trim()}`)
  return r
}

async function getJson<T = Record<string, unknown>> (args: string[]): Promise<T> {
  return JSON.parse((await ok(['get', ...args, '-o', 'json'])).stdout) as T
}

const manifestArgs = (files: string[]): string[] => files.flatMap(f => ['-f', join(DIR, f)])

t.test('without prometheus-operator every file but the PrometheusRule applies, with no warnings', async t => {
  const files = readdirSync(DIR).filter(f => f.endsWith('.yaml')).sort()
  t.equal(files.at(-1), '90-prometheusrule.yaml', 'the optional file sorts last')
  // The README's skip command: kubectl apply $(printf -- '-f %s ' etc/kubernetes/[0-8]*.yaml)
  const r = await kube.kubectl(['apply', ...manifestArgs(files.filter(f => /^[0-8]/.test(f)))])
  t.equal(r.code, 0, r.stderr)
  // The namespace enforces and warns on the "restricted" Pod Security Standard: a Deployment whose
  // pod template broke it would be applied with a "Warning: would violate PodSecurity" line.
  t.equal(r.stderr, '', 'no warnings (the Deployment meets the restricted Pod Security Standard)')
  const all = await kube.kubectl(['apply', '-f', DIR])
  t.not(all.code, 0, 'the whole directory fails on the PrometheusRule only')
  t.match(all.stderr, /no matches for kind "PrometheusRule"/)
  t.equal(all.stderr.trim().split('\n').filter(l => l.startsWith('error')).length, 1, all.stderr)
})

t.test('with the PrometheusRule kind present, kubectl apply -f etc/kubernetes/ succeeds', async t => {
  await ok(['apply', '-f', '-'], JSON.stringify(PROMETHEUS_RULE_CRD_STAND_IN))
  await ok(['wait', '--for=condition=Established', `crd/${PROMETHEUS_RULE_CRD_STAND_IN.metadata.name}`, '--timeout=60s'])
  const r = await kube.kubectl(['apply', '-f', DIR])
  t.equal(r.code, 0, r.stderr)
  const est = await kube.kubectl(['wait', '--for=condition=Established', `crd/${FI_CRD}`, `crd/${NS_CRD}`, '--timeout=60s'])
  t.equal(est.code, 0, est.stderr)
})

interface Crd { spec: { group: string, scope: string, names: Record<string, unknown>, versions: Array<{ name: string, served: boolean, storage: boolean, subresources?: unknown, additionalPrinterColumns?: unknown[] }> } }

t.test('the CRDs have FIO\'s group, version, names and subresources', async t => {
  const fi = await getJson<Crd>(['crd', FI_CRD])
  const ns = await getJson<Crd>(['crd', NS_CRD])
  for (const crd of [fi, ns]) {
    t.equal(crd.spec.group, GROUP)
    t.equal(crd.spec.scope, 'Namespaced')
    t.equal(crd.spec.versions.length, 1)
    t.match(crd.spec.versions[0], { name: 'v1alpha1', served: true, storage: true })
    t.notOk('shortNames' in crd.spec.names, 'FIO declares no short names')
  }
  t.same(fi.spec.names, { kind: 'FileIntegrity', listKind: 'FileIntegrityList', plural: 'fileintegrities', singular: 'fileintegrity' })
  t.same(ns.spec.names, { kind: 'FileIntegrityNodeStatus', listKind: 'FileIntegrityNodeStatusList', plural: 'fileintegritynodestatuses', singular: 'fileintegritynodestatus' })
  t.same(fi.spec.versions[0]!.subresources, { status: {} }, 'FileIntegrity has a status subresource')
  t.same(ns.spec.versions[0]!.subresources ?? {}, {}, 'node statuses have none (written with a plain update)')
})

interface FileIntegrity { spec: { config: Record<string, unknown>, tolerations: unknown[] }, status?: { phase?: string } }

t.test('a FileIntegrity gets FIO\'s defaults; spec.config is required; the singular name works', async t => {
  await ok(['apply', '-f', '-'], JSON.stringify({ apiVersion: `${GROUP}/v1alpha1`, kind: 'FileIntegrity', metadata: { name: 'example', namespace: NS }, spec: { config: {} } }))
  const fi = await getJson<FileIntegrity>(['fileintegrity', 'example', '-n', NS])
  t.same(fi.spec.config, { gracePeriod: 900, maxBackups: 5 })
  t.same(fi.spec.tolerations, [
    { key: 'node-role.kubernetes.io/master', operator: 'Exists', effect: 'NoSchedule' },
    { key: 'node-role.kubernetes.io/infra', operator: 'Exists', effect: 'NoSchedule' },
  ])
  const explicit = { config: { gracePeriod: 20, maxBackups: 1 }, tolerations: [{ key: 'fi-e2e', operator: 'Exists', effect: 'NoSchedule' }] }
  await ok(['apply', '-f', '-'], JSON.stringify({ apiVersion: `${GROUP}/v1alpha1`, kind: 'FileIntegrity', metadata: { name: 'explicit', namespace: NS }, spec: explicit }))
  t.same((await getJson<FileIntegrity>(['fileintegrities', 'explicit', '-n', NS])).spec, explicit, 'given values are kept')
  const bad = await kube.kubectl(['create', '-f', '-'], { input: JSON.stringify({ apiVersion: `${GROUP}/v1alpha1`, kind: 'FileIntegrity', metadata: { name: 'noconfig', namespace: NS }, spec: { debug: true } }) })
  t.not(bad.code, 0, 'a spec without config is rejected')
  t.match(bad.stderr, /spec\.config: Required value/)
  const wrongType = await kube.kubectl(['create', '-f', '-'], { input: JSON.stringify({ apiVersion: `${GROUP}/v1alpha1`, kind: 'FileIntegrity', metadata: { name: 'badgrace', namespace: NS }, spec: { config: { gracePeriod: '900' } } }) })
  t.not(wrongType.code, 0, 'a string gracePeriod is rejected')
  t.match(wrongType.stderr, /spec\.config\.gracePeriod: Invalid value: "string"/)
})

const NODE_STATUS = {
  apiVersion: `${GROUP}/v1alpha1`,
  kind: 'FileIntegrityNodeStatus',
  metadata: { name: 'example-node1', namespace: NS, labels: { 'file-integrity.openshift.io/owner': 'example' } },
  nodeName: 'node1',
  results: [{ condition: 'Failed', lastProbeTime: '2026-11-23T10:15:30Z', resultConfigMapName: 'aide-example-node1-failed', resultConfigMapNamespace: NS, filesChanged: 1 }],
  lastResult: { condition: 'Failed', lastProbeTime: '2026-11-23T10:15:30Z', resultConfigMapName: 'aide-example-node1-failed', resultConfigMapNamespace: NS, filesChanged: 1 },
}

/** `kubectl get` table output as rows of whitespace-separated cells, header first. */
function table (out: string): string[][] {
  return out.trim().split('\n').map(line => line.trim().split(/\s+/))
}

t.test('kubectl get prints NODE and STATUS for node statuses, PHASE for FileIntegrities', async t => {
  await ok(['create', '-f', '-'], JSON.stringify(NODE_STATUS))
  const rows = table((await ok(['get', 'fileintegritynodestatuses', '-n', NS])).stdout)
  t.same(rows, [['NAME', 'NODE', 'STATUS'], ['example-node1', 'node1', 'Failed']])
  const missing = await kube.kubectl(['create', '-f', '-'], { input: JSON.stringify({ ...NODE_STATUS, metadata: { name: 'x', namespace: NS }, nodeName: undefined }) })
  t.not(missing.code, 0, 'nodeName is required')
  t.match(missing.stderr, /nodeName: Required value/)

  // status is a subresource: a status in a plain update is dropped, the status subresource sets it.
  await ok(['patch', 'fileintegrity', 'example', '-n', NS, '--type=merge', '-p', '{"status":{"phase":"Error"}}'])
  t.equal((await getJson<FileIntegrity>(['fileintegrity', 'example', '-n', NS])).status?.phase, undefined, 'plain patch does not set status')
  await ok(['patch', 'fileintegrity', 'example', '-n', NS, '--subresource=status', '--type=merge', '-p', '{"status":{"phase":"Active"}}'])
  const fis = table((await ok(['get', 'fileintegrities', '-n', NS])).stdout)
  t.same(fis[0], ['NAME', 'PHASE', 'AGE'])
  t.same(fis.find(r => r[0] === 'example')?.slice(0, 2), ['example', 'Active'])
})

t.test('RBAC: podsec-fim-aggregator has exactly its permissions (real authorizer, all namespaces that matter)', async t => {
  for (const ns of [NS, 'kube-system', 'default']) {
    const own = await canIList(kube, SA, ns)
    const baseline = await canIList(kube, UNBOUND_SA, ns) // what every service account may do anyway
    t.same(diffRules(own, baseline), EXPECTED_RULES[ns], `grants in ${ns} beyond any service account's`)
  }
})

t.test('RBAC: kubectl auth can-i as podsec-fim-aggregator', async t => {
  for (const [verb, resource, ns, sub, allowed] of CAN_I_CASES) {
    const args = ['auth', 'can-i', verb, resource, `--as=${SA}`, ...(ns ? ['-n', ns] : []), ...(sub ? [`--subresource=${sub}`] : [])]
    const r = await kube.kubectl(args)
    t.equal(r.stdout.trim(), allowed ? 'yes' : 'no', `${verb} ${resource}${sub ? `/${sub}` : ''}${ns ? ` in ${ns}` : ''}: ${allowed ? 'yes' : 'no'} ${r.stderr.trim()}`)
  }
})


/** A kubeconfig holding a real token of the aggregator's ServiceAccount (TokenRequest API). */
async function saKubeconfig (t: Test): Promise<string> {
  const token = (await ok(['create', 'token', 'podsec-fim-aggregator', '-n', NS, '--duration=10m'])).stdout.trim()
  const file = join(t.testdir(), 'aggregator.kubeconfig')
  writeFileSync(file, JSON.stringify({
    apiVersion: 'v1', kind: 'Config', 'current-context': 'c',
    clusters: [{ name: 'c', cluster: { server: kube.url, 'certificate-authority': kube.caFile } }],
    users: [{ name: 'aggregator', user: { token } }],
    contexts: [{ name: 'c', context: { cluster: 'c', user: 'aggregator' } }],
  }), { mode: 0o600 })
  return file
}

const lease = (name: string, holder: string): string => JSON.stringify({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name, namespace: NS }, spec: { holderIdentity: holder, leaseDurationSeconds: 15 } })

t.test('RBAC: the aggregator\'s own requests succeed with its real token; others are forbidden', async t => {
  const kubeconfig = await saKubeconfig(t)
  await ok(['annotate', 'fileintegrity', 'example', '-n', NS, 'file-integrity.openshift.io/re-init='])
  const as = (args: string[], input?: string) => kube.kubectl(args, { kubeconfig, input })
  const allowed: Array<[string, string[], string?]> = [
    ['reads the cluster client CA', ['get', 'configmap', 'extension-apiserver-authentication', '-n', 'kube-system', '-o', 'jsonpath={.data.client-ca-file}']],
    ['creates its Lease', ['create', '-f', '-'], lease('podsec-fim-aggregator', 'pod-a')],
    ['renews its Lease', ['replace', '-f', '-'], lease('podsec-fim-aggregator', 'pod-b')],
    ['writes status.phase', ['patch', 'fileintegrity', 'example', '-n', NS, '--subresource=status', '--type=merge', '-p', '{"status":{"phase":"Initializing"}}']],
    ['removes a handled re-init annotation', ['annotate', 'fileintegrity', 'example', '-n', NS, 'file-integrity.openshift.io/re-init-']],
    ['creates a node status', ['create', '-f', '-'], JSON.stringify({ ...NODE_STATUS, metadata: { ...NODE_STATUS.metadata, name: 'example-node2' }, nodeName: 'node2' })],
    ['deletes a node status', ['delete', 'fileintegritynodestatus', 'example-node2', '-n', NS]],
    ['writes a result ConfigMap', ['create', 'configmap', 'aide-example-node1-failed', '-n', NS, '--from-literal=integritylog=x']],
    ['lists nodes', ['get', 'nodes']],
    ['records an event', ['create', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'Event', metadata: { name: 'example.1', namespace: NS }, involvedObject: { apiVersion: `${GROUP}/v1alpha1`, kind: 'FileIntegrity', name: 'example', namespace: NS }, reason: 'FileIntegrityStatus', message: 'Active', type: 'Normal' })],
    // --validate=false: kubectl's own schema check of a TokenReview would list CRDs, which the
    // aggregator (rightly) may not, and the aggregator does not use kubectl anyway.
    ['reviews a token', ['create', '--validate=false', '-f', '-', '-o', 'jsonpath={.status.error}'], JSON.stringify({ apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token: 'not-a-token' } })],
  ]
  for (const [what, args, input] of allowed) {
    const r = await as(args, input)
    t.equal(r.code, 0, `${what}: ${r.stderr.trim()}`)
  }
  const forbidden: Array<[string, string[], string?]> = [
    ['renew another Lease', ['replace', '-f', '-'], lease('other-leader', 'pod-b')],
    ['read a Secret', ['get', 'secrets', '-n', NS]],
    ['read another kube-system ConfigMap', ['get', 'configmap', 'kube-apiserver-legacy-service-account-token-tracking', '-n', 'kube-system']],
    ['delete a FileIntegrity', ['delete', 'fileintegrity', 'example', '-n', NS]],
    ['label a node', ['label', 'node', 'node1', 'x=y']],
    ['create a pod', ['run', 'p', '--image=x', '-n', NS, '--restart=Never']],
  ]
  await kube.createNode('node1')
  for (const [what, args, input] of forbidden) {
    const r = await as(args, input)
    t.not(r.code, 0, `may not ${what}`)
    t.match(r.stderr, /Forbidden|forbidden/, `${what}: ${r.stderr.trim()}`)
  }
})

t.test('FIO\'s user roles: the viewer reads FileIntegrities and their node statuses, and changes nothing', async t => {
  const viewer = await kube.makeClientCert('fi-viewer', [])
  await ok(['create', 'rolebinding', 'fi-viewer', '-n', NS, '--clusterrole=fileintegrity-viewer-role', '--user=fi-viewer'])
  const as = (args: string[]) => kube.kubectl(args, { kubeconfig: viewer.kubeconfig })
  t.equal((await as(['get', 'fileintegrities', '-n', NS])).code, 0)
  t.equal((await as(['get', 'fileintegritynodestatuses', '-n', NS])).code, 0)
  t.not((await as(['delete', 'fileintegrity', 'example', '-n', NS])).code, 0)
  t.not((await as(['get', 'configmaps', '-n', NS])).code, 0)
})

interface Container { name: string, image: string, args: string[], env: unknown[], ports: unknown[], securityContext: unknown, resources: { requests?: unknown, limits?: unknown }, livenessProbe: unknown, readinessProbe: unknown, volumeMounts: unknown[] }
interface Deployment { spec: { replicas: number, template: { spec: { serviceAccountName: string, securityContext: unknown, containers: Container[], volumes: unknown[] } } } }

t.test('the Deployment is stored with the hardened pod spec', async t => {
  const d = await getJson<Deployment>(['deployment', 'podsec-fim-aggregator', '-n', NS])
  t.equal(d.spec.replicas, 2)
  const pod = d.spec.template.spec
  t.equal(pod.serviceAccountName, 'podsec-fim-aggregator')
  t.match(pod.securityContext, { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } })
  t.equal(pod.containers.length, 1)
  const c = pod.containers[0]!
  t.same(c.args, ['--config', '/etc/podsec-fim/aggregator.json'])
  t.match(c.securityContext, { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, runAsNonRoot: true, capabilities: { drop: ['ALL'] }, seccompProfile: { type: 'RuntimeDefault' } })
  t.ok(c.resources.requests && c.resources.limits, 'requests and limits are set')
  t.same(c.env, [
    { name: 'POD_NAMESPACE', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } } },
    { name: 'POD_NAME', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.name' } } },
  ])
  t.same(c.ports, [{ name: 'https', containerPort: 8443, protocol: 'TCP' }])
  for (const probe of [c.livenessProbe, c.readinessProbe]) t.match(probe, { httpGet: { path: '/healthz', port: 'https', scheme: 'HTTPS' } })
  t.match(c.volumeMounts, [{ name: 'config', mountPath: '/etc/podsec-fim', readOnly: true }, { name: 'serving-cert', readOnly: true }])
  t.match(pod.volumes, [
    { name: 'config', configMap: { name: 'podsec-fim-aggregator', items: [{ key: 'aggregator.json', path: 'aggregator.json' }] } },
    { name: 'serving-cert', secret: { secretName: 'podsec-fim-aggregator-tls', defaultMode: 0o440 } },
  ])
  const cm = await getJson<{ data: Record<string, string> }>(['configmap', 'podsec-fim-aggregator', '-n', NS])
  t.doesNotThrow(() => JSON.parse(cm.data['aggregator.json']!), 'aggregator.json is JSON')
})

t.test('the Service exposes 8443 (https) on a ClusterIP, selecting the Deployment\'s pods', async t => {
  const svc = await getJson<{ spec: { type: string, clusterIP: string, selector: Record<string, string>, ports: unknown[] } }>(['service', 'podsec-fim-aggregator', '-n', NS])
  t.equal(svc.spec.type, 'ClusterIP')
  t.ok(isIPv4(svc.spec.clusterIP), `a cluster IP is allocated (${svc.spec.clusterIP})`)
  t.same(svc.spec.ports, [{ name: 'https', port: 8443, targetPort: 'https', protocol: 'TCP' }])
  const d = await getJson<{ spec: { template: { metadata: { labels: Record<string, string> } } } }>(['deployment', 'podsec-fim-aggregator', '-n', NS])
  t.match(d.spec.template.metadata.labels, svc.spec.selector, 'the selector matches the pod template')
})

t.test('the PrometheusRule is FIO\'s NodeHasIntegrityFailure alert, labelled with our namespace', async t => {
  const rule = await getJson<{ spec: unknown }>(['prometheusrule', 'podsec-fim', '-n', NS])
  t.same(rule.spec, {
    groups: [{
      name: 'node-failed',
      rules: [{
        alert: 'NodeHasIntegrityFailure',
        expr: 'file_integrity_operator_node_failed{node=~".+"} * on(node) kube_node_info > 0',
        for: '1s',
        labels: { severity: 'warning', namespace: 'podsec-fim' },
        annotations: {
          summary: 'Node {{ $labels.node }} has a file integrity failure',
          description: 'Node {{ $labels.node }} has an integrity check status of Failed for more than 1 second.',
        },
      }],
    }],
  })
})

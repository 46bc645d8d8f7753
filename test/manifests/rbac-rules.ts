// podsec-fim-aggregator's permissions as the tests expect them, and a reader of
// `kubectl auth can-i --list` (it has no JSON output) that turns its table into comparable rules.
import type { Kube } from '../helpers/kube.js'

const NS = 'podsec-fim'
export const SA = `system:serviceaccount:${NS}:podsec-fim-aggregator`
// A service account nothing is bound to: whatever it may do, every service account may do (the
// bootstrap discovery and self-review roles), so it is subtracted before comparing.
export const UNBOUND_SA = `system:serviceaccount:${NS}:podsec-fim-unbound`

/** One can-i --list row: "resource|resourceNames|verbs" with verbs sorted; non-resource rows use the URLs. */
export type Rule = string
const rule = (resource: string, names: string[], verbs: string[]): Rule => `${resource}|${names.join(',')}|${[...verbs].sort().join(',')}`

const CLUSTER: Rule[] = [
  rule('nodes', [], ['get', 'list', 'watch']),
  rule('tokenreviews.authentication.k8s.io', [], ['create']),
]

/** Every grant beyond an unbound service account's, per namespace, as the real authorizer reports it. */
export const EXPECTED_RULES: Record<string, Rule[]> = {
  [NS]: [
    ...CLUSTER,
    rule('fileintegrities.fileintegrity.openshift.io', [], ['get', 'list', 'watch', 'update', 'patch']),
    rule('fileintegrities.fileintegrity.openshift.io/status', [], ['get', 'update', 'patch']),
    rule('fileintegritynodestatuses.fileintegrity.openshift.io', [], ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete']),
    rule('configmaps', [], ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete']),
    rule('events', [], ['create', 'patch']),
    rule('leases.coordination.k8s.io', [], ['create']),
    rule('leases.coordination.k8s.io', ['podsec-fim-aggregator'], ['get', 'update']),
  ].sort(),
  'kube-system': [...CLUSTER, rule('configmaps', ['extension-apiserver-authentication'], ['get'])].sort(),
  default: [...CLUSTER].sort(),
}

/** Parses `kubectl auth can-i --list` by the header's column positions (cells may be empty). */
export function parseCanIList (out: string): Rule[] {
  const [header, ...lines] = out.split('\n').filter(l => l.trim() !== '')
  if (header === undefined) throw new Error('kubectl auth can-i --list printed nothing')
  const cols = ['Resources', 'Non-Resource URLs', 'Resource Names', 'Verbs'].map(name => {
    const at = header.indexOf(name)
    if (at < 0) throw new Error(`kubectl auth can-i --list: no "${name}" column in "${header}"`)
    return at
  })
  const list = (cell: string): string[] => cell.replace(/^\[|\]$/g, '').split(' ').filter(Boolean)
  return lines.map(line => {
    const [res, urls, names, verbs] = cols.map((at, i) => line.slice(at, cols[i + 1] ?? line.length).trim()) as [string, string, string, string]
    return rule(res === '' ? list(urls).join(',') : res, list(names), list(verbs))
  })
}

export async function canIList (kube: Kube, user: string, ns: string): Promise<Rule[]> {
  const r = await kube.kubectl(['auth', 'can-i', '--list', `--as=${user}`, '-n', ns])
  if (r.code !== 0) throw new Error(`kubectl auth can-i --list as ${user} in ${ns} failed: ${r.stderr.trim()}`)
  return parseCanIList(r.stdout)
}

/** Rules in `own` but not in `baseline`, sorted and deduplicated. */
export function diffRules (own: Rule[], baseline: Rule[]): Rule[] {
  const base = new Set(baseline)
  return [...new Set(own.filter(r => !base.has(r)))].sort()
}

// [verb, resource or resource/name, namespace ('' = cluster scope), subresource, allowed]
export type CanICase = [string, string, string, string, boolean]
const FI = 'fileintegrities.fileintegrity.openshift.io'
const FINS = 'fileintegritynodestatuses.fileintegrity.openshift.io'
const LEASES = 'leases.coordination.k8s.io'
const ALL_VERBS = ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete']

export const CAN_I_CASES: CanICase[] = [
  ...['get', 'list', 'watch', 'update', 'patch'].map((v): CanICase => [v, FI, NS, '', true]),
  ...['get', 'update', 'patch'].map((v): CanICase => [v, FI, NS, 'status', true]),
  ...ALL_VERBS.map((v): CanICase => [v, FINS, NS, '', true]),
  ...ALL_VERBS.map((v): CanICase => [v, 'configmaps', NS, '', true]),
  ['create', 'events', NS, '', true],
  ['patch', 'events', NS, '', true],
  ['create', LEASES, NS, '', true],
  ['get', `${LEASES}/podsec-fim-aggregator`, NS, '', true],
  ['update', `${LEASES}/podsec-fim-aggregator`, NS, '', true],
  ['get', 'configmaps/extension-apiserver-authentication', 'kube-system', '', true],
  ['get', 'nodes', '', '', true],
  ['list', 'nodes', '', '', true],
  ['watch', 'nodes', '', '', true],
  ['create', 'tokenreviews.authentication.k8s.io', '', '', true],
  // What it must not do.
  ['get', 'secrets', NS, '', false],
  ['list', 'secrets', NS, '', false],
  ['get', 'secrets', 'kube-system', '', false],
  ['create', 'pods', NS, '', false],
  ['create', 'pods', 'default', '', false],
  ['create', 'pods', NS, 'exec', false],
  ['update', 'nodes', '', '', false],
  ['patch', 'nodes', '', '', false],
  ['delete', 'nodes', '', '', false],
  ['update', 'nodes', '', 'status', false],
  ['get', 'configmaps', 'default', '', false],
  ['create', 'configmaps', 'default', '', false],
  ['list', 'configmaps', 'kube-system', '', false],
  ['get', 'configmaps/kube-proxy', 'kube-system', '', false],
  ['get', 'configmaps/kube-root-ca.crt', 'kube-system', '', false],
  ['watch', 'configmaps/extension-apiserver-authentication', 'kube-system', '', false],
  ['update', 'configmaps/extension-apiserver-authentication', 'kube-system', '', false],
  ['create', FI, NS, '', false],
  ['delete', FI, NS, '', false],
  ['deletecollection', FI, NS, '', false],
  ['get', FI, 'default', '', false],
  ['update', FI, 'default', 'status', false],
  ['create', FINS, 'default', '', false],
  ['get', `${LEASES}/other-leader`, NS, '', false],
  ['update', `${LEASES}/other-leader`, NS, '', false],
  ['list', LEASES, NS, '', false],
  ['delete', `${LEASES}/podsec-fim-aggregator`, NS, '', false],
  ['patch', `${LEASES}/podsec-fim-aggregator`, NS, '', false],
  ['create', LEASES, 'kube-system', '', false],
  ['get', 'clusterroles.rbac.authorization.k8s.io', '', '', false],
  ['create', 'clusterroles.rbac.authorization.k8s.io', '', '', false],
  ['create', 'rolebindings.rbac.authorization.k8s.io', NS, '', false],
  ['create', 'serviceaccounts', NS, 'token', false],
  ['create', 'subjectaccessreviews.authorization.k8s.io', '', '', false],
  ['create', 'certificatesigningrequests.certificates.k8s.io', '', '', false],
  ['create', 'daemonsets.apps', NS, '', false],
  ['update', 'deployments.apps', NS, '', false],
  ['create', 'events', 'default', '', false],
  ['get', 'events', NS, '', false],
]

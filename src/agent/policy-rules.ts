/**
 * podsec-inotify-check-policy's rules as pure functions over PolicyFacts, with podsec's weights
 * and texts. Fixed against the original (see the README, "Container trust policy"): group
 * membership is exact (jq's `index` made `podman_dev` count as `podman`), requirements are read
 * as containers/image ANDs them, `sigstoreSigned` counts as signed, the 90×share rules divide by
 * the users they examined (never by zero, never above 90), and 107 names its users.
 */
import type { PolicyFacts, PolicyUser } from './policy-facts.js'
import type { PolicyJson, PolicyRequirement } from './policy-json.js'

export type RuleId = '101' | '102' | '103' | '104' | '105' | '106' | '107' | 'no-storage-conf' | 'writable-config'

export interface RuleViolation {
  readonly rule: RuleId
  readonly weight: number
  /** Sorted, unique. */
  readonly users: readonly string[]
  /** podsec's short head (`-v`). */
  readonly head: string
  /** podsec's message after `<Prefix>(<weight>): `. */
  readonly text: string
}

export const LOCAL_REGISTRY = 'registry.local'
export const LOCAL_SIGSTORE = 'http://sigstore.local:81/sigstore/'
export const SHARE_WEIGHT = 90
/** 101 + ... + 107 + 90 + 90: the largest summary weight. */
export const MAX_WEIGHT = 101 + 102 + 103 + 104 + 105 + 106 + 107 + SHARE_WEIGHT * 2

const quoted = (users: readonly string[]): string => users.map(u => JSON.stringify(u)).join(' ')

const RULES: Readonly<Record<RuleId, { readonly head: string, readonly text: (q: string) => string }>> = {
  101: { head: 'outside the podman group', text: q => `Users ${q} have images but are not in the podman group` },
  102: { head: 'capable of receiving any image', text: q => `Users ${q} have defaultPolicy!=reject in policy.json but are not in the podman_dev group` },
  103: { head: 'capable of getting a local image without a signature', text: q => `Users ${q} do not have registry.local in the list of registries for which the presence of digital image signature is checked` },
  104: { head: 'capable of receiving any image without a signature', text: q => `Users ${q} have registries in the policy for which the presence of an electronic image signature is not checked` },
  105: { head: 'capable of receiving any image via prohibited transport', text: q => `Users ${q} have transports other than docker in the list of supported transports` },
  106: { head: 'not using a local signature store', text: q => `Users ${q} do not use the signature store ${LOCAL_SIGSTORE} as the default signature store` },
  107: { head: 'included in the wheel group', text: q => `the ${q} users are members of the podman and wheel groups` },
  'no-storage-conf': { head: 'without a config file', text: q => `${q} users do not have config file .config/containers/storage.conf` },
  'writable-config': { head: 'able to change configuration', text: q => `${q} users have writable configuration directory .config/containers` },
}

/** Requirements are ANDed: a `reject` anywhere rejects, a signature type anywhere requires one. */
const rejects = (reqs: readonly PolicyRequirement[]): boolean => reqs.some(r => r.type === 'reject')
const needsSignature = (reqs: readonly PolicyRequirement[]): boolean => reqs.some(r => r.type === 'signedBy' || r.type === 'sigstoreSigned')

function isLocalRegistryScope (scope: string): boolean {
  return scope === LOCAL_REGISTRY || scope.startsWith(`${LOCAL_REGISTRY}/`) || scope.startsWith(`${LOCAL_REGISTRY}:`)
}

type PolicyCheck = (p: PolicyJson, u: PolicyUser) => boolean

const POLICY_CHECKS: ReadonlyArray<readonly [RuleId, PolicyCheck]> = [
  ['102', (p, u) => !rejects(p.default) && !(u.groups ?? []).includes('podman_dev')],
  ['103', p => !Object.entries(p.transports.docker ?? {}).some(([scope, reqs]) => isLocalRegistryScope(scope) && needsSignature(reqs))],
  ['104', p => Object.values(p.transports.docker ?? {}).some(reqs => !needsSignature(reqs) && !rejects(reqs))],
  ['105', p => Object.entries(p.transports).some(([name, scopes]) => name !== 'docker' && Object.values(scopes).some(reqs => !rejects(reqs)))],
]

function trimSlash (url: string): string {
  return url.replace(/\/+$/, '')
}

function violation (rule: RuleId, weight: number, users: Iterable<string>): RuleViolation {
  const sorted = [...new Set(users)].sort()
  return { rule, weight, users: sorted, head: RULES[rule].head, text: RULES[rule].text(quoted(sorted)) }
}

/** podsec's share weight: floor(90 × n / N), N the users examined; 0 when there are none. */
export function shareWeight (n: number, total: number): number {
  if (total <= 0 || n <= 0) return 0
  return Math.min(SHARE_WEIGHT, Math.floor((SHARE_WEIGHT * n) / total))
}

function populationARules (users: readonly PolicyUser[]): RuleViolation[] {
  const out: RuleViolation[] = []
  const notPodman = users.filter(u => u.name !== 'root' && u.groups !== null && !u.groups.includes('podman')).map(u => u.name)
  if (notPodman.length > 0) out.push(violation('101', 101, notPodman))
  for (const [rule, check] of POLICY_CHECKS) {
    const hit = users.filter(u => u.policy !== null && check(u.policy, u)).map(u => u.name)
    if (hit.length > 0) out.push(violation(rule, Number(rule), hit))
  }
  const noSigstore = users.filter(u => u.registries !== null && trimSlash(u.registries.defaultDocker?.lookaside ?? '') !== trimSlash(LOCAL_SIGSTORE)).map(u => u.name)
  if (noSigstore.length > 0) out.push(violation('106', 106, noSigstore))
  return out
}

/** Every violated rule, in podsec's order. */
export function evaluateRules (facts: PolicyFacts): RuleViolation[] {
  const out = populationARules(facts.users)
  const b = facts.podmanUsers
  const wheel = b.filter(u => u.groups.includes('wheel')).map(u => u.name)
  if (wheel.length > 0) out.push(violation('107', 107, wheel))
  const noConf = b.filter(u => !u.hasStorageConf).map(u => u.name)
  if (noConf.length > 0) out.push(violation('no-storage-conf', shareWeight(noConf.length, b.length), noConf))
  const writable = b.filter(u => u.hasStorageConf && u.isConfigWritable === true).map(u => u.name)
  if (writable.length > 0) out.push(violation('writable-config', shareWeight(writable.length, b.length), writable))
  return out
}

/** The summary weight: the sum of the violated rules' weights, clamped to 0..MAX_WEIGHT. */
export function summaryWeight (violations: readonly RuleViolation[]): number {
  return Math.max(0, Math.min(MAX_WEIGHT, violations.reduce((sum, v) => sum + v.weight, 0)))
}

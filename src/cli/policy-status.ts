/**
 * The Nagios plugin output of `podsec-fim check policy`: one status line with perfdata, then
 * (with -v) podsec's short heads and (with -vv) the full per-rule messages, one per line, as
 * plugin "long text". podsec put this text into the perfdata slot; here perfdata is numbers only.
 */
import type { PolicyVerdict } from '../agent/policy-report.js'
import type { RuleId } from '../agent/policy-rules.js'
import type { Thresholds } from '../agent/policy-thresholds.js'
import { EXIT } from './exit-codes.js'
import { oneLine } from './table.js'

const RULE_IDS: readonly RuleId[] = ['101', '102', '103', '104', '105', '106', '107', 'no-storage-conf', 'writable-config']

export const STATUS_EXIT = { OK: EXIT.OK, WARNING: 1, CRITICAL: 2, UNKNOWN: 3 } as const

const quoted = (users: readonly string[]): string => users.map(u => JSON.stringify(u)).join(' ')

function summary (v: PolicyVerdict): string {
  const parts: string[] = []
  if (v.rules.length === 0) parts.push('Containerization policies are not violated')
  else parts.push(`Violation of user containerization policies ${quoted(v.users)} (weight ${v.weight}, rules ${v.rules.map(r => r.rule).join(', ')})`)
  if (v.problems.length > 0) parts.push(`${v.problems.length} policy file(s) unreadable or invalid: ${v.problems.map(p => p.file).join(', ')}`)
  return oneLine(parts.join('; '))
}

/** `weight=<n>;<warn>;<crit>;0;<max>` then one counter per rule and the population sizes. */
export function perfdata (v: PolicyVerdict, t: Thresholds): string {
  const weights = new Map(v.rules.map(r => [r.rule, r.weight]))
  const items = [`weight=${v.weight};${t.nagios.w?.text ?? ''};${t.nagios.c?.text ?? ''};0;${v.maxWeight}`]
  for (const id of RULE_IDS) items.push(`rule_${id.replace(/-/g, '_')}=${weights.get(id) ?? 0}`)
  items.push(`users=${v.examined.users}`, `podman_users=${v.examined.podmanUsers}`, `file_problems=${v.problems.length}`)
  return items.join(' ')
}

export function renderPolicyStatus (v: PolicyVerdict, t: Thresholds): string {
  const lines = [`POLICY ${v.status} - ${summary(v)} | ${perfdata(v, t)}`]
  if (t.verbosity >= 1 && v.rules.length > 0) {
    lines.push('There are users:')
    for (const r of v.rules) lines.push(oneLine(`${r.head}: ${quoted(r.users)}`))
  }
  if (t.verbosity >= 2) for (const r of v.rules) lines.push(oneLine(r.message))
  if (t.verbosity >= 1) for (const p of v.problems) lines.push(oneLine(`${p.message} (${p.code})`))
  return lines.join('\n')
}

/** The plugin's answer when it could not evaluate at all (bad thresholds, bad config). */
export function renderUnknown (message: string): string {
  return `POLICY UNKNOWN - ${oneLine(message)}`
}

/**
 * Turns facts and thresholds into a verdict: the violated rules with their podsec level and
 * syslog line, the summary weight and Nagios state, the findings and their fingerprints. Pure,
 * shared by the policy watcher and `podsec-fim check policy`.
 */
import type { FindingInput, FindingSeverity, SyslogPriority } from './finding-types.js'
import type { FileProblem, PolicyFacts } from './policy-facts.js'
import { evaluateRules, MAX_WEIGHT, summaryWeight, type RuleViolation } from './policy-rules.js'
import { journalLevel, nagiosState, type JournalLevel, type Thresholds } from './policy-thresholds.js'
import { rangeFires } from '../core/nagios-range.js'

export const POLICY_SYSLOG_TAG = 'podsec-inotify-check-policy'

export interface RuleVerdict extends RuleViolation {
  /** The journal level that fired for this rule's weight; null: podsec would not log it. */
  readonly level: JournalLevel | null
  readonly severity: FindingSeverity
  /** `Critical(101): Users "alice" have images ...` (podsec's message; `Info(...)` when no level fired). */
  readonly message: string
}

export type NagiosStatus = 'OK' | 'WARNING' | 'CRITICAL' | 'UNKNOWN'

export interface PolicyVerdict {
  readonly weight: number
  readonly maxWeight: number
  readonly status: NagiosStatus
  readonly rules: readonly RuleVerdict[]
  readonly problems: readonly FileProblem[]
  /** Users in any violated rule, sorted. */
  readonly users: readonly string[]
  readonly examined: { readonly users: number, readonly podmanUsers: number }
}

export interface SyslogLine {
  readonly priority: SyslogPriority
  readonly message: string
}

function ruleVerdict (v: RuleViolation, t: Thresholds): RuleVerdict {
  const level = journalLevel(t, v.weight)
  const isWarning = t.nagios.w !== undefined && rangeFires(t.nagios.w, v.weight)
  const severity: FindingSeverity = level?.isAlert === true ? 'critical' : isWarning ? 'warning' : 'info'
  return { ...v, level, severity, message: `${level?.prefix ?? 'Info'}(${v.weight}): ${v.text}` }
}

/** Worst first: CRITICAL > WARNING > UNKNOWN (a file we could not judge) > OK. */
function overallStatus (state: 'critical' | 'warning' | 'ok', hasProblems: boolean): NagiosStatus {
  if (state === 'critical') return 'CRITICAL'
  if (state === 'warning') return 'WARNING'
  return hasProblems ? 'UNKNOWN' : 'OK'
}

export function evaluatePolicy (facts: PolicyFacts, t: Thresholds): PolicyVerdict {
  const rules = evaluateRules(facts).map(v => ruleVerdict(v, t))
  const weight = summaryWeight(rules)
  const users = [...new Set(rules.flatMap(r => r.users))].sort()
  return {
    weight, maxWeight: MAX_WEIGHT, status: overallStatus(nagiosState(t, weight), facts.problems.length > 0), rules, problems: facts.problems, users,
    examined: { users: facts.users.length, podmanUsers: facts.podmanUsers.length },
  }
}

/**
 * The lines podsec would log, `<Prefix>: <Prefix>(<weight>): <text>`, for rules whose level
 * fired; unreadable or invalid files go out as `Warning:` (nagwad: WARNING), which podsec lacked.
 */
export function syslogLines (verdict: PolicyVerdict, rules: readonly RuleVerdict[] = verdict.rules, problems: readonly FileProblem[] = verdict.problems): SyslogLine[] {
  const out: SyslogLine[] = []
  for (const r of rules) if (r.level !== null) out.push({ priority: r.level.priority, message: `${r.level.prefix}: ${r.message}` })
  for (const p of problems) out.push({ priority: 'warning', message: `Warning: ${p.message}` })
  return out
}

export function ruleFingerprint (rule: string, user: string, severity: FindingSeverity): string {
  return `policy:${rule}:${user}:${severity}`
}

export function problemFingerprint (p: FileProblem): string {
  return `policy-file:${p.file}:${p.code}:${p.message}`
}

/** One finding per violated rule and user, one per file problem, each with its fingerprint. */
export function verdictFindings (verdict: PolicyVerdict): FindingInput[] {
  const out: FindingInput[] = []
  for (const r of verdict.rules) {
    for (const user of r.users) {
      out.push({
        kind: 'policy', severity: r.severity, subject: user, message: r.message, fingerprint: ruleFingerprint(r.rule, user, r.severity),
        details: { rule: r.rule, weight: r.weight, prefix: r.level?.prefix ?? null, users: r.users, head: r.head },
      })
    }
  }
  for (const p of verdict.problems) {
    out.push({ kind: 'policy-file', severity: 'warning', subject: p.file, message: p.message, fingerprint: problemFingerprint(p), details: { code: p.code } })
  }
  return out
}

/**
 * The container trust policy watcher (podsec-inotify-check-policy as a daemon): inotify on
 * policy.json, registries.d, storage.conf, the users' containers config and /etc/passwd and
 * /etc/group; a change is evaluated after a short quiet period, and a slow periodic rescan is
 * the safety net. Only a change of verdict is reported: each finding has a fingerprint of rule,
 * user and severity, and is recorded once while it holds; a rule's syslog line is written again
 * only when its users or level change. With `cursors`, what was reported is kept in the state
 * database, so a restart does not report a verdict that held before it again.
 */
import type { WatcherHealth } from '../core/control-api.js'
import { isoTime } from '../core/control-api.js'
import type { Logger } from '../core/log.js'
import type { FindingSink, SyslogSink, Watcher } from './finding-types.js'
import { collectPolicyFacts, type PolicyRoots } from './policy-facts.js'
import { evaluatePolicy, POLICY_SYSLOG_TAG, problemFingerprint, syslogLines, verdictFindings, type PolicyVerdict } from './policy-report.js'
import { ConfigError } from '../core/errors.js'
import { parseThresholdArgs, type Thresholds } from './policy-thresholds.js'
import { WatchSet, watchPlan } from './policy-watch-set.js'
import type { ImmutableProbe } from './policy-writable.js'
import type { CursorStore } from './cursor-store.js'

/** What was last reported, as kept across restarts. */
interface Reported { readonly seen: string[], readonly ruleKeys: Array<[string, string]> }
const CURSOR = 'policy-verdict'

function isReported (v: unknown): v is Reported {
  const r = v as Reported | null
  return r !== null && typeof r === 'object' && Array.isArray(r.seen) && r.seen.every(f => typeof f === 'string') &&
    Array.isArray(r.ruleKeys) && r.ruleKeys.every(e => Array.isArray(e) && e.length === 2 && e.every(x => typeof x === 'string'))
}

export interface PolicyWatcherDeps {
  readonly roots: PolicyRoots
  readonly thresholds: Thresholds
  readonly findings: FindingSink
  readonly syslog: SyslogSink
  readonly log: Logger
  readonly now: () => number
  readonly probe: ImmutableProbe
  /** Where the reported verdict is kept across restarts; without it, a restart reports it again. */
  readonly cursors?: CursorStore
  /** Quiet period after the last change before evaluating (editors write in several steps). */
  readonly debounceMs?: number
  /** Full re-evaluation even without events. */
  readonly rescanMs?: number
}

export class PolicyWatcher implements Watcher {
  readonly name = 'policy'
  readonly #deps: PolicyWatcherDeps
  readonly #watches: WatchSet
  #isRunning = false
  #lastEventAt: number | null = null
  #errors = 0
  #timer: NodeJS.Timeout | null = null
  #rescan: NodeJS.Timeout | null = null
  #running: Promise<void> | null = null
  #isDirty = false
  #seen = new Set<string>()
  #ruleKeys = new Map<string, string>()
  #verdict: PolicyVerdict | null = null
  #evaluations = 0

  constructor (deps: PolicyWatcherDeps) {
    this.#deps = deps
    this.#watches = new WatchSet(() => this.#changed(), (dir, err) => {
      this.#errors++
      deps.log.warn({ dir, err }, 'policy watch failed')
    })
    this.#loadReported()
  }

  #loadReported (): void {
    const kept = this.#deps.cursors?.get<unknown>(CURSOR) ?? null
    if (kept === null) return
    if (!isReported(kept)) {
      this.#deps.log.warn({ cursor: CURSOR }, 'the kept policy verdict is malformed; the current verdict is reported again')
      return
    }
    this.#seen = new Set(kept.seen)
    this.#ruleKeys = new Map(kept.ruleKeys)
  }

  /** The last verdict (null before the first evaluation). */
  get verdict (): PolicyVerdict | null {
    return this.#verdict
  }

  /** Evaluations finished since start; tests wait on it. */
  get evaluations (): number {
    return this.#evaluations
  }

  async start (): Promise<void> {
    this.#isRunning = true
    await this.evaluate()
    const rescanMs = this.#deps.rescanMs ?? 600_000
    this.#rescan = setInterval(() => { void this.evaluate() }, rescanMs)
    this.#rescan.unref()
  }

  #changed (): void {
    if (!this.#isRunning) return
    this.#lastEventAt = this.#deps.now()
    if (this.#timer !== null) clearTimeout(this.#timer)
    this.#timer = setTimeout(() => { this.#timer = null; void this.evaluate() }, this.#deps.debounceMs ?? 500)
  }

  /** Evaluates now; a call during an evaluation runs one more after it. */
  async evaluate (): Promise<void> {
    if (this.#running !== null) {
      this.#isDirty = true
      return this.#running
    }
    this.#running = this.#evaluateOnce().finally(() => { this.#running = null })
    await this.#running
    if (this.#isDirty && this.#isRunning) {
      this.#isDirty = false
      await this.evaluate()
    }
  }

  async #evaluateOnce (): Promise<void> {
    const { roots, thresholds, probe, log } = this.#deps
    try {
      const facts = await collectPolicyFacts(roots, probe)
      if (!this.#isRunning) return
      const verdict = evaluatePolicy(facts, thresholds)
      this.#report(verdict)
      this.#verdict = verdict
      // Every home, not only the examined ones: a user starting podman creates the storage dir.
      this.#watches.sync(watchPlan(roots, facts.homes))
    } catch (err) {
      this.#errors++
      log.error({ err }, 'policy evaluation failed')
    } finally {
      this.#evaluations++
    }
  }

  #report (verdict: PolicyVerdict): void {
    const { findings, syslog, log } = this.#deps
    const now = new Set<string>()
    for (const f of verdictFindings(verdict)) {
      now.add(f.fingerprint as string)
      if (!this.#seen.has(f.fingerprint as string)) findings.record(f)
    }
    for (const gone of [...this.#seen].filter(f => !now.has(f))) log.info({ fingerprint: gone }, 'policy finding resolved')
    const ruleKeys = new Map(verdict.rules.map(r => [r.rule, `${r.level?.letter ?? '-'}|${r.weight}|${r.users.join(' ')}`]))
    const changedRules = verdict.rules.filter(r => this.#ruleKeys.get(r.rule) !== ruleKeys.get(r.rule))
    const newProblems = verdict.problems.filter(p => !this.#seen.has(problemFingerprint(p)))
    for (const line of syslogLines(verdict, changedRules, newProblems)) syslog.write(POLICY_SYSLOG_TAG, line.priority, line.message)
    if (changedRules.length > 0 || newProblems.length > 0) log.info({ weight: verdict.weight, status: verdict.status, rules: verdict.rules.map(r => r.rule) }, 'policy verdict changed')
    this.#seen = now
    this.#ruleKeys = ruleKeys
    // One small row per evaluation (a change, or the 10-minute rescan): cheaper than deciding.
    this.#deps.cursors?.set(CURSOR, { seen: [...now], ruleKeys: [...ruleKeys] } satisfies Reported)
  }

  health (): WatcherHealth {
    const v = this.#verdict
    const unwatched = this.#watches.unwatched
    const detail = v === null
      ? 'not evaluated yet'
      : `${v.status}: weight ${v.weight}/${v.maxWeight}, ${v.rules.length} rule(s) violated, ${v.problems.length} file problem(s)${unwatched > 0 ? `, ${unwatched} dir(s) not watchable (rescan every ${Math.round((this.#deps.rescanMs ?? 600_000) / 1000)} s)` : ''}`
    return { name: this.name, running: this.#isRunning, lastEventAt: isoTime(this.#lastEventAt), watches: this.#watches.size, budget: null, overflows: 0, errors: this.#errors, detail }
  }

  async close (): Promise<void> {
    this.#isRunning = false
    if (this.#timer !== null) clearTimeout(this.#timer)
    if (this.#rescan !== null) clearInterval(this.#rescan)
    this.#watches.close()
    await this.#running
  }
}

/** Splits `policy.thresholds` (`-c 100 -w 0`) and parses it; a bad value names the config key. */
export function configThresholds (text: string): Thresholds {
  try {
    return parseThresholdArgs(text.split(/\s+/).filter(w => w !== ''))
  } catch (err) {
    throw new ConfigError(`config key "policy.thresholds": ${(err as Error).message}`, { where: 'policy.thresholds', cause: err })
  }
}

/**
 * Runs AIDE init and check for the agent and records every run as a scan in the store.
 * Scans never overlap (one queue); an init writes to a side file and replaces the baseline only
 * when AIDE succeeded and the new database is complete; a check first proves the baseline is the
 * one the agent recorded. Every failure becomes an Errored scan with a message, never a crash.
 */
import { existsSync } from 'node:fs'
import { readFile, rename, rm, writeFile, mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { AppError, isAppError } from '../core/errors.js'
import type { Logger } from '../core/log.js'
import { aidePaths, renderAideConf, reportArgs, type AidePaths } from './aide-conf.js'
import { classifyExit, otherWarnings, unverifiedFromStderr } from './aide-outcome.js'
import { spawnAide, type AideExit, type AideRunning, type AideVersion } from './aide-process.js'
import { parseJsonReport } from './aide-json-report.js'
import { parseTextReport } from './aide-text-report.js'
import { backupFile, pruneBackups } from './backups.js'
import { assertCompleteDatabase, digestFile, verifyBaseline } from './baseline-file.js'
import { reclassifyUnreadable } from './unreadable.js'
import { BaselineIndex } from './baseline-index.js'
import { confDigest, exactOnly, runFastCheck } from './fast-check.js'
import { renderIntegrityLog } from './integrity-log.js'
import { timeString } from './aide-db-values.js'
import { ScanQueue } from './scan-queue.js'
import type { AideConfigSource, RuntimeSettings } from './runtime-settings.js'
import type { Store } from './store.js'
import type { Baseline, ScanKind, ScanOutcome, ScanSummary, ScanTrigger } from './scan-types.js'

export interface ScannerOptions {
  readonly store: Store
  readonly stateDir: string
  /** mode `fast`: full checks never let AIDE read a database; the tree is measured and diffed in our code (fast-check.ts). */
  readonly aide: { readonly binary: string, readonly mode?: 'exact' | 'fast' }
  readonly version: AideVersion
  /** PATH for the AIDE child (its environment is otherwise empty but TZ=UTC, LC_ALL=C). */
  readonly path: string
  readonly log: Logger
  readonly now: () => number
  /** Called after each scan is recorded (retention). */
  readonly onFinished?: (scan: ScanSummary) => void
  /** Runs inside the transaction that records a scan: the outbox report and cursors commit with it. */
  readonly onFinishing?: (finished: FinishedScan) => void
  /** What the cluster may change at run time (maxBackups, the aide.conf, holdoff). */
  readonly settings: RuntimeSettings
}

/** A scan as it is recorded, with what it carried out: the directive's re-init token and the aide.conf it ran. */
export interface FinishedScan {
  readonly summary: ScanSummary
  readonly outcome: ScanOutcome
  readonly reinitToken: string | null
  readonly aideConfigId: string
}

function errored (err: unknown, prefix = ''): ScanOutcome {
  const code = isAppError(err) ? err.code : 'PFIM_AIDE_FAILED'
  return emptyOutcome('Errored', null, code, `${prefix}${(err as Error).message}`)
}

function emptyOutcome (condition: ScanOutcome['condition'], exitCode: number | null, errorCode: string | null, error: string | null): ScanOutcome {
  return { condition, exitCode, added: 0, changed: 0, removed: 0, errorCode, error, log: null, entries: [], unverified: [] }
}

export class Scanner {
  readonly paths: AidePaths
  /** AIDE's database parsed into SQLite after each init (fast check, fast path). */
  readonly index: BaselineIndex
  readonly store: Store
  readonly #o: ScannerOptions
  readonly settings: RuntimeSettings
  #conf = ''
  readonly #queue = new ScanQueue()
  #aide: AideRunning | null = null
  /** A directive's re-init token, taken by the next init that starts (a queued init may be joined). */
  #pendingToken: string | null = null
  #closing = false

  constructor (opts: ScannerOptions) {
    this.#o = opts
    this.paths = aidePaths(opts.stateDir)
    this.settings = opts.settings
    this.index = new BaselineIndex(opts.store.db, opts.now)
    this.store = opts.store
  }

  get #hasJson (): boolean {
    return this.#o.version.major > 0 || this.#o.version.minor >= 18
  }

  /**
   * Queues a scan; a request equal to one still waiting in the queue shares its result. While the
   * cluster holds checks off, a check is refused (PFIM_AGENT_HELD); inits still run.
   */
  run (kind: ScanKind, trigger: ScanTrigger, opts: { reinitToken?: string | null } = {}): Promise<ScanSummary> {
    if (kind === 'check' && this.settings.current.isHeld) {
      return Promise.reject(new AppError('PFIM_AGENT_HELD', 'checks are held off by the cluster (FileIntegrity holdoff annotation); they resume when it is removed'))
    }
    if (kind === 'init' && opts.reinitToken != null) this.#pendingToken = opts.reinitToken
    return this.#queue.enqueue(kind, () => this.#record(kind, trigger))
  }

  /** The scan in progress, if any. */
  get current (): { kind: ScanKind } | null {
    return this.#queue.current === null ? null : { kind: this.#queue.current }
  }

  async #record (kind: ScanKind, trigger: ScanTrigger): Promise<ScanSummary> {
    const { store, log } = this.#o
    const reinitToken = kind === 'init' ? this.#pendingToken : null
    if (kind === 'init') this.#pendingToken = null
    const source = this.settings.current.aideConfig
    const id = store.beginScan(kind, trigger)
    log.info({ scan: id, kind, trigger, reinitToken, aideConfig: source.id }, 'scan started')
    let outcome: ScanOutcome
    try {
      outcome = this.#closing ? emptyOutcome('Interrupted', null, 'PFIM_SCAN_INTERRUPTED', 'the agent is shutting down') : kind === 'init' ? await this.#init(id, source) : await this.#check(id, source)
    } catch (err) {
      outcome = errored(err, kind === 'init' ? 'Error initializing the AIDE DB: ' : '')
    }
    const onFinishing = this.#o.onFinishing
    const summary = store.finishScan(id, outcome, onFinishing === undefined ? undefined : s => onFinishing({ summary: s, outcome, reinitToken, aideConfigId: source.id }))
    const level = outcome.condition === 'Succeeded' ? 'info' : 'warn'
    log[level]({ scan: id, kind, condition: summary.condition, added: summary.added, changed: summary.changed, removed: summary.removed, unverified: summary.unverified, error: summary.error }, 'scan finished')
    this.#o.onFinished?.(summary)
    return summary
  }

  async #writeConf (source: AideConfigSource): Promise<void> {
    const config = source.path
    const userConf = config === null ? null : await readFile(config, 'utf8')
    const text = this.#conf = renderAideConf({ paths: this.paths, userConf, source: config ?? 'the built-in u7s rules', legacyDatabaseKey: !this.#hasJson && this.#o.version.minor < 17, isFromCluster: source.isFromCluster })
    await mkdir(this.paths.dir, { recursive: true, mode: 0o700 })
    await writeFile(this.paths.conf, text, { mode: 0o600 })
  }

  async #runAide (id: number, mode: '--init' | '--check'): Promise<AideExit> {
    await rm(this.paths.logNew, { force: true })
    await rm(this.paths.jsonReport, { force: true })
    return await (await this.#spawn(id, ['-c', this.paths.conf, ...reportArgs(this.paths, this.#hasJson), mode], 'capture')).done
  }

  /** Starts AIDE as this scan's process: its pid is recorded, and close() stops it. */
  async #spawn (id: number, args: readonly string[], stdout: 'capture' | 'stream'): Promise<AideRunning> {
    const aide = this.#aide = await spawnAide({ binary: this.#o.aide.binary, args, path: this.#o.path, stdout })
    this.#o.store.setScanPid(id, aide.pid)
    // close() may have come while AIDE was being started, when there was nothing to stop yet.
    if (this.#closing) aide.stop()
    const done = aide.done.finally(() => { if (this.#aide === aide) this.#aide = null })
    return { ...aide, done, stop: () => aide.stop() }
  }

  /**
   * Keeps AIDE's plain log as aide.log (FIO's name) and returns it. Warnings that are neither an
   * unreadable file nor a damaged database (a digest AIDE silently dropped, a dead symlink) are
   * logged here, so no AIDE warning is lost.
   */
  async #keepLog (id: number, exit: AideExit): Promise<Buffer | null> {
    const warnings = otherWarnings(exit.stderr)
    if (warnings.length > 0) this.#o.log.warn({ scan: id, warnings }, 'AIDE warned')
    // Seen with log.level debug, or when the cluster asks for it (FileIntegrity debug).
    this.#o.log.debug({ scan: id, exitCode: exit.exitCode, stderr: exit.stderr }, 'AIDE stderr')
    const log = await readFile(this.paths.logNew).catch(() => null)
    if (log !== null && log.length > 0) await writeFile(this.paths.log, log, { mode: 0o600 })
    return log
  }

  async #init (id: number, source: AideConfigSource): Promise<ScanOutcome> {
    const { now } = this.#o
    await this.#writeConf(source)
    for (const file of [this.paths.database, this.paths.log]) {
      if (await backupFile(file, now()) !== null) await pruneBackups(file, this.settings.current.maxBackups)
    }
    await rm(this.paths.databaseNew, { force: true })
    const exit = await this.#runAide(id, '--init')
    const result = classifyExit(exit)
    const log = await this.#keepLog(id, exit)
    if (result.condition === 'Interrupted') return { ...emptyOutcome('Interrupted', result.exitCode, 'PFIM_SCAN_INTERRUPTED', result.error), log }
    if (result.condition !== 'Succeeded') {
      const why = result.condition === 'Errored' ? result.error : `AIDE --init exited with ${result.exitCode}`
      return { ...emptyOutcome('Errored', result.exitCode, 'PFIM_AIDE_FAILED', `Error initializing the AIDE DB: ${why}`), log }
    }
    await assertCompleteDatabase(this.paths.databaseNew)
    const digest = await digestFile(this.paths.databaseNew)
    await rename(this.paths.databaseNew, this.paths.database)
    this.#o.store.recordBaseline(id, digest.sha256, digest.size)
    await this.#indexBaseline()
    return { ...emptyOutcome('Succeeded', 0, null, null), log, unverified: unverifiedFromStderr(exit.stderr) }
  }

  async #check (id: number, source: AideConfigSource): Promise<ScanOutcome> {
    const baseline = this.#o.store.currentBaseline()
    if (baseline === null) {
      const why = existsSync(this.paths.database)
        ? `the AIDE database ${this.paths.database} was not taken by this agent (its state database is new or was replaced); not adopting it`
        : 'no baseline has been taken yet'
      return emptyOutcome('Errored', null, 'PFIM_BASELINE_MISSING', `${why}; run "podsec-fim reinit"`)
    }
    await verifyBaseline(this.paths.database, baseline)
    await this.#writeConf(source)
    if (this.#isFast()) return await this.#fastCheck(id, baseline)
    const exit = await this.#runAide(id, '--check')
    const result = classifyExit(exit)
    const log = await this.#keepLog(id, exit)
    if (result.condition === 'Errored' || result.condition === 'Interrupted') {
      return { ...emptyOutcome(result.condition, result.exitCode, result.condition === 'Errored' ? 'PFIM_AIDE_FAILED' : 'PFIM_SCAN_INTERRUPTED', result.error), log }
    }
    const damaged = otherWarnings(exit.stderr).filter(w => /database/i.test(w))
    if (damaged.length > 0) {
      return { ...emptyOutcome('Errored', result.exitCode, 'PFIM_BASELINE_TAMPERED', `AIDE reported a damaged database: ${damaged.join('; ')}`), log }
    }
    const report = this.#hasJson ? parseJsonReport(await readFile(this.paths.jsonReport)) : parseTextReport(log ?? Buffer.alloc(0))
    const unverified = unverifiedFromStderr(exit.stderr)
    return { ...reclassifyUnreadable(report, unverified), exitCode: result.exitCode, errorCode: null, error: null, log }
  }

  /**
   * Makes the index describe the recorded baseline (an agent upgraded from before the index, or a
   * lost index): the baseline file is verified first, so the index is never built from a tampered
   * database. Returns false when there is no usable baseline.
   */
  async ensureIndex (): Promise<boolean> {
    const baseline = this.#o.store.currentBaseline()
    if (baseline === null) return false
    if (this.index.isCurrent(baseline)) return true
    try {
      await verifyBaseline(this.paths.database, baseline)
      await this.index.rebuild(this.paths.database, baseline)
      return true
    } catch (err) {
      this.#o.log.warn({ err, baseline: baseline.id }, 'baseline index not built')
      return false
    }
  }

  /** Parses the baseline just recorded into the index; a failure leaves no index (rebuilt on demand), never a wrong one. */
  async #indexBaseline (): Promise<void> {
    const baseline = this.#o.store.currentBaseline()
    if (baseline === null) return
    try {
      const state = await this.index.rebuild(this.paths.database, baseline, confDigest(this.#conf))
      this.#o.log.info({ baseline: baseline.id, entries: state.entries }, 'baseline index built')
    } catch (err) {
      this.#o.log.warn({ err, baseline: baseline.id }, 'baseline index not built')
    }
  }

  #isFast (): boolean {
    if (this.#o.aide.mode !== 'fast') return false
    const why = exactOnly(this.#conf, this.index)
    if (why !== null) this.#o.log.warn({ why }, 'running an exact check instead of a fast one')
    return why === null
  }

  async #fastCheck (id: number, baseline: Baseline): Promise<ScanOutcome> {
    if (!this.index.isCurrent(baseline)) await this.index.rebuild(this.paths.database, baseline)
    const startedAt = this.#o.now()
    let endedAt = startedAt
    const run = await runFastCheck({
      index: this.index,
      conf: this.paths.conf,
      scratchDb: join(this.paths.dir, 'aide.db.fast.gz'),
      spawn: async (args, stdout) => await this.#spawn(id, args, stdout),
      log: this.#o.log.child({ scan: id }),
      meta: () => {
        endedAt = this.#o.now()
        return { aideVersion: this.#o.version.text.replace(/^AIDE,? (version )?/, ''), startTime: timeString(Math.floor(startedAt / 1000)), endTime: timeString(Math.floor(endedAt / 1000)) }
      },
    })
    const result = classifyExit(run.exit)
    const warnings = otherWarnings(run.exit.stderr)
    if (warnings.length > 0) this.#o.log.warn({ scan: id, warnings }, 'AIDE warned')
    if (result.condition === 'Errored' || result.condition === 'Interrupted' || run.diff === null) {
      const error = 'error' in result ? result.error : `AIDE exited with ${String(run.exit.exitCode)} before the tree was read`
      return emptyOutcome(result.condition === 'Interrupted' ? 'Interrupted' : 'Errored', result.exitCode, result.condition === 'Interrupted' ? 'PFIM_SCAN_INTERRUPTED' : 'PFIM_AIDE_FAILED', error)
    }
    this.#o.log.info({ scan: id, how: run.how, entries: run.diff.totalEntries }, 'fast check read the tree')
    const log = renderIntegrityLog(run.diff, Math.floor(endedAt / 1000) - Math.floor(startedAt / 1000))
    await writeFile(this.paths.log, log, { mode: 0o600 })
    const unverified = [...unverifiedFromStderr(run.exit.stderr), ...run.unverified]
    return { ...reclassifyUnreadable(run.diff, unverified), exitCode: run.diff.exitCode, errorCode: null, error: null, log }
  }

  /** Resolves when no scan is running or queued. */
  idle (): Promise<void> {
    return this.#queue.drain()
  }

  /** Stops a running AIDE (SIGINT) and waits until its scan is recorded. */
  async close (): Promise<void> {
    this.#closing = true
    this.#aide?.stop()
    await this.#queue.drain()
  }
}

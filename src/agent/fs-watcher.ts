/**
 * The fast path: inotify (fs.watch, one watch per directory) on the directories of the baseline
 * index, within the watch budget (watch-plan.ts decides which). Each burst of events is debounced,
 * then every touched path (and its directory) is verified at once against the index
 * (event-verify.ts); changes are recorded as a Failed check scan with trigger `event`, seconds after
 * the change instead of at the next full check. A burst larger than the queue bound counts as an
 * overflow and runs a full check instead: Node's fs.watch does not surface the kernel's
 * IN_Q_OVERFLOW, so the bound is ours. Unchanged states are not recorded, and a change already
 * reported is not reported again until it changes further or a new baseline is taken.
 */
import { watch, type FSWatcher } from 'node:fs'
import type { WatcherHealth } from '../core/control-api.js'
import { isoTime } from '../core/control-api.js'
import type { Logger } from '../core/log.js'
import { BIT, hasAttr } from './aide-attributes.js'
import type { BaselineIndex } from './baseline-index.js'
import { verifyPath, type RuleLookup } from './event-verify.js'
import { pendingBound } from './inotify-queue.js'
import type { Watcher } from './finding-types.js'
import { renderIntegrityLog } from './integrity-log.js'
import type { ReportEntry } from './aide-report.js'
import type { ScanOutcome, ScanSummary, UnverifiedPath } from './scan-types.js'
import type { Store } from './store.js'
import { timeString } from './aide-db-values.js'
import { planWatches } from './watch-plan.js'

export interface FastPathOptions {
  readonly index: BaselineIndex
  readonly store: Store
  readonly budget: number
  readonly log: Logger
  readonly now: () => number
  /** aide --path-check: the attributes of the rule selecting a path, null when none does. */
  readonly rule: RuleLookup
  /** A full check, run on an overflow. */
  readonly fullCheck: () => Promise<unknown>
  readonly onRecorded?: (scan: ScanSummary) => void
  /** Runs inside the transaction that records an event scan (the aggregator's outbox). */
  readonly onFinishing?: (scan: ScanSummary, outcome: ScanOutcome) => void
  readonly debounceMs?: number
  readonly maxWaitMs?: number
  /** Paths a burst may hold waiting; beyond it, a full check (inotify-queue.ts). pendingBound() by default. */
  readonly maxPending?: number
  readonly aideVersion: string
}

const S_IFMT = 0o170000
const S_IFDIR = 0o040000

export class FastPathWatcher implements Watcher {
  readonly name = 'fast-path'
  readonly #o: FastPathOptions
  readonly #watchers = new Map<string, FSWatcher>()
  readonly #pending = new Map<string, Buffer>()
  /** Events for paths beyond the bound since the last flush: the next flush is an overflow. */
  #dropped = 0
  readonly #maxPending: number
  /**
   * Every path known to differ from the baseline (from the last full check, then from events),
   * with the signature last reported: an event scan reports all of them, so its counts are the
   * node's state against the baseline, as a full check's are (FIO's counts and events rely on it).
   */
  readonly #reported = new Map<string, { signature: string, entry: ReportEntry }>()
  #uncovered = 0
  #timer: NodeJS.Timeout | undefined
  #isScheduled = false
  #firstPendingAt: number | null = null
  #busy: Promise<void> = Promise.resolve()
  #lastEventAt: number | null = null
  #overflows = 0
  #errors = 0
  #running = false
  #baselineBuiltAt: number | null = null

  constructor (opts: FastPathOptions) {
    this.#o = opts
    this.#maxPending = opts.maxPending ?? pendingBound()
  }

  async start (): Promise<void> {
    this.#running = true
    this.replan()
  }

  /** (Re)builds the watch set from the index; called at start and after every new baseline. */
  replan (): void {
    if (!this.#running) return
    for (const w of this.#watchers.values()) w.close()
    this.#watchers.clear()
    const state = this.#o.index.state()
    if (state?.builtAt !== this.#baselineBuiltAt) this.#reported.clear()
    this.#baselineBuiltAt = state?.builtAt ?? null
    const dirs: Buffer[] = []
    for (const e of this.#o.index.all()) {
      if ((parseInt(e.fields.perm ?? '0', 8) & S_IFMT) === S_IFDIR && hasAttr(e.attr, BIT.ftype)) dirs.push(e.path)
    }
    const plan = planWatches(dirs, this.#o.budget)
    this.#uncovered = plan.uncovered.length
    for (const dir of plan.watched) this.#watch(dir)
    this.#o.log.info({ watched: this.#watchers.size, uncovered: this.#uncovered, budget: this.#o.budget }, 'fast path watching')
  }

  #watch (dir: Buffer): void {
    try {
      const w = watch(dir, { encoding: 'buffer', persistent: false }, (_type, name) => {
        this.#queue(dir)
        if (name !== null) this.#queue(Buffer.concat([dir, Buffer.from('/'), name]))
      })
      w.on('error', err => {
        this.#errors++
        this.#o.log.debug({ err, dir: dir.toString('latin1') }, 'watch ended')
        w.close()
        this.#watchers.delete(dir.toString('hex'))
      })
      this.#watchers.set(dir.toString('hex'), w)
    } catch (err) {
      this.#errors++
      this.#o.log.debug({ err, dir: dir.toString('latin1') }, 'cannot watch')
    }
  }

  /** Debounces a burst, but never longer than maxWaitMs: a file rewritten every 100 ms is still verified. */
  #queue (path: Buffer): void {
    const now = this.#o.now()
    this.#lastEventAt = now
    const key = path.toString('hex')
    if (this.#pending.has(key) || this.#pending.size < this.#maxPending) this.#pending.set(key, path)
    else this.#dropped++
    this.#firstPendingAt ??= now
    const isOverdue = now - this.#firstPendingAt >= (this.#o.maxWaitMs ?? 2000)
    if (this.#isScheduled && isOverdue) return
    clearTimeout(this.#timer)
    this.#isScheduled = true
    this.#timer = setTimeout(() => {
      this.#isScheduled = false
      this.#firstPendingAt = null
      this.#busy = this.#busy.then(() => this.#flush())
    }, isOverdue ? 0 : this.#o.debounceMs ?? 200)
  }

  async #flush (): Promise<void> {
    const paths = [...this.#pending.values()]
    const dropped = this.#dropped
    this.#pending.clear()
    this.#dropped = 0
    if (paths.length === 0 || !this.#running) return
    if (dropped > 0) {
      this.#overflows++
      this.#o.log.warn({ waiting: paths.length, dropped }, 'event burst beyond the fast path queue: running a full check')
      await this.#o.fullCheck().catch((err: unknown) => { this.#errors++; this.#o.log.warn({ err }, 'full check after overflow failed') })
      return
    }
    try {
      await this.#verify(paths)
    } catch (err) {
      this.#errors++
      this.#o.log.warn({ err }, 'fast path verification failed')
    }
  }

  async #verify (paths: readonly Buffer[]): Promise<void> {
    const started = this.#o.now()
    const unverified: UnverifiedPath[] = []
    let isChanged = false
    for (const path of paths) {
      const v = await verifyPath(path, this.#o.index.get(path), this.#o.rule)
      if (v.skipped.length > 0) unverified.push({ path, reason: `not readable by the fast path, left to the next full check: ${v.skipped.join(', ')}` })
      const key = path.toString('hex')
      if (v.entry === null) {
        isChanged = this.#reported.delete(key) || isChanged
        continue
      }
      const signature = JSON.stringify([v.entry.change, v.entry.attributes])
      if (this.#reported.get(key)?.signature === signature) continue
      // A new directory is watched too while the budget allows, so files created in it are seen.
      if (v.entry.change === 'added' && v.entry.summary.startsWith('d') && this.#watchers.size < this.#o.budget) this.#watch(path)
      this.#reported.set(key, { signature, entry: v.entry })
      isChanged = true
    }
    if (isChanged) this.#record([...this.#reported.values()].map(r => r.entry), unverified, started)
  }

  /** After a full check: what it found is what differs now (the next event scan reports it too). */
  seed (entries: readonly ReportEntry[]): void {
    this.#reported.clear()
    for (const e of entries) this.#reported.set(e.path.toString('hex'), { signature: JSON.stringify([e.change, e.attributes]), entry: e })
  }

  #record (entries: ReportEntry[], unverified: UnverifiedPath[], startedAt: number): void {
    const count = (kind: ReportEntry['change']): number => entries.filter(e => e.change === kind).length
    const report = {
      outline: 'AIDE found differences between database and filesystem!!', aideVersion: this.#o.aideVersion,
      startTime: timeString(Math.floor(startedAt / 1000)), endTime: timeString(Math.floor(this.#o.now() / 1000)),
      totalEntries: this.#o.index.state()?.entries ?? null, added: count('added'), removed: count('removed'), changed: count('changed'), entries,
    }
    const id = this.#o.store.beginScan('check', 'event')
    const outcome: ScanOutcome = {
      condition: entries.length === 0 ? 'Succeeded' : 'Failed', exitCode: (report.added > 0 ? 1 : 0) | (report.removed > 0 ? 2 : 0) | (report.changed > 0 ? 4 : 0),
      added: report.added, changed: report.changed, removed: report.removed, errorCode: null, error: null,
      log: renderIntegrityLog(report, 0), entries, unverified,
    }
    const finishing = this.#o.onFinishing
    const summary = this.#o.store.finishScan(id, outcome, finishing === undefined ? undefined : s => { finishing(s, outcome) })
    this.#o.log.warn({ scan: id, added: report.added, changed: report.changed, removed: report.removed }, report.added + report.changed + report.removed === 0 ? 'fast path: every changed file is back to its baseline' : 'fast path found changes')
    this.#o.onRecorded?.(summary)
  }

  /** Resolves when no verification is pending or running (tests, shutdown). */
  async idle (): Promise<void> {
    while (this.#isScheduled) {
      await new Promise(resolve => setTimeout(resolve, 20))
      await this.#busy
    }
    await this.#busy
  }

  health (): WatcherHealth {
    const total = this.#watchers.size + this.#uncovered
    return {
      name: this.name, running: this.#running, lastEventAt: isoTime(this.#lastEventAt), watches: this.#watchers.size, budget: this.#o.budget,
      overflows: this.#overflows, errors: this.#errors,
      detail: this.#baselineBuiltAt === null
        ? 'no baseline index yet: not watching'
        : `${this.#watchers.size} of ${total} directories covered${this.#uncovered > 0 ? `, ${this.#uncovered} left to the periodic full check (watch.budget)` : ''}; ACLs, xattrs, SELinux, e2fs attributes and capabilities are verified by the full check only`,
    }
  }

  async close (): Promise<void> {
    this.#running = false
    clearTimeout(this.#timer)
    for (const w of this.#watchers.values()) w.close()
    this.#watchers.clear()
    this.#pending.clear()
    await this.#busy
  }
}

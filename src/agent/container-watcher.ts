/**
 * The container storage watcher (podsec-inotify-check-containers as a daemon component). For each
 * containers/storage root it maps containers to their read-write layer's upper dir and watches
 * those dirs; image layers are never watched. containers.json, volatile-containers.json and the
 * layers files are watched themselves, so containers that come and go are picked up without a
 * restart (debounced), and a slow rescan is the safety net for what inotify cannot see (a storage
 * root created later, a directory that was replaced). A slower sweep looks at every upper dir
 * whole, the net for changes whose events the kernel dropped or never raised. Each change becomes a
 * finding and a podsec-compatible syslog line, rate-limited per container; file names are only
 * ever data.
 */
import { watch, type FSWatcher } from 'node:fs'
import { join } from 'node:path'
import { isoTime, type WatcherHealth } from '../core/control-api.js'
import { isAppError } from '../core/errors.js'
import type { Logger } from '../core/log.js'
import { classify, SYSLOG_TAG } from './container-classify.js'
import { RateLimiter, type Suppressed } from './container-rate.js'
import { fileReport, overflowReport, storageReport, summaryReport, type Report } from './container-report.js'
import { readStorage, STORAGE_FILES, type ContainerRecord } from './container-storage.js'
import { ContainerSweep } from './container-sweep.js'
import { ContainerTree, type TreeChange } from './container-tree.js'
import { inodeOf, isDir, realpathOrNull } from './storage-probe.js'
import { InotifyQueue } from './inotify-queue.js'
import { WatchBudget } from './watch-budget.js'
import { displayPath } from './file-path.js'
import type { FindingSink, SyslogSink, Watcher } from './finding-types.js'

export interface ContainerTiming {
  /** Events on one path within this time are one finding (a create and its first write). */
  readonly coalesceMs: number
  readonly remapDebounceMs: number
  readonly rescanMs: number
  /** The rate-limit window; `ratePerMinute` findings per container per window. */
  readonly windowMs: number
  /** Every upper dir looked at whole (ContainerTree.sweep); 0: never. `sweepSeconds` sets it. */
  readonly sweepMs: number
}

export const CONTAINER_TIMING: ContainerTiming = { coalesceMs: 100, remapDebounceMs: 250, rescanMs: 30_000, windowMs: 60_000, sweepMs: 600_000 }

export interface ContainerWatcherOptions {
  readonly storages: readonly string[]
  readonly ratePerMinute: number
  /** Most inotify watches all upper dirs together may use. */
  readonly watchBudget: number
  readonly findings: FindingSink
  readonly syslog: SyslogSink
  readonly log: Logger
  readonly now: () => number
  /** containers.sweepSeconds; timing.sweepMs wins (tests). */
  readonly sweepSeconds?: number
  readonly timing?: Partial<ContainerTiming>
  /** Paths all containers' bursts may hold waiting at once (inotify-queue.ts); beyond it, an overflow. pendingBound() by default. */
  readonly maxPendingPaths?: number
}

interface Watched { readonly root: string, record: ContainerRecord, tree: ContainerTree | null }

/** A container's key in #watched and in the rate limiter (whose summary finds it again by it). */
const containerKey = (root: string, id: string): string => `${root}\0${id}`
interface RootState {
  meta: FSWatcher[]
  /** Inodes of the watched storage dirs: a store wiped and recreated (podman system reset) is re-watched. */
  metaInodes: string
  remapTimer: NodeJS.Timeout | null
  lastError: string | null
  problem: string | null
  real: string | null
}

const META_NAMES = new Set(Object.values(STORAGE_FILES).map(parts => parts[1] as string))

export class ContainerWatcher implements Watcher {
  readonly name = 'containers'
  readonly #o: ContainerWatcherOptions
  readonly #t: ContainerTiming
  readonly #roots = new Map<string, RootState>()
  readonly #watched = new Map<string, Watched>()
  readonly #rate: RateLimiter
  readonly #budget: WatchBudget
  #rescan: NodeJS.Timeout | null = null
  readonly #sweep: ContainerSweep
  #running = false
  #lastEventAt: number | null = null
  #errors = 0
  #overflows = 0
  readonly #queue: InotifyQueue

  constructor (opts: ContainerWatcherOptions) {
    this.#o = opts
    this.#t = { ...CONTAINER_TIMING, ...(opts.sweepSeconds === undefined ? {} : { sweepMs: opts.sweepSeconds * 1000 }), ...opts.timing }
    this.#budget = new WatchBudget(opts.watchBudget)
    this.#rate = new RateLimiter({ limit: opts.ratePerMinute, windowMs: this.#t.windowMs, now: opts.now, onSummary: s => this.#summary(s) })
    this.#queue = new InotifyQueue(opts.maxPendingPaths)
    const trees = (): ContainerTree[] => [...this.#watched.values()].flatMap(w => w.tree ?? [])
    this.#sweep = new ContainerSweep({ trees, periodMs: this.#t.sweepMs, onError: err => this.#error(err, 'container sweep failed') })
  }

  async start (): Promise<void> {
    this.#running = true
    for (const root of this.#o.storages) {
      this.#roots.set(root, { meta: [], metaInodes: '', remapTimer: null, lastError: null, problem: null, real: null })
      this.#remapGuarded(root)
    }
    this.#rescan = setInterval(() => { for (const root of this.#roots.keys()) this.#remapGuarded(root) }, this.#t.rescanMs).unref()
    this.#sweep.start()
  }

  /** Every watched upper dir looked at whole now (container-sweep.ts); the timer does it every sweepMs. */
  sweep (): Promise<void> {
    return this.#sweep.run()
  }

  /** The containers watched now (for tests and the status detail). */
  containers (): ContainerRecord[] {
    return [...this.#watched.values()].filter(w => w.tree !== null).map(w => w.record)
  }

  #attachMeta (root: string, state: RootState): void {
    const dirs = ['overlay-containers', 'overlay-layers'].map(d => join(root, d))
    const inodes = dirs.map(inodeOf).join(',')
    if (inodes === state.metaInodes) return
    for (const w of state.meta) w.close()
    state.meta = []
    state.metaInodes = inodes
    for (const path of dirs.filter(isDir)) {
      try {
        const w = watch(path, { persistent: false }, (_type, name) => { if (name !== null && META_NAMES.has(name)) this.#scheduleRemap(root) })
        w.on('error', err => this.#error(err, 'storage directory watch failed'))
        state.meta.push(w)
      } catch (err) {
        this.#error(err, 'cannot watch a storage directory')
      }
    }
  }

  #scheduleRemap (root: string): void {
    const state = this.#roots.get(root)
    if (state === undefined || !this.#running) return
    if (state.remapTimer !== null) clearTimeout(state.remapTimer)
    state.remapTimer = setTimeout(() => {
      state.remapTimer = null
      this.#remapGuarded(root)
    }, this.#t.remapDebounceMs)
  }

  /** From a timer, an unexpected error must not take the agent down: it is counted and logged. */
  #remapGuarded (root: string): void {
    try {
      this.#remap(root)
    } catch (err) {
      this.#error(err, 'container storage remap failed')
    }
  }

  #remap (root: string): void {
    const state = this.#roots.get(root)
    if (state === undefined || !this.#running) return
    if (!isDir(root)) {
      state.problem = `storage root ${root} does not exist (waiting for it)`
      this.#attachMeta(root, state)
      this.#apply(root, [])
      return
    }
    // u7s-admin's ~/.local/share/containers is a symlink to usernetes/containers: one store, watched once.
    state.real = realpathOrNull(root)
    const twin = [...this.#roots].find(([other, s]) => other !== root && state.real !== null && s.real === state.real && (s.meta.length > 0 || this.#watchesIn(other)))
    if (twin !== undefined) {
      state.problem = `storage root ${root} is ${twin[0]}, already watched`
      return
    }
    this.#attachMeta(root, state)
    let map
    try {
      map = readStorage(root)
    } catch (err) {
      this.#storageInvalid(root, state, err)
      return
    }
    state.lastError = null
    state.problem = map.unknownLayers.length === 0 ? null : `${map.unknownLayers.length} container(s) in ${root} name a layer layers.json does not know`
    this.#apply(root, map.containers)
  }

  #watchesIn (root: string): boolean {
    return [...this.#watched.values()].some(w => w.root === root)
  }

  #apply (root: string, records: readonly ContainerRecord[]): void {
    const current = new Set<string>()
    for (const record of records) {
      const key = containerKey(root, record.id)
      current.add(key)
      const w = this.#watched.get(key) ?? { root, record, tree: null }
      w.record = record
      this.#watched.set(key, w)
      if (w.tree === null && isDir(record.upperDir)) w.tree = this.#startTree(w)
    }
    for (const [key, w] of this.#watched) {
      if (w.root !== root || current.has(key)) continue
      w.tree?.close()
      this.#watched.delete(key)
      this.#o.log.info({ container: w.record.id, name: w.record.name }, 'container gone, no longer watched')
    }
  }

  #startTree (w: Watched): ContainerTree {
    const tree = new ContainerTree({
      dir: w.record.upperDir,
      budget: this.#budget,
      coalesceMs: this.#t.coalesceMs,
      onChange: change => this.#change(w, change),
      onError: err => this.#error(err, 'container tree watch failed'),
      onOverflow: dropped => this.#overflow(w, dropped),
      queue: this.#queue,
    })
    tree.start()
    this.#o.log.info({ container: w.record.id, name: w.record.name, pod: w.record.pod, namespace: w.record.namespace, watches: tree.watches }, 'watching container')
    return tree
  }

  #storageInvalid (root: string, state: RootState, err: unknown): void {
    if (!isAppError(err)) throw err
    this.#errors++
    this.#o.log.warn({ err, root }, 'container storage is malformed; keeping the last good mapping')
    if (state.lastError === err.message) return
    state.lastError = err.message
    this.#report(storageReport(root, err))
  }

  #change (w: Watched, change: TreeChange): void {
    const r = w.record
    if (change.event.includes('DELETE') && !isDir(r.upperDir)) {
      // The runtime is removing the container: its files going is not news, its record going is.
      this.#scheduleRemap(w.root)
      return
    }
    const verdict = classify(change.path.toString('utf8'), change.event, change.mode)
    if (verdict === null) return
    this.#lastEventAt = this.#o.now()
    if (!this.#rate.admit(containerKey(w.root, w.record.id), verdict.severity, `${change.event}\0${displayPath(change.path)}`)) return
    this.#report(fileReport(w.root, r, change, verdict))
  }

  /** Counted every time; reported once per container and rate window (the rest go into its summary). */
  #overflow (w: Watched, dropped: number): void {
    this.#overflows++
    if (!this.#rate.admit(containerKey(w.root, w.record.id), 'warning', 'overflow')) return
    this.#o.log.warn({ container: w.record.id, name: w.record.name, dropped }, 'container event burst beyond the bound; upper dir rescanned')
    this.#report(overflowReport(w.root, w.record, dropped, this.#t.coalesceMs))
  }

  #summary (s: Suppressed): void {
    this.#report(summaryReport(this.#watched.get(s.key)?.record, s, this.#t.windowMs, this.#o.ratePerMinute))
  }

  #report (report: Report): void {
    try {
      this.#o.findings.record(report.finding)
    } catch (err) {
      this.#error(err, 'could not record a container finding')
    }
    if (report.line !== null) this.#o.syslog.write(SYSLOG_TAG, report.line.priority, report.line.message)
  }

  #error (err: unknown, msg: string): void {
    this.#errors++
    this.#o.log.warn({ err }, msg)
  }

  health (): WatcherHealth {
    const trees = [...this.#watched.values()].filter(w => w.tree !== null)
    const meta = [...this.#roots.values()].reduce((n, s) => n + s.meta.length, 0)
    const problems = [...this.#roots.values()].flatMap(s => [s.problem, s.lastError]).filter((p): p is string => p !== null)
    const unwatched = trees.reduce((n, w) => n + (w.tree?.unwatched ?? 0), 0)
    if (unwatched > 0) problems.push(`${unwatched} director${unwatched === 1 ? 'y' : 'ies'} in upper dirs not watched (containers.watchBudget ${this.#budget.limit} used up, the inotify limit or permissions)`)
    return {
      name: this.name,
      running: this.#running,
      lastEventAt: isoTime(this.#lastEventAt),
      watches: this.#budget.used + meta,
      budget: this.#budget.limit,
      // Bursts beyond the trees' shared bound, which stands in for the kernel's IN_Q_OVERFLOW that
      // fs.watch never surfaces (inotify-queue.ts).
      overflows: this.#overflows,
      errors: this.#errors,
      detail: [`${trees.length} container(s) watched in ${this.#roots.size} storage root(s)`, ...problems].join('; '),
    }
  }

  async close (): Promise<void> {
    this.#running = false
    if (this.#rescan !== null) clearInterval(this.#rescan)
    this.#rescan = null
    this.#sweep.close()
    for (const state of this.#roots.values()) {
      if (state.remapTimer !== null) clearTimeout(state.remapTimer)
      for (const w of state.meta) w.close()
      state.meta = []
    }
    for (const w of this.#watched.values()) w.tree?.close()
    this.#rate.flush()
    this.#watched.clear()
  }
}

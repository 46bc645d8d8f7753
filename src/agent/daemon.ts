/**
 * Wires the agent together: AIDE check at start, store, scanner, control socket, schedule.
 * close() stops them in the reverse order they started.
 */
import { mkdir } from 'node:fs/promises'
import type { AgentConfig } from '../core/config.js'
import { isoTime, type StatusView, type WatcherHealth } from '../core/control-api.js'
import type { Logger } from '../core/log.js'
import { VERSION } from '../core/version.js'
import { EXPOSITION_CONTENT_TYPE } from '../core/metrics.js'
import { aidePaths } from './aide-conf.js'
import { aideRuleAttributes, aideVersion, stopOrphanAide } from './aide-process.js'
import { FastPathWatcher } from './fs-watcher.js'
import { AgentMetrics } from './agent-metrics.js'
import { AggregatorReporting, type ReportingDeps } from './aggregator-reporting.js'
import { ControlServer, TextBody, type ControlRoutes } from './control-server.js'
import { CursorStore } from './cursor-store.js'
import { MetricsServer } from './metrics-server.js'
import { Outbox } from './outbox.js'
import { ownSettings, RuntimeSettings } from './runtime-settings.js'
import { scanView } from './scan-view.js'
import { Scanner } from './scanner.js'
import { Schedule } from './schedule.js'
import { openStore, stateDbPath, type Store } from './store.js'
import { lockStateDir } from './state-lock.js'
import { startWatchers, type WatcherSet } from './watchers.js'
import type { FindingSink, SyslogSink } from './finding-types.js'
import type { PolicyRoots } from './policy-facts.js'
import type { ScanOutcome, ScanSummary } from './scan-types.js'

export interface DaemonDeps {
  readonly log: Logger
  readonly now: () => number
  /** PATH used to find and run AIDE. */
  readonly path: string
  readonly pid: number
  /** Retry timing of the aggregator link; tests inject it so they never wait for real. */
  readonly aggregatorRetry?: Pick<ReportingDeps, 'backoff' | 'sleep'>
  /** Tests only: where the watchers' findings and syslog lines go instead of the state database and logger(1). */
  readonly watcherSinks?: (store: Store) => { readonly findings: FindingSink, readonly syslog: SyslogSink }
  /** Roots of the container policy files; tests use temporary dirs. Default: /etc and policy.homes. */
  readonly policyRoots?: PolicyRoots
}

export interface Daemon {
  readonly store: Store
  readonly scanner: Scanner
  readonly settings: RuntimeSettings
  /** Null when the agent runs standalone (no aggregator.url). */
  readonly reporting: AggregatorReporting | null
  readonly watchers: WatcherSet
  status (): StatusView
  close (): Promise<void>
}

/**
 * Scans a stopped agent left Running are marked Interrupted, and an AIDE it left behind (it would
 * hold the database lock) is stopped.
 */
async function recoverInterrupted (store: Store, conf: string, log: Logger): Promise<void> {
  for (const r of store.recoverInterrupted()) {
    log.warn({ scan: r.id }, 'scan interrupted by an earlier stop, marked Interrupted')
    if (r.aidePid !== null && await stopOrphanAide(r.aidePid, conf)) log.warn({ pid: r.aidePid }, 'stopped an AIDE left running by a previous agent')
  }
}

export async function startDaemon (config: AgentConfig, deps: DaemonDeps): Promise<Daemon> {
  const log = deps.log
  const version = await aideVersion(config.aide.binary, deps.path)
  log.info({ aide: version.text, node: config.nodeName, stateDir: config.stateDir }, 'starting')
  await mkdir(config.stateDir, { recursive: true, mode: 0o700 })
  const lock = lockStateDir(config.stateDir, deps.pid)
  const closers: Array<() => Promise<void> | void> = [() => lock.release()]
  try {
    const store = openStore(stateDbPath(config.stateDir), { now: deps.now })
    closers.push(() => store.close())
    const startedAt = deps.now()
    await recoverInterrupted(store, aidePaths(config.stateDir).conf, log)
    const prune = (): void => store.prune(config.retention.maxScans, config.retention.maxAgeDays)
    prune()
    const settings = new RuntimeSettings(ownSettings(config.aide))
    const reporting = await startReporting(config, deps, store, settings, version.text)
    let fastPath: FastPathWatcher | null = null
    const onFinished = (s: ScanSummary): void => {
      prune()
      if (s.kind === 'init' && s.condition === 'Succeeded') fastPath?.replan()
      if (s.kind === 'check' && s.trigger !== 'event' && (s.condition === 'Succeeded' || s.condition === 'Failed')) fastPath?.seed(store.listEntries(s.id))
    }
    const scanner = new Scanner({
      store, stateDir: config.stateDir, aide: config.aide, settings, version, path: deps.path, log: log.child({ component: 'scanner' }), now: deps.now,
      onFinished, onFinishing: reporting === null ? undefined : f => reporting.onScanFinishing(f),
    })
    closers.push(() => scanner.close())
    await reporting?.restore(scanner)
    followDebug(settings, log, config.log.level)
    const watchers = await startWatchers(config, { store, log, now: deps.now, pid: deps.pid, path: deps.path, outbox: reporting?.outbox ?? null, policyRoots: deps.policyRoots, sinks: deps.watcherSinks })
    closers.push(() => watchers.close())
    fastPath = await startFastPath(config, scanner, deps, version.text, prune, reporting === null ? undefined : (summary, outcome) => { reporting.onScanFinishing({ summary, outcome, reinitToken: null, aideConfigId: '' }) })
    closers.push(() => fastPath?.close())
    const schedule = new Schedule({ scanner, store, settings, log: log.child({ component: 'schedule' }), now: deps.now })
    const status = (): StatusView => statusView({ config, deps, startedAt, aideVersion: version.text, store, scanner, schedule, reporting, watchers: () => [...watchers.health(), ...(fastPath === null ? [] : [fastPath.health()])] })
    await startControl(config, { store, scanner, status, log, now: deps.now }, closers)
    schedule.start()
    closers.push(() => schedule.close())
    reporting?.start(scanner)
    closers.push(() => reporting?.close())
    log.info({ socket: config.socketPath, aggregator: config.aggregator.url }, 'started')
    return { store, scanner, settings, reporting, watchers, status, close: () => closeAll(closers) }
  } catch (err) {
    await closeAll(closers)
    throw err
  }
}

/** The control socket (status, check, re-init, metrics) and, with metrics.port, loopback TCP metrics. */
async function startControl (config: AgentConfig, p: { store: Store, scanner: Scanner, status: () => StatusView, log: Logger, now: () => number }, closers: Array<() => Promise<void> | void>): Promise<void> {
  const metrics = new AgentMetrics({ store: p.store, now: p.now })
  const control = new ControlServer({
    status: p.status,
    check: async () => ({ scan: scanView(await p.scanner.run('check', 'manual')) }),
    reinit: async () => ({ scan: scanView(await p.scanner.run('init', 'manual')) }),
    ...metricsRoutes(metrics, p.status),
  }, p.log.child({ component: 'control' }))
  await control.listen(config.socketPath)
  closers.push(() => control.close())
  await listenMetrics(config.metrics.port, () => metrics.collect(p.status()).render(), p.log, closers)
}

/** The metrics on the control socket: the exposition, and the same as JSON for `podsec-fim metrics --json`. */
function metricsRoutes (metrics: AgentMetrics, status: () => StatusView): Pick<ControlRoutes, 'metrics' | 'metricsJson'> {
  return {
    metrics: () => new TextBody(metrics.collect(status()).render(), EXPOSITION_CONTENT_TYPE),
    metricsJson: () => ({ metrics: metrics.collect(status()).toJSON() }),
  }
}

/** With metrics.port set, the exposition on loopback TCP too (closed with the daemon). */
async function listenMetrics (port: number | null, render: () => string, log: Logger, closers: Array<() => Promise<void> | void>): Promise<void> {
  if (port === null) return
  const tcp = new MetricsServer(render, log.child({ component: 'metrics' }))
  closers.push(() => tcp.close())
  await tcp.listen(port)
}

interface StatusParts {
  config: AgentConfig, deps: DaemonDeps, startedAt: number, aideVersion: string, store: Store, scanner: Scanner, schedule: Schedule, reporting: AggregatorReporting | null
  watchers: () => WatcherHealth[]
}

function statusView ({ config, deps, startedAt, aideVersion, store, scanner, schedule, reporting, watchers }: StatusParts): StatusView {
  const b = store.currentBaseline()
  const last = store.lastScan()
  const lastCheck = store.lastScan('check')
  return {
    node: config.nodeName, agentVersion: VERSION, aideVersion, pid: deps.pid, startedAt: isoTime(startedAt) as string, stateDir: config.stateDir,
    baseline: b === null ? null : { scanId: b.scanId, createdAt: isoTime(b.createdAt) as string, sha256: b.sha256, size: b.size },
    running: scanner.current, lastScan: last === null ? null : scanView(last), lastCheck: lastCheck === null ? null : scanView(lastCheck),
    nextCheckAt: isoTime(schedule.nextCheckAt), totals: store.totals(), watchers: watchers(), aggregator: reporting?.view() ?? null,
  }
}

/** Only with aggregator.url. Its close() is the last one pushed, so on stop it runs first. */
async function startReporting (config: AgentConfig, deps: DaemonDeps, store: Store, settings: RuntimeSettings, aideVersion: string): Promise<AggregatorReporting | null> {
  const url = config.aggregator.url
  if (url === null) return null
  const cursors = new CursorStore(store.db, deps.now)
  const holder: { reporting: AggregatorReporting | null } = { reporting: null }
  const outbox = new Outbox(store.db, deps.now, () => holder.reporting?.pusher.notify())
  holder.reporting = await AggregatorReporting.create({
    config: { ...config, aggregator: { ...config.aggregator, url } }, store, outbox, cursors, settings, log: deps.log, now: deps.now, aideVersion, ...deps.aggregatorRetry,
  })
  return holder.reporting
}

/** The cluster's `debug` turns the agent's log up to debug, and back to the configured level. */
function followDebug (settings: RuntimeSettings, log: Logger, level: string): void {
  settings.subscribe((next, prev) => {
    if (next.isDebug === prev.isDebug) return
    log.level = next.isDebug ? 'debug' : level
    log.info({ logLevel: log.level }, 'log level changed by the cluster (FileIntegrity debug)')
  })
}

/** The fast path (watch.enabled): watches once a baseline index exists; every successful init re-plans it. */
async function startFastPath (config: AgentConfig, scanner: Scanner, deps: DaemonDeps, aideVersionText: string, onRecorded: () => void, onFinishing?: (s: ScanSummary, o: ScanOutcome) => void): Promise<FastPathWatcher | null> {
  if (!config.watch.enabled) return null
  await scanner.ensureIndex()
  const watcher = new FastPathWatcher({
    index: scanner.index, store: scanner.store, budget: config.watch.budget, log: deps.log.child({ component: 'fast-path' }), now: deps.now, aideVersion: aideVersionText,
    rule: (p, type) => aideRuleAttributes({ binary: config.aide.binary, conf: scanner.paths.conf, path: deps.path }, p, type),
    fullCheck: () => scanner.run('check', 'event'), onRecorded, onFinishing,
  })
  await watcher.start()
  return watcher
}

async function closeAll (closers: Array<() => Promise<void> | void>): Promise<void> {
  for (const close of closers.splice(0).reverse()) await close()
}

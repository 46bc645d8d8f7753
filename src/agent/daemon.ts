/**
 * Wires the agent together: AIDE check at start, store, scanner, control socket, schedule.
 * close() stops them in the reverse order they started.
 */
import { mkdir, readFile } from 'node:fs/promises'
import type { AgentConfig } from '../core/config.js'
import { isoTime, type StatusView } from '../core/control-api.js'
import type { Logger } from '../core/log.js'
import { VERSION } from '../core/version.js'
import { aideVersion } from './aide-process.js'
import { AggregatorReporting, type ReportingDeps } from './aggregator-reporting.js'
import { ControlServer } from './control-server.js'
import { CursorStore } from './cursor-store.js'
import { Outbox } from './outbox.js'
import { ownSettings, RuntimeSettings } from './runtime-settings.js'
import { scanView } from './scan-view.js'
import { Scanner } from './scanner.js'
import { Schedule } from './schedule.js'
import { openStore, stateDbPath, type Store } from './store.js'
import { lockStateDir } from './state-lock.js'
import type { FindingSink, SyslogSink, Watcher } from './finding-types.js'
import { LogFindingSink, LogSyslogSink } from './log-sinks.js'
import { systemRoots, type PolicyRoots } from './policy-facts.js'
import { configThresholds, PolicyWatcher } from './policy-watcher.js'
import { lsattrProbe } from './policy-writable.js'

export interface DaemonDeps {
  readonly log: Logger
  readonly now: () => number
  /** PATH used to find and run AIDE. */
  readonly path: string
  readonly pid: number
  /** Retry timing of the aggregator link; tests inject it so they never wait for real. */
  readonly aggregatorRetry?: Pick<ReportingDeps, 'backoff' | 'sleep'>
  /** Where the watchers' findings and syslog lines go (findings.ts, syslog.ts); default: the log only. */
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
  readonly watchers: readonly Watcher[]
  status (): StatusView
  close (): Promise<void>
}

/** An AIDE left running by an agent that was killed would hold the database lock; stop it. */
async function stopOrphanAide (pid: number, log: Logger): Promise<void> {
  const cmdline = await readFile(`/proc/${pid}/cmdline`, 'latin1').catch(() => '')
  if (!cmdline.includes('aide')) return
  try {
    process.kill(pid, 'SIGINT')
    log.warn({ pid }, 'stopped an AIDE left running by a previous agent')
  } catch { /* it exited in the meantime */ }
}

export async function startDaemon (config: AgentConfig, deps: DaemonDeps): Promise<Daemon> {
  const log = deps.log
  const version = await aideVersion(config.aide.binary, deps.path)
  log.info({ aide: version.text, node: config.nodeName, stateDir: config.stateDir }, 'starting')
  await mkdir(config.stateDir, { recursive: true, mode: 0o700 })
  const lock = lockStateDir(config.stateDir, deps.pid)
  const closers: Array<() => Promise<void> | void> = [() => lock.release()]
  const watchers: Watcher[] = []
  try {
    const store = openStore(stateDbPath(config.stateDir), { now: deps.now })
    closers.push(() => store.close())
    const startedAt = deps.now()
    for (const r of store.recoverInterrupted()) {
      log.warn({ scan: r.id }, 'scan interrupted by an earlier stop, marked Interrupted')
      if (r.aidePid !== null) await stopOrphanAide(r.aidePid, log)
    }
    const prune = (): void => store.prune(config.retention.maxScans, config.retention.maxAgeDays)
    prune()
    const settings = new RuntimeSettings(ownSettings(config.aide))
    const reporting = await startReporting(config, deps, store, settings, version.text)
    const scanner = new Scanner({
      store, stateDir: config.stateDir, aide: config.aide, settings, version, path: deps.path, log: log.child({ component: 'scanner' }), now: deps.now,
      onFinished: prune, onFinishing: reporting === null ? undefined : f => reporting.onScanFinishing(f),
    })
    closers.push(() => scanner.close())
    await reporting?.restore(scanner)
    followDebug(settings, log, config.log.level)
    const schedule = new Schedule({ scanner, store, settings, log: log.child({ component: 'schedule' }), now: deps.now })
    const status = (): StatusView => statusView({ config, deps, startedAt, aideVersion: version.text, store, scanner, schedule, reporting, watchers })
    const control = new ControlServer({
      status,
      check: async () => ({ scan: scanView(await scanner.run('check', 'manual')) }),
      reinit: async () => ({ scan: scanView(await scanner.run('init', 'manual')) }),
    }, log.child({ component: 'control' }))
    await control.listen(config.socketPath)
    closers.push(() => control.close())
    schedule.start()
    closers.push(() => schedule.close())
    await startWatchers(config, deps, store, watchers, closers)
    reporting?.start(scanner)
    closers.push(() => reporting?.close())
    log.info({ socket: config.socketPath, aggregator: config.aggregator.url }, 'started')
    return { store, scanner, settings, reporting, watchers, status, close: () => closeAll(closers) }
  } catch (err) {
    await closeAll(closers)
    throw err
  }
}

interface StatusParts {
  config: AgentConfig, deps: DaemonDeps, startedAt: number, aideVersion: string, store: Store, scanner: Scanner, schedule: Schedule, reporting: AggregatorReporting | null
  watchers: readonly Watcher[]
}

function statusView ({ config, deps, startedAt, aideVersion, store, scanner, schedule, reporting, watchers }: StatusParts): StatusView {
  const b = store.currentBaseline()
  const last = store.lastScan()
  const lastCheck = store.lastScan('check')
  return {
    node: config.nodeName, agentVersion: VERSION, aideVersion, pid: deps.pid, startedAt: isoTime(startedAt) as string, stateDir: config.stateDir,
    baseline: b === null ? null : { scanId: b.scanId, createdAt: isoTime(b.createdAt) as string, sha256: b.sha256, size: b.size },
    running: scanner.current, lastScan: last === null ? null : scanView(last), lastCheck: lastCheck === null ? null : scanView(lastCheck),
    nextCheckAt: isoTime(schedule.nextCheckAt), totals: store.totals(), watchers: watchers.map(w => w.health()), aggregator: reporting?.view() ?? null,
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

/** The watchers enabled in the config; each is closed before the store it reports into. */
async function startWatchers (config: AgentConfig, deps: DaemonDeps, store: Store, watchers: Watcher[], closers: Array<() => Promise<void> | void>): Promise<void> {
  const log = deps.log
  const sinks = deps.watcherSinks?.(store) ?? { findings: new LogFindingSink(log.child({ component: 'findings' })), syslog: new LogSyslogSink(log.child({ component: 'syslog' })) }
  if (config.policy.enabled) {
    const roots = deps.policyRoots ?? systemRoots(config.policy.homes)
    const policy = new PolicyWatcher({ ...sinks, roots, thresholds: configThresholds(config.policy.thresholds), probe: lsattrProbe(), log: log.child({ component: 'policy' }), now: deps.now })
    closers.push(() => policy.close())
    await policy.start()
    watchers.push(policy)
  }
}

async function closeAll (closers: Array<() => Promise<void> | void>): Promise<void> {
  for (const close of closers.splice(0).reverse()) await close()
}

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
import { ContainerWatcher } from './container-watcher.js'
import { ControlServer } from './control-server.js'
import type { FindingSink, SyslogSink, Watcher } from './finding-types.js'
import { logFindingSink, logSyslogSink } from './log-sinks.js'
import { scanView } from './scan-view.js'
import { Scanner } from './scanner.js'
import { Schedule } from './schedule.js'
import { openStore, stateDbPath, type Store } from './store.js'
import { lockStateDir } from './state-lock.js'

export interface DaemonDeps {
  readonly log: Logger
  readonly now: () => number
  /** PATH used to find and run AIDE. */
  readonly path: string
  readonly pid: number
  /** Where watchers put findings and syslog lines; the log stand-ins when not given. */
  readonly findings?: FindingSink
  readonly syslog?: SyslogSink
}

export interface Daemon {
  readonly store: Store
  readonly scanner: Scanner
  status (): StatusView
  close (): Promise<void>
}

/** The watchers the config enables, started; the caller closes them. */
async function startWatchers (config: AgentConfig, deps: DaemonDeps): Promise<Watcher[]> {
  const findings = deps.findings ?? logFindingSink(deps.log.child({ component: 'findings' }))
  const syslog = deps.syslog ?? logSyslogSink(deps.log.child({ component: 'syslog' }))
  const watchers: Watcher[] = []
  if (config.containers.enabled) {
    watchers.push(new ContainerWatcher({ ...config.containers, findings, syslog, log: deps.log.child({ component: 'containers' }), now: deps.now }))
  }
  for (const w of watchers) await w.start()
  return watchers
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
    const scanner = new Scanner({ store, stateDir: config.stateDir, aide: config.aide, version, path: deps.path, log: log.child({ component: 'scanner' }), now: deps.now, onFinished: prune })
    closers.push(() => scanner.close())
    const watchers = await startWatchers(config, deps)
    closers.push(...watchers.map(w => () => w.close()))
    const schedule = new Schedule({ scanner, store, gracePeriodMs: config.aide.gracePeriod * 1000, initialDelayMs: config.aide.initialDelay * 1000, log: log.child({ component: 'schedule' }), now: deps.now })
    const status = (): StatusView => {
      const b = store.currentBaseline()
      const last = store.lastScan()
      const lastCheck = store.lastScan('check')
      return {
        node: config.nodeName, agentVersion: VERSION, aideVersion: version.text, pid: deps.pid, startedAt: isoTime(startedAt) as string, stateDir: config.stateDir,
        baseline: b === null ? null : { scanId: b.scanId, createdAt: isoTime(b.createdAt) as string, sha256: b.sha256, size: b.size },
        running: scanner.current, lastScan: last === null ? null : scanView(last), lastCheck: lastCheck === null ? null : scanView(lastCheck),
        nextCheckAt: isoTime(schedule.nextCheckAt), totals: store.totals(), watchers: watchers.map(w => w.health()),
      }
    }
    const control = new ControlServer({
      status,
      check: async () => ({ scan: scanView(await scanner.run('check', 'manual')) }),
      reinit: async () => ({ scan: scanView(await scanner.run('init', 'manual')) }),
    }, log.child({ component: 'control' }))
    await control.listen(config.socketPath)
    closers.push(() => control.close())
    schedule.start()
    closers.push(() => schedule.close())
    log.info({ socket: config.socketPath }, 'started')
    return { store, scanner, status, close: () => closeAll(closers) }
  } catch (err) {
    await closeAll(closers)
    throw err
  }
}

async function closeAll (closers: Array<() => Promise<void> | void>): Promise<void> {
  for (const close of closers.splice(0).reverse()) await close()
}

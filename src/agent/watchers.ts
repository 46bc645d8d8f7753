/**
 * The findings side of the agent, started after the store: the findings repository (queuing for
 * the aggregator only when one is configured), the syslog sink, the burst timer and the enabled
 * watchers. close() stops them in reverse: watchers, timer, then syslog (which lets its queue out).
 */
import type { AgentConfig } from '../core/config.js'
import type { WatcherHealth } from '../core/control-api.js'
import type { Logger } from '../core/log.js'
import { AuditWatcher } from './audit-watcher.js'
import { ContainerWatcher } from './container-watcher.js'
import type { FindingSink, SyslogSink, Watcher } from './finding-types.js'
import { FindingStore } from './findings.js'
import type { Outbox } from './outbox.js'
import { systemRoots, type PolicyRoots } from './policy-facts.js'
import { configThresholds, PolicyWatcher } from './policy-watcher.js'
import { CursorStore } from './cursor-store.js'
import { lsattrProbe } from './policy-writable.js'
import type { Store } from './store.js'
import { LoggerSyslog, NO_SYSLOG } from './syslog.js'

export interface WatcherDeps {
  readonly store: Store
  readonly log: Logger
  readonly now: () => number
  readonly pid: number
  /** PATH used to find logger(1). */
  readonly path: string
  /** The aggregator link's outbox (it wakes the pusher); null when standalone. */
  readonly outbox: Outbox | null
  /** Roots of the container policy files; tests use temporary dirs. Default: / and policy.homes. */
  readonly policyRoots?: PolicyRoots
  /** Tests only: sinks replacing the findings table and logger(1) for the watchers. */
  readonly sinks?: (store: Store) => { readonly findings: FindingSink, readonly syslog: SyslogSink }
}

export interface WatcherSet {
  readonly findings: FindingStore
  readonly syslog: SyslogSink
  health (): WatcherHealth[]
  close (): Promise<void>
}

/** Collapsed bursts are announced within this long after their window closes. */
const BURST_TICK_MS = 1000

export async function startWatchers (config: AgentConfig, deps: WatcherDeps): Promise<WatcherSet> {
  const findings = new FindingStore(deps.store.db, { now: deps.now, outbox: deps.outbox, burstMs: { 'audit-denial': config.audit.burstSeconds * 1000 } })
  const logger = config.syslog.enabled ? new LoggerSyslog({ log: deps.log.child({ component: 'syslog' }), pid: deps.pid, socket: config.syslog.socket, path: deps.path }) : null
  const bursts = setInterval(() => {
    try {
      findings.closeBursts()
    } catch (err) {
      deps.log.error({ err }, 'announcing closed finding bursts failed; retrying')
    }
  }, BURST_TICK_MS)
  const watchers: Watcher[] = []
  const close = async (): Promise<void> => {
    for (const w of watchers.splice(0).reverse()) await w.close()
    clearInterval(bursts)
    await logger?.close()
  }
  try {
    const syslog = logger ?? NO_SYSLOG
    const sinks = deps.sinks?.(deps.store) ?? { findings, syslog }
    if (config.audit.enabled) {
      watchers.push(new AuditWatcher({ config: config.audit, store: deps.store, findings, syslog, log: deps.log.child({ component: 'audit' }), now: deps.now }))
    }
    if (config.containers.enabled) {
      watchers.push(new ContainerWatcher({ ...config.containers, ...sinks, log: deps.log.child({ component: 'containers' }), now: deps.now }))
    }
    if (config.policy.enabled) {
      const roots = deps.policyRoots ?? systemRoots(config.policy.homes)
      watchers.push(new PolicyWatcher({ ...sinks, roots, thresholds: configThresholds(config.policy.thresholds), probe: lsattrProbe(), log: deps.log.child({ component: 'policy' }), now: deps.now, cursors: new CursorStore(deps.store.db, deps.now) }))
    }
    for (const w of watchers) await w.start()
    return { findings, syslog, health: () => watchers.map(w => w.health()), close }
  } catch (err) {
    await close()
    throw err
  }
}

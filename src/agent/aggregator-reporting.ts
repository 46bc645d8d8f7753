/**
 * The agent's side of the cluster (issue 3), started only when `aggregator.url` is set: the link
 * with the node's credentials, the pusher draining the outbox, heartbeats, and the directive
 * poller with its applier. Scans reach the outbox through onScanFinishing, inside the transaction
 * that records them.
 */
import type { AgentConfig } from '../core/config.js'
import { isoTime, type AggregatorView } from '../core/control-api.js'
import type { Logger } from '../core/log.js'
import type { HeartbeatPayload } from '../core/protocol.js'
import { VERSION } from '../core/version.js'
import { AggregatorLink, loadCredentials } from './aggregator-link.js'
import type { BackoffOptions, Sleep } from './backoff.js'
import type { CursorStore } from './cursor-store.js'
import { DirectiveApplier } from './directive-applier.js'
import { DirectivePoller } from './directive-poller.js'
import { Heartbeat } from './heartbeat.js'
import type { Outbox } from './outbox.js'
import { Pusher } from './pusher.js'
import type { RuntimeSettings } from './runtime-settings.js'
import { scanPayload } from './scan-payload.js'
import type { FinishedScan, Scanner } from './scanner.js'
import type { Store } from './store.js'

export interface ReportingDeps {
  readonly config: AgentConfig
  readonly store: Store
  readonly outbox: Outbox
  readonly cursors: CursorStore
  readonly settings: RuntimeSettings
  readonly log: Logger
  readonly now: () => number
  readonly aideVersion: string
  /** Tests inject these so retries never wait for real. */
  readonly backoff?: BackoffOptions
  readonly sleep?: Sleep
}

export class AggregatorReporting {
  readonly link: AggregatorLink
  readonly pusher: Pusher
  readonly #d: ReportingDeps
  #applier: DirectiveApplier | null = null
  #poller: DirectivePoller | null = null
  #heartbeat: Heartbeat | null = null

  private constructor (deps: ReportingDeps, link: AggregatorLink) {
    this.#d = deps
    this.link = link
    const { config, store, outbox, cursors, log, now, backoff, sleep } = deps
    this.pusher = new Pusher({ link, outbox, cursors, transaction: fn => store.db.transaction(fn)(), node: config.nodeName, log: log.child({ component: 'pusher' }), now, backoff, sleep })
  }

  /** Reads the credentials (a missing or malformed kubeconfig stops the start, naming the file and field). */
  static async create (deps: ReportingDeps & { config: { aggregator: { url: string } } }): Promise<AggregatorReporting> {
    const credentials = await loadCredentials(deps.config.aggregator)
    return new AggregatorReporting(deps, new AggregatorLink({ url: deps.config.aggregator.url, node: deps.config.nodeName, credentials, now: deps.now }))
  }

  /** Re-applies the stored directive; call before the schedule starts so holdoff and gracePeriod hold from the first second. */
  async restore (scanner: Scanner): Promise<void> {
    const { settings, cursors, log } = this.#d
    this.#applier = new DirectiveApplier({ settings, scanner, cursors, log: log.child({ component: 'directives' }) })
    await this.#applier.restore()
  }

  /** In the scan's own transaction: the report for the aggregator and what a directive re-init carried out. */
  onScanFinishing (f: FinishedScan): void {
    this.#applier?.recordFinished(f)
    this.#d.outbox.enqueue('scan', scanPayload(f))
  }

  start (scanner: Scanner): void {
    const { config, store, outbox, log, backoff, sleep } = this.#d
    const applier = this.#applier
    if (applier === null) throw new Error('restore() must run before start()')
    this.#heartbeat = new Heartbeat({ db: store.db, outbox, intervalMs: config.aggregator.heartbeatSeconds * 1000, payload: () => this.#heartbeatPayload(scanner) })
    this.#poller = new DirectivePoller({ link: this.link, applier, waitSeconds: config.aggregator.pollSeconds, log: log.child({ component: 'directives' }), backoff, sleep })
    this.pusher.start()
    this.#heartbeat.start()
    this.#poller.start()
  }

  #heartbeatPayload (scanner: Scanner): HeartbeatPayload {
    const { store, outbox, settings, aideVersion } = this.#d
    const isInitializing = scanner.current?.kind === 'init' || store.currentBaseline() === null
    return {
      agentVersion: VERSION,
      aideVersion: aideVersion.slice(0, 64),
      state: isInitializing ? 'initializing' : settings.current.isHeld ? 'holding' : 'active',
      backlog: outbox.backlog().count,
      lastScanId: store.lastScan()?.id ?? null,
      directiveVersion: this.#applier?.applied?.version ?? null,
    }
  }

  view (): AggregatorView {
    const health = this.link.health
    const ack = this.pusher.lastAck
    const backlog = this.#d.outbox.backlog()
    return {
      url: this.link.url,
      isConnected: health.isConnected,
      lastAckSeq: ack?.seq ?? null,
      lastAckAt: isoTime(ack?.at ?? null),
      backlog: backlog.count,
      oldestAt: isoTime(backlog.oldestAt),
      lastError: health.lastError,
      lastErrorAt: isoTime(health.lastErrorAt),
      directiveVersion: this.#applier?.applied?.version ?? null,
      isHeld: this.#d.settings.current.isHeld,
    }
  }

  /** Stops polling and pushing first (aborting requests in flight); the outbox keeps the rest. */
  async close (): Promise<void> {
    this.#heartbeat?.close()
    await this.#poller?.close()
    await this.pusher.close()
    await this.link.close()
  }
}

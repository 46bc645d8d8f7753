/**
 * Fetches directives by long-poll (GET /v1/directives?after=<version>&waitSeconds=<n>): the node
 * opens no port, it asks and the aggregator answers when the directive differs from `after` or
 * when the wait is over. Each new version is handed to the applier once; failures back off like
 * the pusher's.
 */
import type { Logger } from '../core/log.js'
import { checkDirectiveResponse, PROTOCOL_PATHS } from '../core/protocol.js'
import type { AggregatorLink } from './aggregator-link.js'
import { Backoff, DEFAULT_BACKOFF, realSleep, type BackoffOptions, type Sleep } from './backoff.js'
import type { DirectiveApplier } from './directive-applier.js'

export interface PollerOptions {
  readonly link: AggregatorLink
  readonly applier: DirectiveApplier
  readonly waitSeconds: number
  readonly log: Logger
  readonly backoff?: BackoffOptions
  readonly sleep?: Sleep
  /** Least time between two polls that brought nothing new, against an aggregator that does not hold the request. */
  readonly minIntervalMs?: number
}

export class DirectivePoller {
  readonly #o: PollerOptions
  readonly #abort = new AbortController()
  readonly #backoff: Backoff
  readonly #sleep: Sleep
  #loop: Promise<void> | null = null

  constructor (opts: PollerOptions) {
    this.#o = opts
    this.#backoff = new Backoff(opts.backoff ?? DEFAULT_BACKOFF)
    this.#sleep = opts.sleep ?? realSleep
  }

  start (): void {
    this.#loop ??= this.#run()
  }

  async #run (): Promise<void> {
    const signal = this.#abort.signal
    while (!signal.aborted) {
      try {
        const isNew = await this.#pollOnce(signal)
        this.#backoff.reset()
        if (!isNew) await this.#sleep(this.#o.minIntervalMs ?? 1000, signal)
      } catch (err) {
        if (signal.aborted) return
        const waitMs = this.#backoff.next()
        this.#o.log.warn({ err, retryInMs: waitMs }, 'cannot fetch directives from the aggregator; retrying')
        await this.#sleep(waitMs, signal)
      }
    }
  }

  /** One long-poll; true when it brought a version not applied yet (and applied it). */
  async #pollOnce (signal: AbortSignal): Promise<boolean> {
    const { link, applier, waitSeconds } = this.#o
    const after = applier.applied?.version ?? ''
    const path = `${PROTOCOL_PATHS.directives}?after=${encodeURIComponent(after)}&waitSeconds=${waitSeconds}`
    const answer = await link.exchange('GET', path, undefined, checkDirectiveResponse, { signal, waitMs: waitSeconds * 1000 })
    if (answer === null || answer.directive.version === after) return false
    await applier.apply(answer.directive)
    return true
  }

  /** Aborts the poll in flight and waits for the loop to end. */
  async close (): Promise<void> {
    this.#abort.abort()
    await this.#loop
  }
}

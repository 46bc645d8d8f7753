/**
 * When scans run by themselves: a first baseline at start when none exists, then a full check
 * `initialDelay` seconds after start and every `gracePeriod` seconds after the previous one ended
 * (FIO sleeps its interval after each scan too). Both come from the runtime settings, so a
 * directive that changes them re-arms the pending timer. While the cluster holds checks off, a due
 * check is skipped and runs as soon as the hold is released.
 */
import { existsSync } from 'node:fs'
import { isAppError } from '../core/errors.js'
import type { Logger } from '../core/log.js'
import type { RuntimeSettings, Settings } from './runtime-settings.js'
import type { Scanner } from './scanner.js'
import type { Store } from './store.js'

export interface ScheduleOptions {
  readonly scanner: Scanner
  readonly store: Store
  readonly settings: RuntimeSettings
  readonly log: Logger
  readonly now: () => number
}

export class Schedule {
  readonly #o: ScheduleOptions
  #timer: NodeJS.Timeout | null = null
  #nextAt: number | null = null
  /** When the pending timer was armed and whether it waits out the initial delay or a grace period. */
  #armedAt = 0
  #isInitial = true
  #hasSkipped = false
  #closed = false
  #unsubscribe: (() => void) | null = null

  constructor (opts: ScheduleOptions) {
    this.#o = opts
  }

  get nextCheckAt (): number | null {
    return this.#nextAt
  }

  /**
   * Takes the first baseline when there is neither a recorded baseline nor an AIDE database.
   * A database the agent has no record of is not silently adopted or replaced: the checks report
   * it as Errored until an administrator re-inits.
   */
  start (): void {
    const { store, scanner, log, settings } = this.#o
    if (store.currentBaseline() === null && !existsSync(scanner.paths.database)) {
      scanner.run('init', 'startup').catch((err: unknown) => log.error({ err }, 'initial baseline failed'))
    }
    this.#unsubscribe = settings.subscribe((next, prev) => this.#onSettings(next, prev))
    this.#arm(settings.current.initialDelayMs, true)
  }

  #onSettings (next: Settings, prev: Settings): void {
    if (this.#closed) return
    if (prev.isHeld && !next.isHeld && this.#hasSkipped) {
      this.#o.log.info('checks released; running the check skipped while held')
      this.#clear()
      void this.#tick()
      return
    }
    const changed = this.#isInitial ? next.initialDelayMs !== prev.initialDelayMs : next.gracePeriodMs !== prev.gracePeriodMs
    if (!changed || this.#timer === null) return
    const delay = this.#isInitial ? next.initialDelayMs : next.gracePeriodMs
    const armedAt = this.#armedAt
    this.#clear()
    this.#arm(Math.max(0, armedAt + delay - this.#o.now()), this.#isInitial, armedAt)
    this.#o.log.info({ nextCheckAt: new Date(this.#nextAt ?? 0).toISOString() }, 'check rescheduled')
  }

  #arm (delayMs: number, isInitial: boolean, armedAt = this.#o.now()): void {
    if (this.#closed) return
    this.#armedAt = armedAt
    this.#isInitial = isInitial
    this.#nextAt = this.#o.now() + delayMs
    this.#timer = setTimeout(() => { void this.#tick() }, delayMs)
  }

  #clear (): void {
    if (this.#timer !== null) clearTimeout(this.#timer)
    this.#timer = null
    this.#nextAt = null
  }

  async #tick (): Promise<void> {
    this.#timer = null
    this.#nextAt = null
    this.#hasSkipped = false
    try {
      await this.#o.scanner.run('check', 'schedule')
    } catch (err) {
      if (isAppError(err) && err.code === 'PFIM_AGENT_HELD') {
        this.#hasSkipped = true
        this.#o.log.info('scheduled check skipped: checks are held off by the cluster')
      } else {
        this.#o.log.error({ err }, 'scheduled check failed')
      }
    }
    if (this.#timer === null) this.#arm(this.#o.settings.current.gracePeriodMs, false)
  }

  close (): void {
    this.#closed = true
    this.#unsubscribe?.()
    this.#clear()
  }
}

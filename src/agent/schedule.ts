/**
 * When scans run by themselves: a first baseline at start when none exists, then a full check
 * `initialDelay` seconds after start and every `gracePeriod` seconds after the previous one ended
 * (FIO sleeps its interval after each scan too). Timers are injectable for tests.
 */
import { existsSync } from 'node:fs'
import type { Logger } from '../core/log.js'
import type { Scanner } from './scanner.js'
import type { Store } from './store.js'

export interface ScheduleOptions {
  readonly scanner: Scanner
  readonly store: Store
  readonly gracePeriodMs: number
  readonly initialDelayMs: number
  readonly log: Logger
  readonly now: () => number
}

export class Schedule {
  readonly #o: ScheduleOptions
  #timer: NodeJS.Timeout | null = null
  #nextAt: number | null = null
  #closed = false

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
    const { store, scanner, log } = this.#o
    if (store.currentBaseline() === null && !existsSync(scanner.paths.database)) {
      scanner.run('init', 'startup').catch((err: unknown) => log.error({ err }, 'initial baseline failed'))
    }
    this.#arm(this.#o.initialDelayMs)
  }

  #arm (delayMs: number): void {
    if (this.#closed) return
    this.#nextAt = this.#o.now() + delayMs
    this.#timer = setTimeout(() => { void this.#tick() }, delayMs)
  }

  async #tick (): Promise<void> {
    this.#timer = null
    this.#nextAt = null
    try {
      await this.#o.scanner.run('check', 'schedule')
    } catch (err) {
      this.#o.log.error({ err }, 'scheduled check failed')
    }
    this.#arm(this.#o.gracePeriodMs)
  }

  close (): void {
    this.#closed = true
    if (this.#timer !== null) clearTimeout(this.#timer)
    this.#timer = null
    this.#nextAt = null
  }
}

/**
 * Exponential backoff with full jitter (a random wait in [0, min(max, base * 2^attempt))), so a
 * cluster of agents coming back after an aggregator outage does not knock in step. The random
 * source and the sleep are injectable so tests never wait for real.
 */
import { setTimeout as delay } from 'node:timers/promises'

/** Waits `ms`, or less when `signal` aborts (never rejects). */
export type Sleep = (ms: number, signal: AbortSignal) => Promise<void>

export const realSleep: Sleep = (ms, signal) => delay(ms, undefined, { signal }).catch(() => undefined)

export interface BackoffOptions {
  readonly baseMs: number
  readonly maxMs: number
  readonly random: () => number
}

export const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 1000, maxMs: 120_000, random: Math.random }

export class Backoff {
  readonly #o: BackoffOptions
  #attempt = 0

  constructor (opts: BackoffOptions) {
    this.#o = opts
  }

  /** The next wait; each call doubles the ceiling until maxMs. */
  next (): number {
    const ceiling = Math.min(this.#o.maxMs, this.#o.baseMs * 2 ** Math.min(this.#attempt, 30))
    this.#attempt++
    return Math.floor(this.#o.random() * ceiling)
  }

  get attempt (): number {
    return this.#attempt
  }

  reset (): void {
    this.#attempt = 0
  }
}

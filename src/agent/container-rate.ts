/**
 * Per-container rate limit: the first `limit` events of a window are reported one by one; the
 * rest are only counted, and when the window ends one summary says how many were held back and
 * the worst severity among them. podsec had no limit, so a busy container flooded syslog.
 */
import type { FindingSeverity } from './finding-types.js'
import { worse } from './container-classify.js'

export interface Suppressed {
  readonly key: string
  readonly count: number
  readonly worst: FindingSeverity
  readonly windowStart: number
}

export interface RateOptions {
  readonly limit: number
  readonly windowMs: number
  readonly now: () => number
  readonly onSummary: (s: Suppressed) => void
}

interface Window { start: number, count: number, suppressed: number, worst: FindingSeverity, timer: NodeJS.Timeout | null }

export class RateLimiter {
  readonly #o: RateOptions
  readonly #windows = new Map<string, Window>()

  constructor (opts: RateOptions) {
    this.#o = opts
  }

  /** true: report this event; false: it was counted for the window's summary. */
  admit (key: string, severity: FindingSeverity): boolean {
    const now = this.#o.now()
    let w = this.#windows.get(key)
    if (w !== undefined && now - w.start >= this.#o.windowMs) {
      this.#end(key)
      w = undefined
    }
    if (w === undefined) {
      w = { start: now, count: 0, suppressed: 0, worst: 'info', timer: null }
      this.#windows.set(key, w)
    }
    w.count++
    if (w.count <= this.#o.limit) return true
    w.suppressed++
    w.worst = worse(w.worst, severity)
    // The summary must come when the window ends even if the container then falls silent.
    w.timer ??= setTimeout(() => this.#end(key), Math.max(0, w.start + this.#o.windowMs - now)).unref()
    return false
  }

  #end (key: string): void {
    const w = this.#windows.get(key)
    if (w === undefined) return
    this.#windows.delete(key)
    if (w.timer !== null) clearTimeout(w.timer)
    if (w.suppressed > 0) this.#o.onSummary({ key, count: w.suppressed, worst: w.worst, windowStart: w.start })
  }

  /** Ends every window now (at close, so no count is lost). */
  flush (): void {
    for (const key of [...this.#windows.keys()]) this.#end(key)
  }
}

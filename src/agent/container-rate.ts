/**
 * Per-container rate limit: the first `limit` distinct events of a window are reported one by
 * one; the rest are only counted, and when the window ends one summary says how many were held
 * back and the worst severity among them. podsec had no limit, so a busy container flooded syslog.
 * The same event on the same path again within the window (a log file written all the time) is
 * not reported again: repeats are counted for the summary, except info ones, which say nothing new.
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

interface Window { start: number, count: number, suppressed: number, worst: FindingSeverity, timer: NodeJS.Timeout | null, seen: Set<string> }

/** Bounds the memory a flood of distinct names can take; past it, repeats are not recognised. */
const MAX_SEEN = 10_000

export class RateLimiter {
  readonly #o: RateOptions
  readonly #windows = new Map<string, Window>()

  constructor (opts: RateOptions) {
    this.#o = opts
  }

  /** true: report this event; false: it was counted for the window's summary (or was an info repeat). */
  admit (key: string, severity: FindingSeverity, what: string): boolean {
    const w = this.#window(key)
    if (w.seen.has(what)) {
      if (severity !== 'info') this.#hold(key, w, severity)
      return false
    }
    if (w.seen.size < MAX_SEEN) w.seen.add(what)
    w.count++
    if (w.count <= this.#o.limit) return true
    this.#hold(key, w, severity)
    return false
  }

  #window (key: string): Window {
    const now = this.#o.now()
    const w = this.#windows.get(key)
    if (w !== undefined && now - w.start < this.#o.windowMs) return w
    if (w !== undefined) this.#end(key)
    const fresh: Window = { start: now, count: 0, suppressed: 0, worst: 'info', timer: null, seen: new Set() }
    this.#windows.set(key, fresh)
    return fresh
  }

  #hold (key: string, w: Window, severity: FindingSeverity): void {
    w.suppressed++
    w.worst = worse(w.worst, severity)
    // The summary must come when the window ends even if the container then falls silent.
    w.timer ??= setTimeout(() => this.#end(key), Math.max(0, w.start + this.#o.windowMs - this.#o.now())).unref()
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

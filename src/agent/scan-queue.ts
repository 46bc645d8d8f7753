/** One scan at a time. A request for a kind already waiting (not yet running) joins that request. */
import type { ScanKind, ScanSummary } from './scan-types.js'

export class ScanQueue {
  #tail: Promise<unknown> = Promise.resolve()
  readonly #waiting = new Map<ScanKind, Promise<ScanSummary>>()
  #current: ScanKind | null = null

  get current (): ScanKind | null {
    return this.#current
  }

  enqueue (kind: ScanKind, job: () => Promise<ScanSummary>): Promise<ScanSummary> {
    const waiting = this.#waiting.get(kind)
    if (waiting !== undefined) return waiting
    const run = this.#tail.then(async () => {
      this.#waiting.delete(kind)
      this.#current = kind
      try {
        return await job()
      } finally {
        this.#current = null
      }
    })
    this.#waiting.set(kind, run)
    this.#tail = run.catch(() => undefined)
    return run
  }

  /** Resolves when everything queued so far has run. */
  async drain (): Promise<void> {
    let tail
    do {
      tail = this.#tail
      await tail
    } while (tail !== this.#tail)
  }
}

/**
 * Runs rounds (the aggregator's reconciles, the agent's container sweeps) one at a time. A round
 * asked for while one runs is queued behind it (at most one waits; later asks share it), never
 * merged into the running one: that round may have looked before the caller's change, and the
 * caller must see a round that looked after it.
 * A round's failure is handed to `onError`; the queue goes on.
 */
export class RoundQueue {
  readonly #run: () => Promise<void>
  readonly #onError: (err: unknown) => void
  #running: Promise<void> | null = null
  #queued: Promise<void> | null = null

  constructor (run: () => Promise<void>, onError: (err: unknown) => void) {
    this.#run = run
    this.#onError = onError
  }

  /** Resolves when a round that started after this call has finished. */
  request (): Promise<void> {
    if (this.#running === null) {
      this.#running = this.#run().catch(this.#onError).finally(() => { this.#running = null })
      return this.#running
    }
    this.#queued ??= this.#running.then(async () => { this.#queued = null; await this.request() })
    return this.#queued
  }

  /** Waits for the running round and the queued one. */
  async idle (): Promise<void> {
    await this.#running
    await this.#queued
  }
}

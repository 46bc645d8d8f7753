/**
 * The periodic whole look at every watched upper dir (ContainerTree.sweep): the net for changes
 * whose events the kernel dropped or never raised. One container per turn of the event loop, so
 * that many containers never hold the agent at once. A sweep asked for while one runs waits for
 * the next (RoundQueue): the running one may have passed the caller's container already.
 */
import { RoundQueue } from '../core/round-queue.js'
import type { ContainerTree } from './container-tree.js'

export interface SweepOptions {
  /** The trees to look at, asked at the start of each sweep. */
  readonly trees: () => ReadonlyArray<ContainerTree>
  /** 0: no timer, only sweeps asked for. */
  readonly periodMs: number
  readonly onError: (err: unknown) => void
}

export class ContainerSweep {
  readonly #o: SweepOptions
  readonly #rounds: RoundQueue
  #timer: NodeJS.Timeout | null = null
  #closed = false

  constructor (opts: SweepOptions) {
    this.#o = opts
    this.#rounds = new RoundQueue(async () => this.#all(), opts.onError)
  }

  start (): void {
    if (this.#o.periodMs > 0) this.#timer = setInterval(() => { void this.run() }, this.#o.periodMs).unref()
  }

  /** Resolves when a sweep that began after this call looked at every tree (or was closed midway). */
  run (): Promise<void> {
    return this.#rounds.request()
  }

  async #all (): Promise<void> {
    for (const tree of this.#o.trees()) {
      if (this.#closed) return
      try {
        tree.sweep()
      } catch (err) {
        this.#o.onError(err)
      }
      await new Promise(resolve => setImmediate(resolve))
    }
  }

  close (): void {
    this.#closed = true
    if (this.#timer !== null) clearInterval(this.#timer)
    this.#timer = null
  }
}

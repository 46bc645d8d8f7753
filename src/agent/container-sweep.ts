/**
 * The periodic whole look at every watched upper dir (ContainerTree.sweep): the net for changes
 * whose events the kernel dropped or never raised. One container per turn of the event loop, so
 * that many containers never hold the agent at once; a sweep asked for while one runs is that one.
 */
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
  #timer: NodeJS.Timeout | null = null
  #running: Promise<void> | null = null
  #closed = false

  constructor (opts: SweepOptions) {
    this.#o = opts
  }

  start (): void {
    if (this.#o.periodMs > 0) this.#timer = setInterval(() => { void this.run() }, this.#o.periodMs).unref()
  }

  /** Resolves when every tree was looked at (or the sweep was closed midway). */
  run (): Promise<void> {
    this.#running ??= this.#all().finally(() => { this.#running = null })
    return this.#running
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

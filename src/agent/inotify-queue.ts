/**
 * How many distinct paths may wait for their look before a burst counts as an overflow. Node's
 * fs.watch never reports the kernel's IN_Q_OVERFLOW (libuv drops it), so events the kernel's
 * queue lost would go unseen; the bound stands in for that report. libuv opens one inotify
 * instance per process, so all watches share one kernel queue: the container trees therefore
 * share one bound (InotifyQueue), and the fast path keeps its own (a container's flood must not
 * set off full checks of the host). Both together hold at most half the kernel's queue in paths.
 */
import { readFileSync } from 'node:fs'

/** A quarter of the kernel's default queue (16384 events); see pendingBound. */
export const DEFAULT_MAX_PENDING = 4096

/**
 * The bound for this host: a quarter of fs.inotify.max_queued_events in distinct paths. A created
 * file is two or three inotify events (IN_CREATE, IN_MODIFY, IN_CLOSE_WRITE), so a window holding
 * that many paths may come after a queue the kernel let overflow.
 */
export function pendingBound (queuedEventsFile = '/proc/sys/fs/inotify/max_queued_events'): number {
  try {
    const limit = Number.parseInt(readFileSync(queuedEventsFile, 'latin1'), 10)
    return Number.isSafeInteger(limit) && limit >= 64 ? Math.floor(limit / 4) : DEFAULT_MAX_PENDING
  } catch {
    return DEFAULT_MAX_PENDING
  }
}

/**
 * The paths waiting in every container tree at once, against one bound. The first refusal after
 * the count was under the bound tells every listener: the kernel's one queue may have dropped
 * events for any tree with events in flight, not only for the tree that was refused.
 */
export class InotifyQueue {
  readonly bound: number
  #waiting = 0
  #isFull = false
  readonly #listeners = new Set<() => void>()

  constructor (bound = pendingBound()) {
    this.bound = bound
  }

  get waiting (): number {
    return this.#waiting
  }

  /** One more path waits; false when `bound` paths already do. */
  take (): boolean {
    if (this.#waiting < this.bound) {
      this.#waiting++
      return true
    }
    if (!this.#isFull) {
      this.#isFull = true
      for (const listener of [...this.#listeners]) listener()
    }
    return false
  }

  /** `n` paths had their look. */
  give (n: number): void {
    this.#waiting = Math.max(0, this.#waiting - n)
    if (this.#waiting < this.bound) this.#isFull = false
  }

  /** Called on each refusal that follows room; returns the unsubscribe. */
  onFull (listener: () => void): () => void {
    this.#listeners.add(listener)
    return () => { this.#listeners.delete(listener) }
  }
}

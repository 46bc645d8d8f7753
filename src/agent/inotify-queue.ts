/**
 * How many distinct paths a watcher lets wait for their look before it calls the burst an
 * overflow. Node's fs.watch never reports the kernel's IN_Q_OVERFLOW (libuv drops it), so events
 * the kernel's queue lost would go unseen; the bound stands in for that report. Used by the
 * container trees and the fast path.
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

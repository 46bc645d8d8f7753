/**
 * Which directories the fast path watches when the inotify budget cannot cover every directory
 * AIDE selected. Most valuable first: host and cluster configuration (/etc, u7s-admin's config),
 * then binaries and what starts them, then the rest; within each group shallow before deep, since a
 * shallow directory is where a new file or a replaced binary lands and deep trees are mostly data.
 * What is left out is reported as not covered (the periodic full check still sees it).
 */

export const WATCH_PRIORITY: readonly string[] = [
  '/etc', '/var/lib/u7s-admin/.config', '/usr/bin', '/usr/sbin', '/usr/local/bin', '/usr/local/sbin',
  '/boot', '/usr/lib/systemd', '/usr/libexec', '/usr/lib', '/usr',
]

export interface WatchPlan {
  readonly watched: readonly Buffer[]
  readonly uncovered: readonly Buffer[]
}

function group (dir: Buffer): number {
  const i = WATCH_PRIORITY.findIndex(prefix => {
    const p = Buffer.from(prefix)
    return dir.subarray(0, p.length).equals(p) && (dir.length === p.length || dir[p.length] === 0x2f)
  })
  return i < 0 ? WATCH_PRIORITY.length : i
}

function depth (dir: Buffer): number {
  let n = 0
  for (const b of dir) if (b === 0x2f) n++
  return n
}

/** Orders `dirs` by value and keeps the first `budget`. */
export function planWatches (dirs: readonly Buffer[], budget: number): WatchPlan {
  const ranked = dirs.map(dir => ({ dir, group: group(dir), depth: depth(dir) }))
  ranked.sort((a, b) => a.group - b.group || a.depth - b.depth || Buffer.compare(a.dir, b.dir))
  return {
    watched: ranked.slice(0, budget).map(r => r.dir),
    uncovered: ranked.slice(budget).map(r => r.dir),
  }
}

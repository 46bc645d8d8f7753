/**
 * How bad a change inside a container is, and the podsec-inotify-check-containers syslog line for it.
 *
 * podsec (`logevent`): `/home/…` or `/root/…` is Warning "in home directory", `/etc/…` is Warning
 * "in configuration directory", everything else Critical; `/var`, `/tmp`, `/run` and `/proc` were
 * not watched at all. We keep the pseudo filesystems out (`/proc`, `/sys`: nothing written there
 * lands in the upper dir) and the mount points the runtime creates when a container starts, but
 * the rest of `/var` is Critical again (cron spools, web roots, `/var/lib`), and scratch areas
 * (`/tmp`, `/var/tmp`, `/run`, `/var/run`, `/dev/shm`, `/var/log`, `/var/cache`) are recorded as
 * info, unless the file is executable. A setuid or setgid file is Critical wherever it is.
 */
import { displayPath } from './file-path.js'
import type { FindingSeverity, SyslogPriority } from './finding-types.js'

export const SYSLOG_TAG = 'podsec-inotify-check-containers'

export interface Verdict {
  readonly severity: FindingSeverity
  /** podsec's nagwad prefix; null for info, which podsec never logged. */
  readonly prefix: 'Critical' | 'Warning' | null
  readonly priority: SyslogPriority | null
  /** podsec's words after the container name: "in home directory", "in configuration directory". */
  readonly where: string | null
  readonly reason: string
}

const PSEUDO = ['/proc', '/sys']
const SCRATCH = ['/tmp', '/var/tmp', '/run', '/var/run', '/dev/shm', '/var/log', '/var/cache']
/** Created by runc/crun/CRI-O at every start (mount targets), so their creation says nothing. */
const MOUNT_POINTS = new Set(['/dev', '/etc/hostname', '/etc/hosts', '/etc/resolv.conf', '/run/.containerenv', '/dev/termination-log'])
const MOUNT_TREES = ['/run/secrets', '/var/run/secrets']

const S_IFMT = 0o170000
const S_IFREG = 0o100000

function under (path: string, dirs: readonly string[]): boolean {
  return dirs.some(d => path === d || path.startsWith(`${d}/`))
}

const critical = (reason: string): Verdict => ({ severity: 'critical', prefix: 'Critical', priority: 'crit', where: null, reason })
const warning = (where: string, reason: string): Verdict => ({ severity: 'warning', prefix: 'Warning', priority: 'notice', where, reason })

/** null: not reported at all. */
export function classify (path: string, event: string, mode: number | null): Verdict | null {
  if (under(path, PSEUDO)) return null
  if (event.startsWith('CREATE') && !event.includes('DELETE') && (MOUNT_POINTS.has(path) || under(path, MOUNT_TREES))) return null
  const regular = mode !== null && (mode & S_IFMT) === S_IFREG
  if (regular && (mode & 0o6000) !== 0) return critical('setuid or setgid file')
  if (under(path, ['/home', '/root'])) return warning('in home directory', 'home directory')
  if (under(path, ['/etc'])) return warning('in configuration directory', 'configuration directory')
  if (under(path, SCRATCH)) {
    if (regular && (mode & 0o111) !== 0) return critical('executable file in a scratch directory')
    return { severity: 'info', prefix: null, priority: null, where: null, reason: 'scratch directory' }
  }
  return critical('system path')
}

/** One printable token (no spaces, no newlines) for names that come from the storage files. */
export function safeToken (s: string): string {
  return displayPath(Buffer.from(s)).replace(/ /g, '\\x20')
}

/** podsec's line: `<Prefix>: An event <EVENTS> occurred in the container <c> [in …] on the file <path>`. */
export function podsecLine (prefix: string, event: string, container: string, where: string | null, path: string): string {
  return `${prefix}: An event ${event} occurred in the container ${container}${where === null ? '' : ` ${where}`} on the file ${path}`
}

const RANK: Readonly<Record<FindingSeverity, number>> = { info: 0, warning: 1, critical: 2 }

export function worse (a: FindingSeverity, b: FindingSeverity): FindingSeverity {
  return RANK[a] >= RANK[b] ? a : b
}

export function prefixOf (severity: FindingSeverity): { prefix: 'Critical' | 'Warning', priority: SyslogPriority } | null {
  if (severity === 'critical') return { prefix: 'Critical', priority: 'crit' }
  return severity === 'warning' ? { prefix: 'Warning', priority: 'notice' } : null
}

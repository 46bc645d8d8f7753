/**
 * Renders the aide.conf the agent runs: the built-in u7s rules, or a user's aide.conf with its
 * database, report and DBDIR/LOGDIR lines pointed at the agent's state dir (FIO does the same for
 * its pods). Report URLs are added on the command line (-A), so the agent always knows where the
 * JSON and plain reports are, whatever the user wrote.
 */
import { join } from 'node:path'

export interface AidePaths {
  readonly dir: string
  readonly database: string
  readonly databaseNew: string
  readonly log: string
  readonly logNew: string
  readonly jsonReport: string
  readonly conf: string
}

export function aidePaths (stateDir: string): AidePaths {
  const dir = join(stateDir, 'aide')
  return {
    dir,
    database: join(dir, 'aide.db.gz'),
    databaseNew: join(dir, 'aide.db.gz.new'),
    log: join(dir, 'aide.log'),
    logNew: join(dir, 'aide.log.new'),
    jsonReport: join(dir, 'aide.json.new'),
    conf: join(dir, 'aide.conf'),
  }
}

/**
 * What a rootless u7s node should watch. Regexes are anchored only at the start in AIDE 0.18, so
 * every root ends in ($|/). Directories carry no m/c, so adding a file reports the file, not its
 * parent too. Container storage is left to the container watcher; the agent's own state is excluded.
 */
export const DEFAULT_RULES = `# podsec-fim built-in rules for a u7s (rootless Kubernetes) node
PERMS = p+u+g+ftype
CONTENT = sha512+ftype+p+u+g+n+s+l

# Host configuration, Kubernetes and podsec configuration, container trust policy
!/etc/mtab$
!/etc/adjtime$
!/etc/resolv\\.conf$
!/etc/ld\\.so\\.cache$
!/etc/.*~$
!/etc/kubernetes/audit/.*\\.log$
!/etc/kubernetes/audit/audit-.*$
/etc($|/) CONTENT
# Binaries and the services that start them
/usr/bin($|/) CONTENT
/usr/sbin($|/) CONTENT
/usr/libexec($|/) CONTENT
/usr/lib/systemd($|/) CONTENT
/boot($|/) CONTENT
# u7s-admin's usernetes configuration (environment, rootlesskit and kubelet settings)
/var/lib/u7s-admin/\\.config($|/) CONTENT
`

export interface RenderOptions {
  readonly paths: AidePaths
  /** The user's aide.conf text, or null for the built-in rules. */
  readonly userConf: string | null
  readonly source: string
  /** AIDE 0.16 knows only `database=`; 0.17+ also `database_in=`. */
  readonly legacyDatabaseKey: boolean
  /** A FileIntegrity (FIO) config from the cluster: see rewriteClusterLine. */
  readonly isFromCluster?: boolean
}

const REPLACED = /^\s*(database|database_in|database_out|database_new|report_url)\s*=/

function rewriteLine (line: string, paths: AidePaths): string {
  const define = /^(\s*@@define\s+)(DBDIR|LOGDIR)(\s|$)/.exec(line)
  if (define !== null) return `${define[1] ?? ''}${define[2] ?? ''} ${paths.dir}`
  if (REPLACED.test(line)) return `# podsec-fim: replaced: ${line}`
  return line
}

/**
 * FIO's daemon sees the host under /hostroot, so FIO configs select `/hostroot/etc/...`; the agent
 * runs on the host, so that prefix is dropped from selection lines (`/x`, `!/x`, `=/x`). FIO's
 * default config also sets `verbose=5`, which AIDE 0.18 rejects as an error; it is commented out.
 * Include directives are commented out too: `@@x_include` runs executables, and `@@include` would
 * read any file the agent can into AIDE's messages, and a config from the cluster may do neither.
 */
export function rewriteClusterLine (line: string): string {
  if (/^\s*verbose\s*=/.test(line)) return `# podsec-fim: not supported by AIDE 0.18 (use log_level/report_level): ${line}`
  if (/^\s*@@(x_)?include/.test(line)) return `# podsec-fim: not allowed in a config from the cluster: ${line}`
  return line.replace(/^(\s*[!=]?)\/hostroot(\/|(?=\s|$))/, (_m, head: string) => `${head}/`)
}

export function renderAideConf (opts: RenderOptions): string {
  const { paths } = opts
  const rewrite = opts.isFromCluster === true ? (l: string) => rewriteLine(rewriteClusterLine(l), paths) : (l: string) => rewriteLine(l, paths)
  const body = opts.userConf === null
    ? DEFAULT_RULES
    : opts.userConf.split('\n').map(rewrite).join('\n')
  const inKey = opts.legacyDatabaseKey ? 'database' : 'database_in'
  return [
    `# Rendered by podsec-fim-agent from ${opts.source}; edit that, not this file.`,
    `${inKey}=file:${paths.database}`,
    `database_out=file:${paths.databaseNew}`,
    'gzip_dbout=yes',
    `!${escapeRegex(paths.dir)}($|/)`,
    body,
  ].join('\n') + (body.endsWith('\n') ? '' : '\n')
}

/** AIDE reads paths in rules as regular expressions. */
export function escapeRegex (path: string): string {
  return path.replace(/[.*+?^${}()|[\]\\ ]/g, c => (c === ' ' ? '\\ ' : `\\${c}`))
}

/** The -A arguments that make AIDE write the plain log (published like FIO's) and the JSON report. */
export function reportArgs (paths: AidePaths, hasJson: boolean): string[] {
  const plain = hasJson ? ['-A', 'report_format=plain'] : []
  const json = hasJson ? ['-A', 'report_format=json', '-A', `report_url=file:${paths.jsonReport}`] : []
  return [...plain, '-A', `report_url=file:${paths.logNew}`, ...json]
}

/**
 * The agent's configuration: one definitions table (key, type, default, description), parsed once,
 * validated, deep-frozen and handed down. The same table renders the README's config reference.
 */
import { readFileSync } from 'node:fs'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { ConfigError } from './errors.js'

export type Env = Readonly<Record<string, string | undefined>>

type ConfigValue = string | number | boolean | null | readonly string[] | readonly number[]

type Kind = 'string' | 'optional-string' | 'path' | 'optional-path' | 'paths' | 'seconds' | 'count' | 'optional-count' | 'codes' | 'bool' | 'level' | 'aide-mode' | 'mail-transport' | 'optional-url'

interface Definition {
  readonly kind: Kind
  readonly description: string
  /** Default, derived from the environment where it depends on the user (XDG dirs, hostname). */
  readonly default: (env: Env) => ConfigValue
  /** Shown in the README instead of the computed default. */
  readonly defaultText: string
  readonly min?: number
}

const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const
export type LogLevel = typeof LEVELS[number]

function home (env: Env): string {
  return env.HOME ?? '/var/lib/u7s-admin'
}

export function defaultStateDir (env: Env): string {
  return join(env.XDG_STATE_HOME ?? join(home(env), '.local', 'state'), 'podsec-fim')
}

export function defaultSocketPath (env: Env): string {
  return env.XDG_RUNTIME_DIR === undefined
    ? join(defaultStateDir(env), 'agent.sock')
    : join(env.XDG_RUNTIME_DIR, 'podsec-fim', 'agent.sock')
}

export const DEFINITIONS: Readonly<Record<string, Definition>> = {
  nodeName: { kind: 'string', default: () => hostname(), defaultText: 'the host name', description: 'Name of this node as registered in Kubernetes; results are reported under it.' },
  stateDir: { kind: 'path', default: defaultStateDir, defaultText: '`$XDG_STATE_HOME/podsec-fim`', description: 'SQLite database, AIDE database, logs and backups (created mode 0700, files 0600).' },
  socketPath: { kind: 'path', default: defaultSocketPath, defaultText: '`$XDG_RUNTIME_DIR/podsec-fim/agent.sock`', description: 'Control socket (HTTP over a unix socket, mode 0600) used by the `podsec-fim` CLI.' },
  'aide.binary': { kind: 'string', default: () => 'aide', defaultText: '`aide`', description: 'AIDE executable, a path or a name looked up in `PATH`.' },
  'aide.config': { kind: 'optional-path', default: () => null, defaultText: 'built-in u7s rules', description: 'User aide.conf; its database, report and DBDIR/LOGDIR lines are rewritten to the state dir.' },
  'aide.gracePeriod': { kind: 'seconds', min: 10, default: () => 900, defaultText: '900', description: 'Seconds between periodic full checks (as FIO, at least 10).' },
  'aide.initialDelay': { kind: 'seconds', min: 0, default: () => 0, defaultText: '0', description: 'Seconds to wait after start before the first check.' },
  'aide.maxBackups': { kind: 'count', min: 0, default: () => 5, defaultText: '5', description: 'Backups of the AIDE database and log kept on re-init, oldest pruned first.' },
  'aide.mode': { kind: 'aide-mode', default: () => 'fast', defaultText: '`fast`', description: 'Full check method: `fast` takes AIDE\'s selection from `aide --dry-init`, measures the selected paths in worker threads and diffs them against the baseline index (rules naming ACLs, xattrs, SELinux, e2fs attributes, capabilities or non-OpenSSL digests: `aide --init` plus the same diff); `exact` runs `aide --check`.' },
  'retention.maxScans': { kind: 'count', min: 1, default: () => 500, defaultText: '500', description: 'Scans whose per-file details and log are kept; older scans keep their summary only.' },
  'retention.maxAgeDays': { kind: 'count', min: 1, default: () => 90, defaultText: '90', description: 'Details older than this many days are dropped; summaries are kept.' },
  'log.level': { kind: 'level', default: () => 'info', defaultText: '`info`', description: `Log level of the JSON log on stdout: ${LEVELS.join(', ')}.` },
  // Cluster reporting (issue 3): null url = standalone.
  'aggregator.url': { kind: 'optional-url', default: () => null, defaultText: 'none (standalone)', description: 'Base URL of podsec-fim-aggregator, e.g. `https://10.96.0.50:8443`; null keeps the agent standalone.' },
  'aggregator.caFile': { kind: 'optional-path', default: () => null, defaultText: 'the CA of `aggregator.kubeletConfig`', description: 'CA bundle that signed the aggregator\'s serving certificate.' },
  'aggregator.certFile': { kind: 'optional-path', default: () => null, defaultText: 'the kubelet\'s client certificate', description: 'Client certificate (CN `system:node:<nodeName>`) presented to the aggregator.' },
  'aggregator.keyFile': { kind: 'optional-path', default: () => null, defaultText: 'the kubelet\'s client key', description: 'Key of `aggregator.certFile`.' },
  'aggregator.tokenFile': { kind: 'optional-path', default: () => null, defaultText: 'none', description: 'File holding a bearer token (checked by TokenReview) used instead of a client certificate.' },
  'aggregator.kubeletConfig': { kind: 'path', default: () => '/etc/kubernetes/kubelet.conf', defaultText: '`/etc/kubernetes/kubelet.conf`', description: 'kubeconfig whose client certificate, key and CA are the defaults above.' },
  'aggregator.pollSeconds': { kind: 'seconds', min: 1, default: () => 30, defaultText: '30', description: 'Longest wait of one directive long-poll.' },
  'aggregator.heartbeatSeconds': { kind: 'seconds', min: 5, default: () => 60, defaultText: '60', description: 'Seconds between heartbeats (state, backlog) sent to the aggregator.' },
  // Watchers (issue 5).
  'watch.enabled': { kind: 'bool', default: () => true, defaultText: 'true', description: 'Verify changes under the AIDE-selected roots at once (inotify) against the baseline index.' },
  'watch.budget': { kind: 'count', min: 1, default: () => 4096, defaultText: '4096', description: 'Most inotify watches the fast path may use; the most valuable directories are watched first.' },
  'audit.enabled': { kind: 'bool', default: () => true, defaultText: 'true', description: 'Tail the kube-apiserver audit log for denied requests.' },
  'audit.path': { kind: 'path', default: () => '/etc/kubernetes/audit/audit.log', defaultText: '`/etc/kubernetes/audit/audit.log`', description: 'Audit log (JSON lines, audit.k8s.io/v1); a missing file is waited for.' },
  'audit.codes': { kind: 'codes', default: () => [401, 403], defaultText: '`[401, 403]`', description: 'HTTP status codes that count as a denial.' },
  'audit.forbiddenLog': { kind: 'optional-path', default: () => '/var/lib/podsec/u7s/log/kubeapi/forbidden.log', defaultText: '`/var/lib/podsec/u7s/log/kubeapi/forbidden.log`', description: 'podsec-compatible forbidden.log written with every denial; null disables it.' },
  'audit.burstSeconds': { kind: 'seconds', min: 0, default: () => 60, defaultText: '60', description: 'Identical denials within this many seconds are collapsed into one finding with a count.' },
  'containers.enabled': { kind: 'bool', default: () => true, defaultText: 'true', description: 'Watch the upper (diff) directories of running containers.' },
  'containers.storages': { kind: 'paths', default: env => [join(home(env), '.local', 'share', 'usernetes', 'containers', 'storage')], defaultText: '`[~/.local/share/usernetes/containers/storage]`', description: 'containers/storage roots (overlay driver) to watch.' },
  'containers.ratePerMinute': { kind: 'count', min: 1, default: () => 60, defaultText: '60', description: 'Findings per container per minute before the rest are summarized in one finding.' },
  'containers.sweepSeconds': { kind: 'seconds', min: 0, default: () => 600, defaultText: '600', description: 'Every so many seconds each upper dir is looked at whole (listed, every entry lstat-ed) and what changed unseen is reported: the net for events the kernel drops without telling. 0 turns it off.' },
  'containers.watchBudget': { kind: 'count', min: 1, default: () => 8192, defaultText: '8192', description: 'Most inotify watches (one per directory) the container watcher may use over all upper dirs; inotify watches are per user and kubelet and CRI-O need theirs. Directories beyond it are listed as not watched in the status.' },
  'policy.enabled': { kind: 'bool', default: () => true, defaultText: 'true', description: 'Watch and evaluate the container trust policy (policy.json, registries.d, storage.conf, groups).' },
  'policy.homes': { kind: 'path', default: () => '/home', defaultText: '`/home`', description: 'Directory holding the users\' homes whose `~/.config/containers` is evaluated.' },
  'policy.thresholds': { kind: 'string', default: () => '-c 100', defaultText: '`-c 100`', description: 'podsec threshold letters with Nagios ranges deciding each policy rule\'s syslog prefix and finding severity, as podsec-inotify-check-policy\'s unit passes them (`-c 100`: the rules weighted 101-107 are Critical).' },
  'syslog.enabled': { kind: 'bool', default: () => true, defaultText: 'true', description: 'Write podsec-compatible syslog lines (tags `podsec-inotify-check-*`) through `logger`.' },
  'syslog.socket': { kind: 'optional-path', default: () => null, defaultText: 'none (the system log)', description: 'Unix socket `logger -u` writes to instead of the system log (`/dev/log`, journald).' },
  // Operations (issue 4).
  'metrics.port': { kind: 'optional-count', min: 1, default: () => null, defaultText: 'none', description: 'Also serve Prometheus metrics on this loopback TCP port (they are always on the control socket).' },
  'mail.to': { kind: 'string', default: () => 'root', defaultText: '`root`', description: 'Recipient of `podsec-fim report --mail`.' },
  'mail.from': { kind: 'optional-string', default: () => null, defaultText: '`podsec-fim@<nodeName>`', description: 'Sender address of the mail reports.' },
  'mail.transport': { kind: 'mail-transport', default: () => 'sendmail', defaultText: '`sendmail`', description: '`sendmail` (the local MTA, as cron does) or `smtp`.' },
  'mail.sendmail': { kind: 'path', default: () => '/usr/sbin/sendmail', defaultText: '`/usr/sbin/sendmail`', description: 'sendmail program for the `sendmail` transport.' },
  'mail.smtpUrl': { kind: 'optional-url', default: () => null, defaultText: 'none', description: 'SMTP server for the `smtp` transport, e.g. `smtp://mail.example.org:25`.' },
}

/** Keys that existed once; loading them fails with a hint instead of "unknown key". */
const REMOVED: Readonly<Record<string, string>> = {}

export interface AgentConfig {
  readonly nodeName: string
  readonly stateDir: string
  readonly socketPath: string
  readonly aide: {
    readonly binary: string
    readonly config: string | null
    readonly gracePeriod: number
    readonly initialDelay: number
    readonly maxBackups: number
    readonly mode: 'exact' | 'fast'
  }
  readonly retention: { readonly maxScans: number, readonly maxAgeDays: number }
  readonly log: { readonly level: LogLevel }
  readonly aggregator: {
    readonly url: string | null
    readonly caFile: string | null
    readonly certFile: string | null
    readonly keyFile: string | null
    readonly tokenFile: string | null
    readonly kubeletConfig: string
    readonly pollSeconds: number
    readonly heartbeatSeconds: number
  }
  readonly watch: { readonly enabled: boolean, readonly budget: number }
  readonly audit: {
    readonly enabled: boolean
    readonly path: string
    readonly codes: readonly number[]
    readonly forbiddenLog: string | null
    readonly burstSeconds: number
  }
  readonly containers: { readonly enabled: boolean, readonly storages: readonly string[], readonly ratePerMinute: number, readonly sweepSeconds: number, readonly watchBudget: number }
  readonly policy: { readonly enabled: boolean, readonly homes: string, readonly thresholds: string }
  readonly syslog: { readonly enabled: boolean, readonly socket: string | null }
  readonly metrics: { readonly port: number | null }
  readonly mail: {
    readonly to: string
    readonly from: string | null
    readonly transport: 'sendmail' | 'smtp'
    readonly sendmail: string
    readonly smtpUrl: string | null
  }
}

function checkValue (key: string, def: Definition, value: unknown): ConfigValue {
  const fail = (expected: string): never => {
    throw new ConfigError(`config key "${key}" must be ${expected}, got ${JSON.stringify(value)}`, { where: key })
  }
  switch (def.kind) {
    case 'string':
      return typeof value === 'string' && value.length > 0 ? value : fail('a non-empty string')
    case 'path':
      return typeof value === 'string' && value.startsWith('/') ? value : fail('an absolute path')
    case 'optional-path':
      return value === null || (typeof value === 'string' && value.startsWith('/')) ? value : fail('an absolute path or null')
    case 'seconds':
    case 'count':
      return Number.isInteger(value) && (value as number) >= (def.min ?? 0) ? value as number : fail(`an integer >= ${def.min ?? 0}`)
    case 'level':
      return (LEVELS as readonly unknown[]).includes(value) ? value as string : fail(`one of ${LEVELS.join(', ')}`)
    case 'optional-string':
      return value === null || (typeof value === 'string' && value.length > 0) ? value : fail('a non-empty string or null')
    case 'paths':
      return Array.isArray(value) && value.every(v => typeof v === 'string' && v.startsWith('/')) ? value as string[] : fail('a list of absolute paths')
    case 'optional-count':
      return value === null || (Number.isInteger(value) && (value as number) >= (def.min ?? 0)) ? value as number | null : fail(`null or an integer >= ${def.min ?? 0}`)
    case 'codes':
      return Array.isArray(value) && value.length > 0 && value.every(v => Number.isInteger(v) && v >= 100 && v <= 599) ? value as number[] : fail('a non-empty list of HTTP status codes')
    case 'bool':
      return typeof value === 'boolean' ? value : fail('true or false')
    case 'aide-mode':
      return value === 'exact' || value === 'fast' ? value : fail('"exact" or "fast"')
    case 'mail-transport':
      return value === 'sendmail' || value === 'smtp' ? value : fail('"sendmail" or "smtp"')
    case 'optional-url':
      return value === null || (typeof value === 'string' && isHttpUrl(value)) ? value : fail('an http(s) or smtp(s) URL or null')
  }
}

function isHttpUrl (text: string): boolean {
  try {
    return ['https:', 'http:', 'smtp:', 'smtps:'].includes(new URL(text).protocol)
  } catch {
    return false
  }
}

function flatten (obj: unknown, prefix: string, out: Map<string, unknown>): void {
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) {
    throw new ConfigError(`config ${prefix === '' ? 'file' : `key "${prefix}"`} must be a JSON object`, { where: prefix || '(root)' })
  }
  for (const [k, v] of Object.entries(obj)) {
    const key = prefix === '' ? k : `${prefix}.${k}`
    const isSection = typeof v === 'object' && v !== null && !Array.isArray(v) && !(key in DEFINITIONS)
    if (isSection) flatten(v, key, out)
    else out.set(key, v)
  }
}

export function deepFreeze<T> (value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const v of Object.values(value)) deepFreeze(v)
    Object.freeze(value)
  }
  return value
}

/** Validates a parsed config object; unknown keys and wrong types fail with the key named. */
export function parseConfig (raw: unknown, env: Env, overrides: Readonly<Record<string, unknown>> = {}): AgentConfig {
  const given = new Map<string, unknown>()
  flatten(raw, '', given)
  for (const [k, v] of Object.entries(overrides)) given.set(k, v)
  for (const key of given.keys()) {
    if (key in REMOVED) throw new ConfigError(`config key "${key}" was removed: ${REMOVED[key]}`, { where: key })
    if (!(key in DEFINITIONS)) throw new ConfigError(`unknown config key "${key}"`, { where: key })
  }
  const out: Record<string, unknown> = {}
  for (const [key, def] of Object.entries(DEFINITIONS)) {
    const value = given.has(key) ? checkValue(key, def, given.get(key)) : def.default(env)
    const [section, leaf] = key.includes('.') ? key.split('.') as [string, string] : [undefined, key]
    if (section === undefined) out[leaf] = value
    else out[section] = { ...(out[section] as object | undefined), [leaf]: value }
  }
  return deepFreeze(out as unknown as AgentConfig)
}

/**
 * Reads and validates the config file. A missing file is allowed only when it is the default path
 * (`isDefaultPath`): a node with no config runs on defaults, a typo in --config must not.
 */
export function loadConfig (path: string, env: Env, opts: { isDefaultPath?: boolean, overrides?: Readonly<Record<string, unknown>> } = {}): AgentConfig {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'ENOENT' && opts.isDefaultPath === true) return parseConfig({}, env, opts.overrides)
    throw new ConfigError(`cannot read config file ${path}: ${code ?? String(err)}`, { where: path, unreadable: true, cause: err })
  }
  let raw: unknown
  try {
    raw = JSON.parse(text)
  } catch (err) {
    throw new ConfigError(`config file ${path} is not valid JSON: ${(err as Error).message}`, { where: path, cause: err })
  }
  return parseConfig(raw, env, opts.overrides)
}

/** The README's config reference, generated from DEFINITIONS (a test keeps the README in sync). */
export function renderConfigReference (): string {
  const rows = Object.entries(DEFINITIONS).map(([key, def]) =>
    `| \`${key}\` | ${def.kind} | ${def.defaultText} | ${def.description} |`)
  return ['| key | type | default | description |', '|---|---|---|---|', ...rows].join('\n')
}

/**
 * The agent's configuration: one definitions table (key, type, default, description), parsed once,
 * validated, deep-frozen and handed down. The same table renders the README's config reference.
 */
import { readFileSync } from 'node:fs'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { ConfigError } from './errors.js'

export type Env = Readonly<Record<string, string | undefined>>

type Kind = 'string' | 'path' | 'optional-path' | 'seconds' | 'count' | 'level'

interface Definition {
  readonly kind: Kind
  readonly description: string
  /** Default, derived from the environment where it depends on the user (XDG dirs, hostname). */
  readonly default: (env: Env) => string | number | null
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
  'retention.maxScans': { kind: 'count', min: 1, default: () => 500, defaultText: '500', description: 'Scans whose per-file details and log are kept; older scans keep their summary only.' },
  'retention.maxAgeDays': { kind: 'count', min: 1, default: () => 90, defaultText: '90', description: 'Details older than this many days are dropped; summaries are kept.' },
  'log.level': { kind: 'level', default: () => 'info', defaultText: '`info`', description: `Log level of the JSON log on stdout: ${LEVELS.join(', ')}.` },
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
  }
  readonly retention: { readonly maxScans: number, readonly maxAgeDays: number }
  readonly log: { readonly level: LogLevel }
}

function checkValue (key: string, def: Definition, value: unknown): string | number | null {
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

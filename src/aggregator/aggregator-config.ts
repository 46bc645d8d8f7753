/**
 * podsec-fim-aggregator's configuration: a JSON file validated field by field (unknown keys and
 * wrong types name the key), defaults filled from the pod environment, then frozen.
 */
import { readFileSync } from 'node:fs'
import { hostname } from 'node:os'
import { deepFreeze, type Env, type LogLevel } from '../core/config.js'
import { ConfigError } from '../core/errors.js'
import { bool, int, nullable, object, oneOf, optional, str, SchemaError } from '../core/schema.js'

export const DEFAULT_AGGREGATOR_CONFIG = '/etc/podsec/fim/aggregator.json'

export interface AggregatorConfig {
  readonly host: string
  readonly port: number
  readonly tls: { readonly certFile: string, readonly keyFile: string }
  /** null: the cluster's client CA from ConfigMap kube-system/extension-apiserver-authentication. */
  readonly clientCaFile: string | null
  /** null: $KUBECONFIG, else the in-cluster service account. */
  readonly kubeconfig: string | null
  readonly namespace: string
  readonly identity: string
  readonly resyncSeconds: number
  readonly leaseSeconds: number
  readonly leaderElection: boolean
  readonly log: { readonly level: LogLevel }
}

const path = str({ max: 4096, pattern: /^\// })
const check = object({
  host: optional(str({ max: 255 })),
  port: optional(int(0, 65535)),
  tls: object({ certFile: path, keyFile: path }),
  clientCaFile: optional(nullable(path)),
  kubeconfig: optional(nullable(path)),
  namespace: optional(nullable(str({ max: 63, pattern: /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/ }))),
  identity: optional(nullable(str({ max: 253 }))),
  resyncSeconds: optional(int(1, 3600)),
  leaseSeconds: optional(int(2, 3600)),
  leaderElection: optional(bool),
  log: optional(object({ level: oneOf('fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent') })),
})

export function parseAggregatorConfig (raw: unknown, env: Env, file = 'config'): AggregatorConfig {
  let c
  try {
    c = check(raw, 'config')
  } catch (err) {
    if (err instanceof SchemaError) throw new ConfigError(`${file}: ${err.message}`, { where: err.where })
    throw err
  }
  return deepFreeze({
    host: c.host ?? '0.0.0.0',
    port: c.port ?? 8443,
    tls: c.tls,
    clientCaFile: c.clientCaFile ?? null,
    kubeconfig: c.kubeconfig ?? env.KUBECONFIG ?? null,
    namespace: c.namespace ?? env.POD_NAMESPACE ?? 'podsec-fim',
    identity: c.identity ?? env.POD_NAME ?? hostname(),
    resyncSeconds: c.resyncSeconds ?? 10,
    leaseSeconds: c.leaseSeconds ?? 15,
    leaderElection: c.leaderElection ?? true,
    log: { level: c.log?.level ?? 'info' },
  })
}

export function loadAggregatorConfig (file: string, env: Env): AggregatorConfig {
  let raw: unknown
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'))
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code !== undefined) throw new ConfigError(`cannot read config file ${file}: ${code}`, { where: file, unreadable: true, cause: err })
    throw new ConfigError(`config file ${file} is not valid JSON: ${(err as Error).message}`, { where: file, cause: err })
  }
  return parseAggregatorConfig(raw, env, file)
}

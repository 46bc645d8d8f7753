/**
 * Credentials for talking to a Kubernetes API server: a kubeconfig file (YAML, the current
 * context) or the in-cluster service account. Only what we use is read: server, CA, client
 * certificate and key (file or -data), bearer token (inline or file). Every missing or mistyped
 * field is an error naming the file and the field.
 */
import { readFileSync } from 'node:fs'
import { dirname, isAbsolute, join } from 'node:path'
import { parse as parseYaml } from 'yaml'
import { AppError } from './errors.js'

export interface KubeCredentials {
  readonly server: string
  readonly ca: Buffer | null
  readonly cert: Buffer | null
  readonly key: Buffer | null
  readonly token: string | null
  /** Where they came from, for messages. */
  readonly source: string
}

export const IN_CLUSTER_DIR = '/var/run/secrets/kubernetes.io/serviceaccount'

function fail (file: string, field: string, what: string): never {
  throw new AppError('PFIM_KUBECONFIG_INVALID', `${file}: ${field} ${what}`, { where: `${file}:${field}` })
}

function readOrFail (path: string, file: string, field: string): Buffer {
  try {
    return readFileSync(path)
  } catch (err) {
    return fail(file, field, `names ${path}, which cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)})`)
  }
}

type Obj = Record<string, unknown>

function asObject (v: unknown, file: string, field: string): Obj {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(file, field, 'must be a mapping')
  return v as Obj
}

function optString (o: Obj, key: string, file: string, field: string): string | null {
  const v = o[key]
  if (v === undefined || v === null) return null
  if (typeof v !== 'string' || v === '') fail(file, `${field}.${key}`, 'must be a non-empty string')
  return v
}

/** Finds `name` in a kubeconfig list (clusters, users, contexts) and returns its inner mapping. */
function named (doc: Obj, list: string, inner: string, name: string, file: string): Obj {
  const items = doc[list]
  if (!Array.isArray(items)) fail(file, list, 'must be a list')
  const i = items.findIndex(it => asObject(it, file, list).name === name)
  if (i < 0) fail(file, list, `has no entry named "${name}"`)
  return asObject((items[i] as Obj)[inner], file, `${list}[${i}].${inner}`)
}

/**
 * A file-or-data pair: `<field>` is a path relative to the kubeconfig, `<field>-data` base64.
 * Either must hold a PEM block: a wrong file named here would otherwise surface as a TLS error.
 */
function material (o: Obj, field: string, file: string, where: string): Buffer | null {
  const data = optString(o, `${field}-data`, file, where)
  if (data !== null) {
    const pem = Buffer.from(data, 'base64')
    if (!pem.includes('-----BEGIN ')) fail(file, `${where}.${field}-data`, 'is not base64 of a PEM block')
    return pem
  }
  const path = optString(o, field, file, where)
  if (path === null) return null
  const full = isAbsolute(path) ? path : join(dirname(file), path)
  const pem = readOrFail(full, file, `${where}.${field}`)
  if (!pem.includes('-----BEGIN ')) fail(file, `${where}.${field}`, `names ${full}, which holds no PEM block`)
  return pem
}

export function loadKubeconfig (file: string): KubeCredentials {
  const text = readOrFail(file, file, '(file)').toString('utf8')
  let doc: Obj
  try {
    doc = asObject(parseYaml(text), file, '(root)')
  } catch (err) {
    if (err instanceof AppError) throw err
    return fail(file, '(root)', `is not valid YAML: ${(err as Error).message}`)
  }
  const current = optString(doc, 'current-context', file, '(root)') ?? fail(file, 'current-context', 'is missing')
  const context = named(doc, 'contexts', 'context', current, file)
  const cluster = named(doc, 'clusters', 'cluster', optString(context, 'cluster', file, 'context') ?? fail(file, 'context.cluster', 'is missing'), file)
  const userName = optString(context, 'user', file, 'context')
  const user = userName === null ? {} : named(doc, 'users', 'user', userName, file)
  const server = optString(cluster, 'server', file, 'cluster') ?? fail(file, 'cluster.server', 'is missing')
  const tokenFile = optString(user, 'tokenFile', file, 'user')
  const token = optString(user, 'token', file, 'user') ?? (tokenFile === null ? null : readOrFail(tokenFile, file, 'user.tokenFile').toString('utf8').trim())
  return {
    server,
    ca: material(cluster, 'certificate-authority', file, 'cluster'),
    cert: material(user, 'client-certificate', file, 'user'),
    key: material(user, 'client-key', file, 'user'),
    token,
    source: file,
  }
}

/** The pod's service account, as client-go's rest.InClusterConfig reads it. */
export function loadInCluster (env: Readonly<Record<string, string | undefined>>, dir = IN_CLUSTER_DIR): KubeCredentials {
  const host = env.KUBERNETES_SERVICE_HOST
  const port = env.KUBERNETES_SERVICE_PORT
  if (host === undefined || port === undefined) fail('environment', 'KUBERNETES_SERVICE_HOST/PORT', 'are not set (not running in a pod; give a kubeconfig)')
  const hostPart = host.includes(':') ? `[${host}]` : host
  return {
    server: `https://${hostPart}:${port}`,
    ca: readOrFail(join(dir, 'ca.crt'), dir, 'ca.crt'),
    cert: null,
    key: null,
    token: readOrFail(join(dir, 'token'), dir, 'token').toString('utf8').trim(),
    source: dir,
  }
}

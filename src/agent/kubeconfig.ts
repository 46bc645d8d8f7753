/**
 * Reads the TLS material of a kubeconfig (YAML, e.g. the kubelet's /etc/kubernetes/kubelet.conf):
 * the current context's user's client certificate and key, and its cluster's CA. File references
 * are relative to the kubeconfig's directory (as kubectl resolves them); `-data` fields are base64
 * PEM. The agent runs inside the rootlesskit namespace, where kubelet.conf's paths are valid as
 * written. Every problem names the file and the field.
 */
import { readFile } from 'node:fs/promises'
import { dirname, resolve } from 'node:path'
import { parse } from 'yaml'
import { AppError } from '../core/errors.js'

export interface KubeconfigTls {
  readonly cert: string | null
  readonly key: string | null
  readonly ca: string | null
}

type Obj = Record<string, unknown>

function fail (file: string, field: string, problem: string, cause?: unknown): never {
  throw new AppError('PFIM_AGGREGATOR_CREDENTIALS', `kubeconfig ${file}: ${field} ${problem}`, { where: `${file}: ${field}`, cause })
}

function isObj (v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

/** The entry `name` of a named list (`contexts`, `clusters`, `users`), returning its inner object. */
function named (file: string, doc: Obj, list: string, inner: string, name: string): Obj {
  const items = doc[list]
  if (!Array.isArray(items)) fail(file, list, 'is missing or not a list')
  const item = (items as unknown[]).find(i => isObj(i) && i.name === name)
  if (!isObj(item)) return fail(file, `${list}[name=${name}]`, 'does not exist')
  const value = item[inner]
  if (!isObj(value)) fail(file, `${list}[name=${name}].${inner}`, 'is missing or not a mapping')
  return value as Obj
}

/** A PEM from `<field>-data` (base64) or `<field>` (a file); null when neither is set. */
async function pem (file: string, where: string, obj: Obj, field: string): Promise<string | null> {
  const data = obj[`${field}-data`]
  const path = obj[field]
  if (data !== undefined) {
    if (typeof data !== 'string') fail(file, `${where}.${field}-data`, 'is not a string')
    const text = Buffer.from(data as string, 'base64').toString('utf8')
    if (!text.includes('-----BEGIN ')) fail(file, `${where}.${field}-data`, 'is not base64 of a PEM block')
    return text
  }
  if (path === undefined) return null
  if (typeof path !== 'string' || path === '') return fail(file, `${where}.${field}`, 'is not a file name')
  const full = resolve(dirname(file), path)
  const text = await readFile(full, 'utf8').catch((err: NodeJS.ErrnoException) => fail(file, `${where}.${field}`, `names ${full}, which cannot be read (${err.code ?? err.message})`, err))
  if (!text.includes('-----BEGIN ')) fail(file, `${where}.${field}`, `names ${full}, which holds no PEM block`)
  return text
}

async function parseDoc (file: string): Promise<Obj> {
  const text = await readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => fail(file, '(file)', `cannot be read (${err.code ?? err.message}); set aggregator.certFile/keyFile/caFile or aggregator.tokenFile instead`, err))
  let doc: unknown
  try {
    doc = parse(text)
  } catch (err) {
    fail(file, '(file)', `is not valid YAML: ${(err as Error).message}`, err)
  }
  if (!isObj(doc)) fail(file, '(file)', 'is not a YAML mapping')
  return doc as Obj
}

export async function readKubeconfigTls (file: string): Promise<KubeconfigTls> {
  const doc = await parseDoc(file)
  const current = doc['current-context']
  if (typeof current !== 'string' || current === '') fail(file, 'current-context', 'is missing or empty')
  const context = named(file, doc, 'contexts', 'context', current as string)
  if (typeof context.user !== 'string') fail(file, `contexts[name=${String(current)}].context.user`, 'is missing')
  if (typeof context.cluster !== 'string') fail(file, `contexts[name=${String(current)}].context.cluster`, 'is missing')
  const userWhere = `users[name=${String(context.user)}].user`
  const user = named(file, doc, 'users', 'user', context.user as string)
  const cluster = named(file, doc, 'clusters', 'cluster', context.cluster as string)
  return {
    cert: await pem(file, userWhere, user, 'client-certificate'),
    key: await pem(file, userWhere, user, 'client-key'),
    ca: await pem(file, `clusters[name=${String(context.cluster)}].cluster`, cluster, 'certificate-authority'),
  }
}

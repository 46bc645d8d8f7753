/**
 * A small Kubernetes REST client over undici: the handful of verbs the aggregator needs, JSON in
 * and out, a typed error carrying the HTTP status and the API's reason. Resource paths are built
 * from parts, each part URL-encoded, never from caller-supplied path strings.
 */
import { Agent, request } from 'undici'
import { AppError } from '../core/errors.js'
import type { KubeCredentials } from '../core/kubeconfig.js'

export interface ResourceRef {
  /** '' for the core group. */
  readonly group: string
  readonly version: string
  readonly resource: string
  readonly namespace?: string
  readonly name?: string
  readonly subresource?: string
}

export const CONFIGMAPS = { group: '', version: 'v1', resource: 'configmaps' } as const
export const EVENTS = { group: '', version: 'v1', resource: 'events' } as const
export const NODES = { group: '', version: 'v1', resource: 'nodes' } as const
export const LEASES = { group: 'coordination.k8s.io', version: 'v1', resource: 'leases' } as const
export const TOKENREVIEWS = { group: 'authentication.k8s.io', version: 'v1', resource: 'tokenreviews' } as const
export const FILEINTEGRITIES = { group: 'fileintegrity.openshift.io', version: 'v1alpha1', resource: 'fileintegrities' } as const
export const NODESTATUSES = { group: 'fileintegrity.openshift.io', version: 'v1alpha1', resource: 'fileintegritynodestatuses' } as const

export interface ObjectMeta {
  name: string
  namespace?: string
  uid?: string
  resourceVersion?: string
  creationTimestamp?: string
  labels?: Record<string, string>
  annotations?: Record<string, string>
  ownerReferences?: unknown[]
}

export interface KubeObject { apiVersion?: string, kind?: string, metadata: ObjectMeta, [key: string]: unknown }

export class KubeApiError extends AppError {
  readonly status: number
  readonly reason: string

  constructor (status: number, reason: string, message: string, where: string) {
    super('PFIM_KUBE_API', `${where}: ${status} ${reason}: ${message}`, { where })
    this.name = 'KubeApiError'
    this.status = status
    this.reason = reason
  }
}

export const isNotFound = (err: unknown): boolean => err instanceof KubeApiError && err.status === 404
export const isConflict = (err: unknown): boolean => err instanceof KubeApiError && err.status === 409
export const isAlreadyExists = (err: unknown): boolean => err instanceof KubeApiError && err.status === 409 && err.reason === 'AlreadyExists'

export function resourcePath (ref: ResourceRef, query?: Record<string, string>): string {
  const base = ref.group === '' ? `/api/${ref.version}` : `/apis/${ref.group}/${ref.version}`
  const ns = ref.namespace === undefined ? '' : `/namespaces/${encodeURIComponent(ref.namespace)}`
  const name = ref.name === undefined ? '' : `/${encodeURIComponent(ref.name)}`
  const sub = ref.subresource === undefined ? '' : `/${encodeURIComponent(ref.subresource)}`
  const qs = query === undefined ? '' : `?${new URLSearchParams(query).toString()}`
  return `${base}${ns}/${ref.resource}${name}${sub}${qs}`
}

export class KubeClient {
  readonly #creds: KubeCredentials
  readonly #dispatcher: Agent
  /** API calls made, by verb: benchmarks and tests read it to prove "no write when nothing changed". */
  readonly calls = { get: 0, list: 0, create: 0, update: 0, patch: 0, delete: 0 }

  constructor (creds: KubeCredentials) {
    this.#creds = creds
    this.#dispatcher = new Agent({
      connect: { ca: creds.ca ?? undefined, cert: creds.cert ?? undefined, key: creds.key ?? undefined },
      connections: 64,
      headersTimeout: 30_000,
      bodyTimeout: 30_000,
    })
  }

  /** Lease renewals are the election's heartbeat, not a change of state; they are counted apart. */
  leaseWrites = 0

  get writes (): number {
    return this.calls.create + this.calls.update + this.calls.patch + this.calls.delete - this.leaseWrites
  }

  async get<T extends KubeObject> (ref: ResourceRef & { name: string }): Promise<T> {
    this.calls.get++
    return await this.#send<T>('GET', resourcePath(ref))
  }

  /** The object, or null when it does not exist. */
  async find<T extends KubeObject> (ref: ResourceRef & { name: string }): Promise<T | null> {
    try {
      return await this.get<T>(ref)
    } catch (err) {
      if (isNotFound(err)) return null
      throw err
    }
  }

  async list<T extends KubeObject> (ref: ResourceRef, labelSelector?: string): Promise<T[]> {
    this.calls.list++
    const res = await this.#send<{ items: T[] }>('GET', resourcePath(ref, labelSelector === undefined ? undefined : { labelSelector }))
    return res.items
  }

  async create<T extends KubeObject> (ref: ResourceRef, body: unknown): Promise<T> {
    this.calls.create++
    if (ref.resource === 'leases') this.leaseWrites++
    return await this.#send<T>('POST', resourcePath({ ...ref, name: undefined }), body)
  }

  /** A full replace; body.metadata.resourceVersion makes it conditional (409 Conflict if stale). */
  async update<T extends KubeObject> (ref: ResourceRef & { name: string }, body: unknown): Promise<T> {
    this.calls.update++
    if (ref.resource === 'leases') this.leaseWrites++
    return await this.#send<T>('PUT', resourcePath(ref), body)
  }

  /** JSON merge patch (RFC 7386). */
  async patch<T extends KubeObject> (ref: ResourceRef & { name: string }, body: unknown): Promise<T> {
    this.calls.patch++
    return await this.#send<T>('PATCH', resourcePath(ref), body, 'application/merge-patch+json')
  }

  async delete (ref: ResourceRef & { name: string }): Promise<void> {
    this.calls.delete++
    try {
      await this.#send('DELETE', resourcePath(ref))
    } catch (err) {
      if (!isNotFound(err)) throw err
    }
  }

  async close (): Promise<void> {
    await this.#dispatcher.close()
  }

  /** 429 (priority and fairness, a CRD not yet served) and 503 are retried a few times, as client-go does. */
  async #send<T> (method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.#once<T>(method, path, body, contentType)
      } catch (err) {
        if (!(err instanceof KubeApiError) || (err.status !== 429 && err.status !== 503) || attempt >= 5) throw err
        await new Promise(resolve => setTimeout(resolve, 200 * 2 ** attempt))
      }
    }
  }

  async #once<T> (method: string, path: string, body: unknown, contentType: string): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json' }
    if (this.#creds.token !== null) headers.authorization = `Bearer ${this.#creds.token}`
    if (body !== undefined) headers['content-type'] = contentType
    const res = await request(new URL(path, this.#creds.server), {
      method: method as 'GET', headers, body: body === undefined ? undefined : JSON.stringify(body), dispatcher: this.#dispatcher,
    })
    const text = await res.body.text()
    if (res.statusCode >= 200 && res.statusCode < 300) return (text === '' ? {} : JSON.parse(text)) as T
    let status: { reason?: string, message?: string } = {}
    try { status = JSON.parse(text) as typeof status } catch { /* not a Status object */ }
    throw new KubeApiError(res.statusCode, status.reason ?? 'Unknown', status.message ?? text.slice(0, 500), `${method} ${path}`)
  }
}

/**
 * Read-modify-write with optimistic concurrency: `apply` gets the fresh object and returns the
 * new one (or null: nothing to change, no write); a 409 Conflict re-reads and retries.
 */
export async function updateWithRetry<T extends KubeObject> (
  kube: KubeClient, ref: ResourceRef & { name: string }, apply: (current: T) => T | null, tries = 5,
): Promise<T | null> {
  for (let attempt = 1; ; attempt++) {
    const current = await kube.find<T>(ref)
    if (current === null) return null
    const next = apply(structuredClone(current))
    if (next === null) return current
    try {
      return await kube.update<T>(ref, next)
    } catch (err) {
      if (!isConflict(err) || attempt >= tries) throw err
    }
  }
}

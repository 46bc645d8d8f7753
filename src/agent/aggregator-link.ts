/**
 * The agent's HTTPS link to podsec-fim-aggregator: who the agent is (the kubelet's client
 * certificate by default, or explicit files, or a bearer token), one undici Agent for the pusher
 * and the directive poller, and one place that turns answers into protocol values or typed errors.
 */
import { readFile } from 'node:fs/promises'
import { Agent, request } from 'undici'
import type { AgentConfig } from '../core/config.js'
import { AppError, isAppError, type ErrorCode } from '../core/errors.js'
import type { Check } from '../core/schema.js'
import { parseBody } from '../core/protocol.js'
import { loadKubeconfig } from '../core/kubeconfig.js'

export interface Credentials {
  readonly ca: string | null
  readonly cert: string | null
  readonly key: string | null
  readonly token: string | null
}

/** A failed exchange; `status` is the HTTP status, or null when there was no answer. */
export class AggregatorError extends AppError {
  readonly status: number | null

  constructor (code: ErrorCode, message: string, details: { status?: number | null, cause?: unknown, where?: string } = {}) {
    super(code, message, details)
    this.name = 'AggregatorError'
    this.status = details.status ?? null
  }
}

async function readCredentialFile (key: string, file: string): Promise<string> {
  try {
    const text = await readFile(file, 'utf8')
    if (text.trim() === '') throw new Error('the file is empty')
    return text
  } catch (err) {
    throw new AppError('PFIM_AGGREGATOR_CREDENTIALS', `${key} ${file} cannot be used: ${(err as Error).message}`, { where: key, cause: err })
  }
}

/**
 * Explicit files win; what they leave open comes from the kubeconfig (`aggregator.kubeletConfig`).
 * With a token file the kubeconfig is only asked for the CA, and may be absent.
 */
/** The TLS material of a kubeconfig (the kubelet's, by default) as PEM text. */
function kubeconfigTls (file: string): { ca: string | null, cert: string | null, key: string | null } {
  const k = loadKubeconfig(file)
  return { ca: k.ca?.toString('utf8') ?? null, cert: k.cert?.toString('utf8') ?? null, key: k.key?.toString('utf8') ?? null }
}

export async function loadCredentials (agg: AgentConfig['aggregator']): Promise<Credentials> {
  if ((agg.certFile === null) !== (agg.keyFile === null)) {
    const missing = agg.certFile === null ? 'aggregator.certFile' : 'aggregator.keyFile'
    throw new AppError('PFIM_AGGREGATOR_CREDENTIALS', `${missing} must be set together with ${missing === 'aggregator.certFile' ? 'aggregator.keyFile' : 'aggregator.certFile'}`, { where: missing })
  }
  const ca = agg.caFile === null ? null : await readCredentialFile('aggregator.caFile', agg.caFile)
  if (agg.tokenFile !== null) {
    const token = (await readCredentialFile('aggregator.tokenFile', agg.tokenFile)).trim()
    let kube = null
    try { kube = ca === null ? kubeconfigTls(agg.kubeletConfig) : null } catch { /* with a token the kubeconfig is optional */ }
    return { ca: ca ?? kube?.ca ?? null, cert: null, key: null, token }
  }
  if (agg.certFile !== null && agg.keyFile !== null) {
    return { ca, cert: await readCredentialFile('aggregator.certFile', agg.certFile), key: await readCredentialFile('aggregator.keyFile', agg.keyFile), token: null }
  }
  const kube = kubeconfigTls(agg.kubeletConfig)
  if (kube.cert === null || kube.key === null) {
    throw new AppError('PFIM_AGGREGATOR_CREDENTIALS', `kubeconfig ${agg.kubeletConfig}: the current user has no client-certificate/client-key (or -data); set aggregator.certFile/keyFile or aggregator.tokenFile`, { where: agg.kubeletConfig })
  }
  return { ca: ca ?? kube.ca, cert: kube.cert, key: kube.key, token: null }
}

export interface LinkHealth {
  readonly isConnected: boolean
  readonly lastError: string | null
  readonly lastErrorAt: number | null
}

export interface LinkOptions {
  readonly url: string
  readonly node: string
  readonly credentials: Credentials
  readonly now: () => number
}

export class AggregatorLink {
  readonly url: string
  readonly #o: LinkOptions
  readonly #agent: Agent
  #health: LinkHealth = { isConnected: false, lastError: null, lastErrorAt: null }

  constructor (opts: LinkOptions) {
    this.#o = opts
    this.url = opts.url.replace(/\/+$/, '')
    const { ca, cert, key } = opts.credentials
    this.#agent = new Agent({ connect: { ...(ca === null ? {} : { ca }), ...(cert === null ? {} : { cert }), ...(key === null ? {} : { key }) } })
  }

  get health (): LinkHealth {
    return this.#health
  }

  /**
   * One request. Answers 200 with a body that passes `check` and names this node; 204 is null.
   * 429, 5xx and no answer are PFIM_AGGREGATOR_UNAVAILABLE; any other status, an invalid body or
   * another node's name are PFIM_AGGREGATOR_REJECTED. An abort (close) is rethrown as is.
   */
  async exchange<T extends { node: string }> (method: 'GET' | 'POST', path: string, body: unknown, check: Check<T>, opts: { signal: AbortSignal, waitMs?: number }): Promise<T | null> {
    try {
      const result = await this.#exchange(method, path, body, check, opts)
      this.#health = { ...this.#health, isConnected: true }
      return result
    } catch (err) {
      if (opts.signal.aborted) throw err
      this.#health = { isConnected: false, lastError: (err as Error).message, lastErrorAt: this.#o.now() }
      throw err
    }
  }

  async #exchange<T extends { node: string }> (method: 'GET' | 'POST', path: string, body: unknown, check: Check<T>, opts: { signal: AbortSignal, waitMs?: number }): Promise<T | null> {
    const where = `${method} ${this.url}${path}`
    const headers: Record<string, string> = { accept: 'application/json' }
    if (body !== undefined) headers['content-type'] = 'application/json'
    if (this.#o.credentials.token !== null) headers.authorization = `Bearer ${this.#o.credentials.token}`
    const timeoutMs = (opts.waitMs ?? 0) + 30_000
    const res = await request(`${this.url}${path}`, {
      method, headers, body: body === undefined ? undefined : JSON.stringify(body), dispatcher: this.#agent, signal: opts.signal, headersTimeout: timeoutMs, bodyTimeout: timeoutMs,
    }).catch((err: unknown) => {
      if (opts.signal.aborted) throw err
      const cause = (err as { cause?: { message?: string } }).cause?.message
      throw new AggregatorError('PFIM_AGGREGATOR_UNAVAILABLE', `${where} failed: ${(err as Error).message}${cause === undefined ? '' : ` (${cause})`}`, { cause: err, where })
    })
    const text = await res.body.text()
    if (res.statusCode === 204) return null
    if (res.statusCode === 429 || res.statusCode >= 500) {
      throw new AggregatorError('PFIM_AGGREGATOR_UNAVAILABLE', `${where} answered ${res.statusCode}: ${text.slice(0, 300)}`, { status: res.statusCode, where })
    }
    if (res.statusCode !== 200) {
      throw new AggregatorError('PFIM_AGGREGATOR_REJECTED', `${where} refused with ${res.statusCode}: ${text.slice(0, 300)}`, { status: res.statusCode, where })
    }
    return this.#accept(text, check, where)
  }

  #accept<T extends { node: string }> (text: string, check: Check<T>, where: string): T {
    let answer: T
    try {
      answer = parseBody(text, check)
    } catch (err) {
      throw new AggregatorError('PFIM_AGGREGATOR_REJECTED', `${where} answered with an invalid body: ${isAppError(err) ? err.message : String(err)}`, { status: 200, cause: err, where })
    }
    if (answer.node !== this.#o.node) {
      throw new AggregatorError('PFIM_AGGREGATOR_REJECTED', `${where} answered for node "${answer.node}", but this agent is "${this.#o.node}"`, { status: 200, where })
    }
    return answer
  }

  async close (): Promise<void> {
    await this.#agent.destroy()
  }
}

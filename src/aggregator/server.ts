/**
 * The aggregator's HTTPS API (protocol v1, src/core/protocol.ts): reports in, directives out by
 * long-poll, plus /metrics and /healthz. Every /v1 request is authenticated as a node first; a
 * body naming another node is refused with 403 before anything is written.
 */
import { createServer, type Server } from 'node:https'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { isAppError } from '../core/errors.js'
import type { Logger } from '../core/log.js'
import { EXPOSITION_CONTENT_TYPE } from '../core/metrics.js'
import { checkReportBatch, parseBody, PROTOCOL_PATHS, type Directive } from '../core/protocol.js'
import { SchemaError } from '../core/schema.js'
import type { ClusterCache } from './cluster-cache.js'
import { buildDirective } from './directive-builder.js'
import type { FioMetrics } from './fio-metrics.js'
import { IdentityError, type NodeAuthenticator } from './node-identity.js'
import { nodeTable } from './node-table.js'
import type { ReportApplier } from './report-applier.js'

const MAX_BODY = 48 * 1024 * 1024
const MAX_WAIT_SECONDS = 120

export interface ServerDeps {
  readonly auth: NodeAuthenticator
  readonly applier: ReportApplier
  readonly cache: ClusterCache
  readonly metrics: FioMetrics
  readonly log: Logger
}

export interface TlsMaterial { readonly cert: Buffer, readonly key: Buffer, readonly clientCa: Buffer }

class HttpError extends Error {
  constructor (readonly status: number, readonly code: string, message: string) { super(message) }
}

async function readBody (req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req) {
    size += (chunk as Buffer).length
    if (size > MAX_BODY) throw new HttpError(413, 'PFIM_PROTOCOL_INVALID', `body larger than ${MAX_BODY} bytes`)
    chunks.push(chunk as Buffer)
  }
  return Buffer.concat(chunks).toString('utf8')
}

function send (res: ServerResponse, status: number, body: unknown, type = 'application/json'): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body)
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(text) })
  res.end(text)
}

export class AggregatorServer {
  readonly #server: Server
  readonly #waiters = new Set<() => void>()

  constructor (tls: TlsMaterial, private readonly d: ServerDeps) {
    this.#server = createServer({ cert: tls.cert, key: tls.key, ca: tls.clientCa, requestCert: true, rejectUnauthorized: false, minVersion: 'TLSv1.2' }, (req, res) => {
      this.#route(req, res).catch((err: unknown) => this.#fail(res, err))
    })
    d.cache.onRefresh(() => { for (const wake of [...this.#waiters]) wake() })
  }

  /** New client CA (the cluster's rotated): applies to new connections. */
  setTls (tls: TlsMaterial): void {
    this.#server.setSecureContext({ cert: tls.cert, key: tls.key, ca: tls.clientCa })
  }

  async listen (port: number, host: string): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject)
      this.#server.listen(port, host, () => { this.#server.off('error', reject); resolve() })
    })
    return (this.#server.address() as AddressInfo).port
  }

  async close (): Promise<void> {
    for (const wake of [...this.#waiters]) wake()
    this.#server.closeAllConnections()
    await new Promise<void>(resolve => this.#server.close(() => { resolve() }))
  }

  async #route (req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'https://aggregator')
    if (req.method === 'GET' && url.pathname === '/healthz') return send(res, 200, 'ok\n', 'text/plain')
    if (req.method === 'GET' && url.pathname === '/metrics') return send(res, 200, this.d.metrics.registry.render(), EXPOSITION_CONTENT_TYPE)
    if (url.pathname === PROTOCOL_PATHS.reports && req.method === 'POST') return await this.#reports(req, res)
    if (url.pathname === PROTOCOL_PATHS.directives && req.method === 'GET') return await this.#directives(req, res, url)
    if (url.pathname === PROTOCOL_PATHS.nodes && req.method === 'GET') {
      const node = await this.d.auth.authenticate(req)
      return send(res, 200, { node, nodes: nodeTable(this.d.cache.snapshot, this.d.applier.heartbeats) })
    }
    throw new HttpError(404, 'PFIM_USAGE', `no ${req.method ?? ''} ${url.pathname}`)
  }

  async #reports (req: IncomingMessage, res: ServerResponse): Promise<void> {
    const node = await this.d.auth.authenticate(req)
    const batch = parseBody(await readBody(req), checkReportBatch)
    if (batch.node !== node) {
      this.d.log.warn({ authenticated: node, claimed: batch.node }, 'refused a report for another node')
      throw new IdentityError(403, `node ${node} may not report for node ${batch.node}`)
    }
    send(res, 200, await this.d.applier.apply(node, batch))
  }

  async #directives (req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const node = await this.d.auth.authenticate(req)
    const after = url.searchParams.get('after') ?? ''
    const wait = Number.parseInt(url.searchParams.get('waitSeconds') ?? '0', 10)
    if (!Number.isInteger(wait) || wait < 0) throw new SchemaError('query.waitSeconds', 'a non-negative integer')
    const directive = await this.#awaitChange(node, after, Math.min(wait, MAX_WAIT_SECONDS) * 1000, res)
    send(res, 200, { node, directive })
  }

  /** The node's directive as soon as its version differs from `after`, or the same one at the deadline. */
  async #awaitChange (node: string, after: string, waitMs: number, res: ServerResponse): Promise<Directive> {
    let directive = buildDirective(this.d.cache.snapshot, node)
    if (directive.version !== after || waitMs === 0) return directive
    await new Promise<void>(resolve => {
      const done = (): void => { clearTimeout(timer); this.#waiters.delete(check); res.off('close', done); resolve() }
      const check = (): void => {
        directive = buildDirective(this.d.cache.snapshot, node)
        if (directive.version !== after) done()
      }
      const timer = setTimeout(done, waitMs)
      this.#waiters.add(check)
      res.once('close', done)
    })
    return directive
  }

  #fail (res: ServerResponse, err: unknown): void {
    const status = err instanceof HttpError ? err.status : err instanceof IdentityError ? err.status : err instanceof SchemaError ? 400 : 503
    const code = err instanceof HttpError ? err.code : isAppError(err) ? err.code : 'PFIM_KUBE_API'
    if (status >= 500) this.d.log.warn({ err }, 'request failed')
    if (res.headersSent) { res.destroy(); return }
    send(res, status, { error: { code, message: (err as Error).message } })
  }
}

/**
 * protocolStubServer: a small HTTPS server that speaks protocol v1 (POST /v1/reports, GET
 * /v1/directives long-poll) and records every request. It stands in for podsec-fim-aggregator only
 * in the agent's unit tests, so each protocol corner (503, partial acks, a foreign node's ack) can
 * be produced on demand; test/aggregator/e2e.test.ts runs agents against the real aggregator. TLS is real: certificates come from openssl
 * (spawned with argument arrays), the client certificate's CN or a bearer token identifies the node.
 */
import { readFileSync } from 'node:fs'
import { createServer, type Server } from 'node:https'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { TLSSocket } from 'node:tls'
import { Pki, rdn } from './pki.js'
import { checkReportBatch, parseBody, type Directive, type Report } from '../../src/core/protocol.js'

type OptionalKeys = 'gracePeriod' | 'initialDelay' | 'maxBackups'
/** A directive as a test writes it: the optional protocol fields may be left out. */
export type DirectiveInput = Omit<Directive, OptionalKeys> & Partial<Pick<Directive, OptionalKeys>>

export interface TestPki {
  readonly dir: string
  readonly caFile: string
  readonly server: { certFile: string, keyFile: string }
  /** A client certificate signed by the CA, e.g. for CN system:node:node-a. */
  client (cn: string): Promise<{ certFile: string, keyFile: string }>
}

export async function makePki (dir: string): Promise<TestPki> {
  const pki = new Pki(dir)
  await pki.init()
  const server = await pki.issue('server', 'server', rdn('CN', 'podsec-fim-aggregator'))
  let clients = 0
  return { dir, caFile: pki.caCert, server, client: cn => pki.issue(`client${++clients}`, 'client', rdn('CN', cn)) }
}

export interface StubRequest {
  readonly method: string
  readonly path: string
  /** The client certificate's CN, or null without one. */
  readonly cn: string | null
  readonly authorization: string | null
  readonly status: number
}

export interface StubOptions {
  readonly pki: TestPki
  readonly node?: string
  /** Bearer token mode: only this token is accepted (and no certificate is needed). */
  readonly token?: string
}

export interface ProtocolStub {
  readonly url: string
  /** Every report applied, in the order applied; each seq at most once. */
  readonly applied: Report[]
  readonly requests: StubRequest[]
  /** The next POSTs to /v1/reports answer with these statuses instead of applying anything. */
  readonly failReports: number[]
  /** When set, a POST applies at most this many new reports (a partial ack). */
  ackLimit: number | null
  /** When set, no POST is answered until it is cleared (the stub holds the request). */
  isHoldingReports: boolean
  /** Called after each POST applied reports, before it is answered. */
  onApplied: (() => void) | null
  /** POSTs to /v1/reports whose body has been read (answered or held). */
  postsRead: number
  /** When set, acks name this node instead of the caller's (a confused aggregator). */
  ackNode: string | null
  setDirective (d: DirectiveInput): void
  close (): Promise<void>
}

function identity (req: IncomingMessage, opts: StubOptions): { cn: string | null, node: string | null } {
  const cert = (req.socket as TLSSocket).getPeerCertificate()
  const cn = typeof cert?.subject?.CN === 'string' && (req.socket as TLSSocket).authorized ? cert.subject.CN : null
  if (opts.token !== undefined) return { cn, node: req.headers.authorization === `Bearer ${opts.token}` ? opts.node ?? 'node-a' : null }
  return { cn, node: cn?.startsWith('system:node:') === true ? cn.slice('system:node:'.length) : null }
}

function send (res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' })
  res.end(body === undefined ? undefined : JSON.stringify(body))
}

export async function protocolStubServer (t: { teardown (fn: () => unknown): void }, opts: StubOptions): Promise<ProtocolStub> {
  let directive: DirectiveInput | null = null
  const waiters = new Set<() => void>()
  const stub = {
    url: '', applied: [] as Report[], requests: [] as StubRequest[], failReports: [] as number[], ackLimit: null as number | null, isHoldingReports: false,
    onApplied: null as (() => void) | null, ackNode: null as string | null, postsRead: 0,
    setDirective (d: DirectiveInput) { directive = d; for (const w of [...waiters]) w() },
    close: async () => {},
  }
  const record = (req: IncomingMessage, cn: string | null, status: number) => stub.requests.push({ method: req.method ?? '', path: req.url ?? '', cn, authorization: req.headers.authorization ?? null, status })
  const ackedSeq = () => stub.applied.reduce((max, r) => Math.max(max, r.seq), 0)

  async function reports (req: IncomingMessage, res: ServerResponse, node: string, cn: string | null) {
    let text = ''
    for await (const chunk of req) text += (chunk as Buffer).toString()
    stub.postsRead++
    while (stub.isHoldingReports) await new Promise(resolve => setTimeout(resolve, 10))
    const failure = stub.failReports.shift()
    if (failure !== undefined) { record(req, cn, failure); send(res, failure, { error: 'scripted failure' }); return }
    let batch
    try {
      batch = parseBody(text, checkReportBatch)
    } catch (err) {
      record(req, cn, 400); send(res, 400, { error: (err as Error).message }); return
    }
    if (batch.node !== node) { record(req, cn, 403); send(res, 403, { error: `node ${batch.node} is not ${node}` }); return }
    let budget = stub.ackLimit ?? Infinity
    for (const r of batch.reports) {
      if (r.seq <= ackedSeq()) continue
      if (budget-- <= 0) break
      stub.applied.push(r)
    }
    stub.onApplied?.()
    record(req, cn, 200)
    send(res, 200, { node: stub.ackNode ?? node, ackedSeq: ackedSeq() })
  }

  async function directives (req: IncomingMessage, res: ServerResponse, node: string, cn: string | null) {
    const q = new URL(req.url ?? '/', 'https://stub').searchParams
    const after = q.get('after') ?? ''
    const waitMs = Number(q.get('waitSeconds') ?? '1') * 1000
    if (directive === null || directive.version === after) {
      await new Promise<void>(resolve => {
        const timer = setTimeout(() => { waiters.delete(done); resolve() }, waitMs)
        const done = () => { clearTimeout(timer); waiters.delete(done); resolve() }
        waiters.add(done)
        res.once('close', done)
      })
    }
    record(req, cn, directive === null ? 204 : 200)
    if (directive === null) send(res, 204, undefined)
    else send(res, 200, { node, directive })
  }

  const server: Server = createServer({
    key: readFileSync(opts.pki.server.keyFile), cert: readFileSync(opts.pki.server.certFile), ca: readFileSync(opts.pki.caFile),
    requestCert: true, rejectUnauthorized: false,
  }, (req, res) => {
    const { cn, node } = identity(req, opts)
    const path = new URL(req.url ?? '/', 'https://stub').pathname
    if (node === null) { record(req, cn, 401); send(res, 401, { error: 'who are you?' }); return }
    if (req.method === 'POST' && path === '/v1/reports') void reports(req, res, node, cn)
    else if (req.method === 'GET' && path === '/v1/directives') void directives(req, res, node, cn)
    else { record(req, cn, 404); send(res, 404, { error: 'no such path' }) }
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as { port: number }).port
  stub.url = `https://127.0.0.1:${port}`
  stub.close = async () => {
    for (const w of [...waiters]) w()
    stub.isHoldingReports = false
    const closed = new Promise<void>(resolve => server.close(() => resolve()))
    server.closeAllConnections()
    await closed
  }
  t.teardown(() => stub.close())
  return stub
}

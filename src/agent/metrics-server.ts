/**
 * Prometheus metrics on a loopback TCP port (`metrics.port`), for a node-local scraper. Bound to
 * 127.0.0.1 and ::1 only, never to a wildcard address: the metrics name files and users of the
 * node, and a rootless node must not open ports to the network (a scraper elsewhere reads them
 * through an exporter it trusts, or from the aggregator).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { AppError } from '../core/errors.js'
import type { Logger } from '../core/log.js'
import { EXPOSITION_CONTENT_TYPE } from '../core/metrics.js'

export const METRICS_HOSTS = ['127.0.0.1', '::1'] as const

/** Errors that mean "this host has no such address family", not "the port is taken". */
const ABSENT_FAMILY = new Set(['EADDRNOTAVAIL', 'EAFNOSUPPORT'])

function answer (render: () => string, req: IncomingMessage, res: ServerResponse, log: Logger): void {
  const path = new URL(req.url ?? '/', 'http://localhost').pathname
  let status = 200
  let body: string
  let type = EXPOSITION_CONTENT_TYPE
  if (path !== '/metrics') [status, body, type] = [404, 'only /metrics is served here\n', 'text/plain; charset=utf-8']
  else if (req.method !== 'GET' && req.method !== 'HEAD') [status, body, type] = [405, '/metrics expects GET\n', 'text/plain; charset=utf-8']
  else {
    try {
      body = render()
    } catch (err) {
      log.error({ err }, 'rendering the metrics failed')
      ;[status, body, type] = [500, 'rendering the metrics failed; see the agent log\n', 'text/plain; charset=utf-8']
    }
  }
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) })
  res.end(req.method === 'HEAD' ? undefined : body)
}

export class MetricsServer {
  readonly #render: () => string
  readonly #log: Logger
  readonly #servers: Server[] = []

  constructor (render: () => string, log: Logger) {
    this.#render = render
    this.#log = log
  }

  /** Listens on both loopback addresses; a host without IPv6 gets 127.0.0.1 only. */
  async listen (port: number): Promise<void> {
    for (const host of METRICS_HOSTS) {
      const server = createServer((req, res) => answer(this.#render, req, res, this.#log))
      try {
        await new Promise<void>((resolve, reject) => {
          server.once('error', reject)
          server.listen({ port, host }, () => { server.off('error', reject); resolve() })
        })
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code
        if (host === '::1' && code !== undefined && ABSENT_FAMILY.has(code)) {
          this.#log.warn({ host, code }, 'no IPv6 loopback; metrics are served on 127.0.0.1 only')
          continue
        }
        await this.close()
        throw new AppError('PFIM_METRICS_UNAVAILABLE', `cannot serve metrics on ${host} port ${port}: ${(err as Error).message} (change or unset metrics.port)`, { where: 'metrics.port', cause: err })
      }
      this.#servers.push(server)
    }
    this.#log.info({ port, hosts: this.addresses().map(a => a.address) }, 'serving metrics on loopback')
  }

  addresses (): Array<{ address: string, port: number }> {
    return this.#servers.map(s => s.address()).filter(a => a !== null && typeof a === 'object').map(a => ({ address: a.address, port: a.port }))
  }

  async close (): Promise<void> {
    for (const server of this.#servers.splice(0)) {
      const closed = new Promise<void>(resolve => server.close(() => resolve()))
      server.closeAllConnections()
      await closed
    }
  }
}

/**
 * The control socket: HTTP over a unix socket in a 0700 directory, the socket itself 0600, so only
 * u7s-admin (the agent's user) can ask for status, a check or a re-init. Built here, listened on
 * by the daemon, closed with it.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { chmod, mkdir, rm } from 'node:fs/promises'
import { connect } from 'node:net'
import { dirname } from 'node:path'
import { AppError, ControlError, isAppError } from '../core/errors.js'
import { CONTROL_PATHS } from '../core/control-api.js'
import type { Logger } from '../core/log.js'

export type Handler = () => Promise<unknown> | unknown

export interface ControlRoutes {
  readonly status: Handler
  readonly check: Handler
  readonly reinit: Handler
}

const TABLE: ReadonlyArray<readonly [string, string, keyof ControlRoutes]> = [
  ['GET', CONTROL_PATHS.status, 'status'],
  ['POST', CONTROL_PATHS.check, 'check'],
  ['POST', CONTROL_PATHS.reinit, 'reinit'],
]

function send (res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body)
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) })
  res.end(text)
}

function statusOf (err: unknown): number {
  if (err instanceof ControlError) return err.status
  if (isAppError(err) && err.code === 'PFIM_SCAN_NOT_FOUND') return 404
  if (isAppError(err) && err.code === 'PFIM_AGENT_HELD') return 409
  return 500
}

async function dispatch (routes: ControlRoutes, req: IncomingMessage, res: ServerResponse, log: Logger): Promise<void> {
  const path = new URL(req.url ?? '/', 'http://agent').pathname
  const match = TABLE.find(([, p]) => p === path)
  try {
    if (match === undefined) throw new ControlError('PFIM_CONTROL_FAILED', `no such control path ${path}`, { status: 404 })
    if (match[0] !== req.method) throw new ControlError('PFIM_CONTROL_FAILED', `${path} expects ${match[0]}`, { status: 405 })
    send(res, 200, await routes[match[2]]())
  } catch (err) {
    log.warn({ err, path }, 'control request failed')
    const code = isAppError(err) ? err.code : 'PFIM_CONTROL_FAILED'
    send(res, statusOf(err), { error: { code, message: (err as Error).message } })
  }
}

/** Refuses to take over a socket another live agent is listening on; removes a stale one. */
async function clearStaleSocket (path: string): Promise<void> {
  const alive = await new Promise<boolean>(resolve => {
    const s = connect(path)
    s.once('connect', () => { s.destroy(); resolve(true) })
    s.once('error', () => resolve(false))
  })
  if (alive) throw new AppError('PFIM_CONTROL_FAILED', `another agent is already listening on ${path}`, { where: path })
  await rm(path, { force: true })
}

export class ControlServer {
  readonly server: Server
  #path: string | null = null

  constructor (routes: ControlRoutes, log: Logger) {
    this.server = createServer((req, res) => { void dispatch(routes, req, res, log) })
    // A check can take minutes; the CLI waits for it.
    this.server.requestTimeout = 0
    this.server.headersTimeout = 60_000
  }

  async listen (path: string): Promise<void> {
    await mkdir(dirname(path), { recursive: true, mode: 0o700 })
    await clearStaleSocket(path)
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject)
      this.server.listen(path, () => { this.server.off('error', reject); resolve() })
    })
    this.#path = path
    await chmod(path, 0o600)
  }

  async close (): Promise<void> {
    if (!this.server.listening) return
    const closed = new Promise<void>(resolve => this.server.close(() => resolve()))
    this.server.closeAllConnections()
    await closed
    if (this.#path !== null) await rm(this.#path, { force: true })
  }
}

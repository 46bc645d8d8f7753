/**
 * The agent's control socket, spoken with undici over a unix socket. Check and re-init answer only
 * when the scan has finished (minutes on a real node), so there is no request timeout. One client
 * per request, closed after it.
 */
import { Client } from 'undici'
import { CONTROL_PATHS, type ScanResponse, type StatusView } from '../core/control-api.js'
import { AppError, ControlError, ERROR_CODES, type ErrorCode } from '../core/errors.js'

function errnoOf (err: unknown): string | undefined {
  const e = err as { code?: unknown, cause?: { code?: unknown } }
  const code = typeof e.code === 'string' ? e.code : e.cause?.code
  return typeof code === 'string' ? code : undefined
}

function connectError (err: unknown, socketPath: string): AppError {
  const errno = errnoOf(err)
  if (errno === 'ENOENT' || errno === 'ECONNREFUSED') {
    return new AppError('PFIM_AGENT_UNREACHABLE', `no podsec-fim agent is listening on ${socketPath} (is podsec-fim-agent running? start it with systemctl --user start podsec-fim-agent)`, { where: socketPath, cause: err })
  }
  if (errno === 'EACCES' || errno === 'EPERM') {
    return new AppError('PFIM_AGENT_UNREACHABLE', `permission denied on ${socketPath}: run podsec-fim as the agent's user (on a u7s node: nsenter_u7s podsec-fim ...)`, { where: socketPath, cause: err })
  }
  return new AppError('PFIM_CONTROL_FAILED', `request to the agent on ${socketPath} failed: ${(err as Error).message}${errno === undefined ? '' : ` (${errno})`}`, { where: socketPath, cause: err })
}

function agentError (body: unknown, status: number, socketPath: string): AppError {
  const error = (body as { error?: { code?: unknown, message?: unknown } } | null)?.error
  const code = typeof error?.code === 'string' && error.code in ERROR_CODES ? error.code as ErrorCode : 'PFIM_CONTROL_FAILED'
  const message = typeof error?.message === 'string' ? error.message : `the agent on ${socketPath} answered with HTTP status ${status}`
  return new ControlError(code, message, { status, where: socketPath })
}

async function request<T> (socketPath: string, method: 'GET' | 'POST', path: string): Promise<T> {
  const client = new Client('http://localhost', { socketPath, headersTimeout: 0, bodyTimeout: 0 })
  try {
    const res = await client.request({ method, path, headers: { accept: 'application/json' } })
      .catch((err: unknown) => { throw connectError(err, socketPath) })
    const text = await res.body.text()
    let body: unknown
    try {
      body = JSON.parse(text)
    } catch (err) {
      throw new AppError('PFIM_CONTROL_FAILED', `the agent on ${socketPath} answered ${method} ${path} with status ${res.statusCode} and no JSON`, { where: socketPath, cause: err })
    }
    if (res.statusCode >= 400) throw agentError(body, res.statusCode, socketPath)
    return body as T
  } finally {
    await client.close()
  }
}

export function requestStatus (socketPath: string): Promise<StatusView> {
  return request<StatusView>(socketPath, 'GET', CONTROL_PATHS.status)
}

/** Runs a check or a re-init on the agent and waits for its result. */
export function requestScan (socketPath: string, kind: 'check' | 'reinit'): Promise<ScanResponse> {
  return request<ScanResponse>(socketPath, 'POST', CONTROL_PATHS[kind])
}

/**
 * The agent's control socket, spoken with undici over a unix socket. Check and re-init answer only
 * when the scan has finished (minutes on a real node), so there is no request timeout. One client
 * per request, closed after it.
 */
import { Client } from 'undici'
import { CONTROL_PATHS, type MetricsResponse, type ScanResponse, type StatusView } from '../core/control-api.js'
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

async function requestText (socketPath: string, method: 'GET' | 'POST', path: string): Promise<{ status: number, text: string }> {
  const client = new Client('http://localhost', { socketPath, headersTimeout: 0, bodyTimeout: 0 })
  try {
    const res = await client.request({ method, path, headers: { accept: 'application/json' } })
      .catch((err: unknown) => { throw connectError(err, socketPath) })
    return { status: res.statusCode, text: await res.body.text() }
  } finally {
    await client.close()
  }
}

async function request<T> (socketPath: string, method: 'GET' | 'POST', path: string): Promise<T> {
  const res = await requestText(socketPath, method, path)
  let body: unknown
  try {
    body = JSON.parse(res.text)
  } catch (err) {
    throw new AppError('PFIM_CONTROL_FAILED', `the agent on ${socketPath} answered ${method} ${path} with status ${res.status} and no JSON`, { where: socketPath, cause: err })
  }
  if (res.status >= 400) throw agentError(body, res.status, socketPath)
  return body as T
}

export function requestStatus (socketPath: string): Promise<StatusView> {
  return request<StatusView>(socketPath, 'GET', CONTROL_PATHS.status)
}

/** Runs a check or a re-init on the agent and waits for its result. */
export function requestScan (socketPath: string, kind: 'check' | 'reinit'): Promise<ScanResponse> {
  return request<ScanResponse>(socketPath, 'POST', CONTROL_PATHS[kind])
}

/** The agent's Prometheus exposition, as served (errors come back as JSON like every other path). */
export async function requestMetrics (socketPath: string): Promise<string> {
  const res = await requestText(socketPath, 'GET', CONTROL_PATHS.metrics)
  if (res.status >= 400) {
    let body: unknown = null
    try { body = JSON.parse(res.text) } catch { /* no JSON: agentError says the status */ }
    throw agentError(body, res.status, socketPath)
  }
  return res.text
}

export function requestMetricsJson (socketPath: string): Promise<MetricsResponse> {
  return request<MetricsResponse>(socketPath, 'GET', CONTROL_PATHS.metricsJson)
}

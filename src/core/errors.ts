/**
 * Typed errors with stable codes. Every error the programs can raise on purpose is one of these;
 * the CLI and the daemons translate them to messages and exit codes in exactly one place each.
 * The table in the README ("Error codes") is checked against ERROR_CODES by a test.
 */

export const ERROR_CODES = {
  PFIM_CONFIG_INVALID: 'the configuration file is malformed or a key is missing, unknown or of the wrong type',
  PFIM_CONFIG_UNREADABLE: 'the configuration file cannot be read',
  PFIM_AIDE_MISSING: 'the aide binary cannot be found or executed',
  PFIM_AIDE_FAILED: 'AIDE exited with an error code',
  PFIM_AIDE_REPORT_INVALID: 'an AIDE report or database could not be parsed',
  PFIM_BASELINE_TAMPERED: 'the AIDE database differs from the one the agent recorded',
  PFIM_BASELINE_MISSING: 'the AIDE database recorded by the agent is gone',
  PFIM_STORE_FAILED: 'the SQLite state database cannot be opened or migrated',
  PFIM_STORE_NOT_FOUND: 'no state database exists yet (the agent has never run here)',
  PFIM_STORE_DENIED: 'the state database exists but this user may not read it (run as the agent\'s user)',
  PFIM_SCAN_NOT_FOUND: 'no scan has the requested id',
  PFIM_LOG_NOT_FOUND: 'the scan has no AIDE log (none was written, or retention dropped it)',
  PFIM_SCAN_INTERRUPTED: 'the scan was stopped before it finished',
  PFIM_AGENT_UNREACHABLE: 'no agent is listening on the control socket',
  PFIM_CONTROL_FAILED: 'the agent answered a control request with an error',
  PFIM_USAGE: 'the command line is invalid',
  PFIM_AUDIT_LINE_INVALID: 'a kube-apiserver audit log line is not a well-formed audit.k8s.io/v1 event (counted and skipped)',
  PFIM_PROTOCOL_INVALID: 'a protocol body (agent <-> aggregator) has a missing, unknown or mistyped field',
  PFIM_KUBECONFIG_INVALID: 'a kubeconfig (or the in-cluster service account files) is missing, unreadable or lacks a field',
  PFIM_KUBE_API: 'the Kubernetes API server refused or failed a request',
  PFIM_UNAUTHENTICATED: 'a request to the aggregator carried no valid node credential',
  PFIM_FORBIDDEN: 'a node tried to speak for another node or a resource it may not touch',
  PFIM_METRICS_UNAVAILABLE: 'the agent cannot listen on metrics.port (in use, or not permitted)',
  PFIM_METRIC_INVALID: 'a metric name, label set, bucket list or value is not valid for Prometheus (a programming error)',
  PFIM_AGGREGATOR_CREDENTIALS: 'the aggregator credentials (certificate, key, CA, token, or the kubeconfig they come from) are missing or malformed',
  PFIM_AGGREGATOR_UNAVAILABLE: 'the aggregator could not be reached or answered 429/5xx (retried with backoff)',
  PFIM_AGGREGATOR_REJECTED: 'the aggregator refused the agent (HTTP 400/401/403) or answered for another node',
  PFIM_AGENT_HELD: 'checks are held off by the cluster (FileIntegrity holdoff) until it is released',
  PFIM_THRESHOLD_INVALID: 'a threshold (podsec letter or Nagios range such as 10:20, ~:5, @1:3) is malformed',
  PFIM_POLICY_FILE_INVALID: 'a container policy file (policy.json, registries.d/*.yaml, storage.conf, /etc/group, /etc/passwd) is malformed; the file and JSON path or line are named',
  PFIM_POLICY_FILE_UNREADABLE: 'a container policy file or a user\'s containers config directory cannot be read',
  PFIM_CONTAINER_STORAGE_INVALID: 'a containers/storage file (containers.json, layers.json) is malformed or names a bad id; the last good mapping is kept',
  PFIM_MAIL_FAILED: 'the mail transport (the sendmail program or the SMTP server) did not accept a report; the report cursor stays where it was',
  PFIM_REPORT_BUSY: 'another `podsec-fim report` of the same kind is running on this state dir',
  PFIM_CRONTAB_FAILED: 'the crontab could not be read or written (`crontab -l` / `crontab -` or the spool file)',
} as const

export type ErrorCode = keyof typeof ERROR_CODES

export interface ErrorDetails {
  /** The config key, file or line the error is about, when there is one. */
  readonly where?: string
  readonly cause?: unknown
}

export class AppError extends Error {
  readonly code: ErrorCode
  readonly where: string | undefined

  constructor (code: ErrorCode, message: string, details: ErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause })
    this.name = 'AppError'
    this.code = code
    this.where = details.where
  }
}

export class ConfigError extends AppError {
  constructor (message: string, details: ErrorDetails & { unreadable?: boolean } = {}) {
    super(details.unreadable === true ? 'PFIM_CONFIG_UNREADABLE' : 'PFIM_CONFIG_INVALID', message, details)
    this.name = 'ConfigError'
  }
}

export class AideError extends AppError {
  readonly exitCode: number | null

  constructor (code: ErrorCode, message: string, details: ErrorDetails & { exitCode?: number | null } = {}) {
    super(code, message, details)
    this.name = 'AideError'
    this.exitCode = details.exitCode ?? null
  }
}

export class StoreError extends AppError {
  constructor (code: ErrorCode, message: string, details: ErrorDetails = {}) {
    super(code, message, details)
    this.name = 'StoreError'
  }
}

export class ControlError extends AppError {
  /** HTTP status the control socket answers with. */
  readonly status: number

  constructor (code: ErrorCode, message: string, details: ErrorDetails & { status?: number } = {}) {
    super(code, message, details)
    this.name = 'ControlError'
    this.status = details.status ?? 500
  }
}

export class MetricError extends AppError {
  constructor (message: string, details: ErrorDetails = {}) {
    super('PFIM_METRIC_INVALID', message, details)
    this.name = 'MetricError'
  }
}

export class MailError extends AppError {
  constructor (message: string, details: ErrorDetails = {}) {
    super('PFIM_MAIL_FAILED', message, details)
    this.name = 'MailError'
  }
}

export function isAppError (err: unknown): err is AppError {
  return err instanceof AppError
}

/**
 * The one place where an error becomes a message and an exit code (sysexits(3) for the errors,
 * 0-3 for outcomes as monitoring plugins use them). The top-level help is rendered from EXIT_HELP.
 */
import { CommanderError } from 'commander'
import { isAppError, type ErrorCode } from '../core/errors.js'

export const EXIT = {
  OK: 0,
  FAILED: 1,
  ERRORED: 2,
  NOT_RUNNING: 3,
  USAGE: 64,
  NO_INPUT: 66,
  NO_PERMISSION: 77,
  UNAVAILABLE: 69,
  SOFTWARE: 70,
  CANT_CREATE: 73,
  TEMPFAIL: 75,
  CONFIG: 78,
} as const

export const EXIT_HELP: ReadonlyArray<readonly [number, string]> = [
  [EXIT.OK, 'success (check: Succeeded, the files match the baseline)'],
  [EXIT.FAILED, 'check: Failed, files differ from the baseline'],
  [EXIT.ERRORED, 'check, reinit: the scan Errored or was Interrupted (reinit: anything but Succeeded)'],
  [EXIT.NOT_RUNNING, 'check: could not run (no agent, bad config, ...); status: the agent is not running'],
  [EXIT.USAGE, 'usage error (unknown command or option, bad argument)'],
  [EXIT.NO_INPUT, 'no state database yet, no scan with that id, or its log is gone'],
  [EXIT.UNAVAILABLE, 'no agent is listening on the control socket (reinit, metrics); top: the aggregator cannot be reached'],
  [EXIT.SOFTWARE, 'internal error, or the agent refused the request'],
  [EXIT.CANT_CREATE, 'crontab: the crontab could not be read or written'],
  [EXIT.TEMPFAIL, 'report: the MTA did not accept the mail, or another report is running (try again later)'],
  [EXIT.NO_PERMISSION, 'this user may not read the state database (run as the agent\'s user); top: the aggregator refused the credentials'],
  [EXIT.CONFIG, 'the agent config file is unreadable or invalid (top: also no aggregator.url, or unusable credentials)'],
]

const BY_CODE: Partial<Record<ErrorCode, number>> = {
  PFIM_USAGE: EXIT.USAGE,
  PFIM_STORE_NOT_FOUND: EXIT.NO_INPUT,
  PFIM_SCAN_NOT_FOUND: EXIT.NO_INPUT,
  PFIM_LOG_NOT_FOUND: EXIT.NO_INPUT,
  PFIM_STORE_DENIED: EXIT.NO_PERMISSION,
  PFIM_AGENT_UNREACHABLE: EXIT.UNAVAILABLE,
  PFIM_AGGREGATOR_UNAVAILABLE: EXIT.UNAVAILABLE,
  PFIM_AGGREGATOR_REJECTED: EXIT.NO_PERMISSION,
  PFIM_AGGREGATOR_CREDENTIALS: EXIT.CONFIG,
  PFIM_KUBECONFIG_INVALID: EXIT.CONFIG,
  PFIM_CONFIG_INVALID: EXIT.CONFIG,
  PFIM_CONFIG_UNREADABLE: EXIT.CONFIG,
  PFIM_CRONTAB_FAILED: EXIT.CANT_CREATE,
  PFIM_MAIL_FAILED: EXIT.TEMPFAIL,
  PFIM_REPORT_BUSY: EXIT.TEMPFAIL,
}

export interface Failure {
  readonly exitCode: number
  /** null when commander has already printed its own message. */
  readonly message: string | null
  readonly code: ErrorCode | null
}

/**
 * `couldNotRunExit` is the command's own code for "did not run at all" (check: 3), which wins
 * over the sysexits code for every error but a usage error.
 */
export function failure (err: unknown, couldNotRunExit?: number): Failure {
  if (err instanceof CommanderError) {
    return { exitCode: err.exitCode === 0 ? EXIT.OK : EXIT.USAGE, message: null, code: 'PFIM_USAGE' }
  }
  if (!isAppError(err)) {
    const text = err instanceof Error ? err.stack ?? err.message : String(err)
    return { exitCode: couldNotRunExit ?? EXIT.SOFTWARE, message: `internal error: ${text}`, code: null }
  }
  const message = `${err.message} (${err.code})`
  if (err.code === 'PFIM_USAGE') return { exitCode: EXIT.USAGE, message, code: err.code }
  return { exitCode: couldNotRunExit ?? BY_CODE[err.code] ?? EXIT.SOFTWARE, message, code: err.code }
}

export function renderExitCodes (): string {
  return EXIT_HELP.map(([code, text]) => `  ${String(code).padStart(2)}  ${text}`).join('\n')
}

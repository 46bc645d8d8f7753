/** The one table from errors to exit codes. */
import t from 'tap'
import { CommanderError } from 'commander'
import { AppError, ERROR_CODES, type ErrorCode } from '../../src/core/errors.js'
import { EXIT, EXIT_HELP, failure } from '../../src/cli/exit-codes.js'

/** Codes with their own exit status; every other code, present or future, is 70. */
const SPECIAL: Partial<Record<ErrorCode, number>> = {
  PFIM_CONFIG_INVALID: 78,
  PFIM_CONFIG_UNREADABLE: 78,
  PFIM_STORE_NOT_FOUND: 66,
  PFIM_SCAN_NOT_FOUND: 66,
  PFIM_LOG_NOT_FOUND: 66,
  PFIM_STORE_DENIED: 77,
  PFIM_AGENT_UNREACHABLE: 69,
  PFIM_USAGE: 64,
  PFIM_CRONTAB_FAILED: 73,
  PFIM_MAIL_FAILED: 75,
  PFIM_REPORT_BUSY: 75,
  PFIM_AGGREGATOR_UNAVAILABLE: 69,
  PFIM_AGGREGATOR_REJECTED: 77,
  PFIM_AGGREGATOR_CREDENTIALS: 78,
  PFIM_KUBECONFIG_INVALID: 78,
}

t.test('every error code maps to its exit code, with the code in the message', async t => {
  for (const code of Object.keys(ERROR_CODES) as ErrorCode[]) {
    const f = failure(new AppError(code, 'what happened'))
    t.same(f, { exitCode: SPECIAL[code] ?? 70, message: `what happened (${code})`, code }, code)
  }
})

t.test('a command\'s "could not run" code wins over every error but a usage error', async t => {
  t.equal(failure(new AppError('PFIM_AGENT_UNREACHABLE', 'x'), EXIT.NOT_RUNNING).exitCode, 3)
  t.equal(failure(new AppError('PFIM_CONFIG_INVALID', 'x'), EXIT.NOT_RUNNING).exitCode, 3)
  t.equal(failure(new Error('bug'), EXIT.NOT_RUNNING).exitCode, 3)
  t.equal(failure(new AppError('PFIM_USAGE', 'x'), EXIT.NOT_RUNNING).exitCode, 64)
})

t.test('commander errors: its message is already printed; help and version are success', async t => {
  t.same(failure(new CommanderError(1, 'commander.unknownOption', 'x')), { exitCode: 64, message: null, code: 'PFIM_USAGE' })
  t.equal(failure(new CommanderError(0, 'commander.helpDisplayed', 'x')).exitCode, 0)
})

t.test('anything else is an internal error (70) with its stack, and no error code', async t => {
  const f = failure(new TypeError('boom'))
  t.equal(f.exitCode, 70)
  t.equal(f.code, null)
  t.match(f.message, /^internal error: TypeError: boom\n +at /)
})

t.test('the help table documents every exit code the CLI uses', async t => {
  t.same(EXIT_HELP.map(([c]) => c).sort((a, b) => a - b), Object.values(EXIT).sort((a, b) => a - b))
})

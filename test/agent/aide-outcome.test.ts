import t from 'tap'
import { classifyExit, fioErrorMessage, otherWarnings, unverifiedFromStderr } from '../../src/agent/aide-outcome.js'
import type { AideExit } from '../../src/agent/aide-process.js'

const exit = (exitCode: number | null, stderr = '', extra: Partial<AideExit> = {}): AideExit =>
  ({ exitCode, signal: null, stdout: Buffer.alloc(0), stderr, stopped: false, ...extra })

t.test('FIO\'s mapping: 0 Succeeded, 1-7 Failed', async t => {
  t.same(classifyExit(exit(0)), { condition: 'Succeeded', exitCode: 0 })
  for (let rc = 1; rc <= 7; rc++) t.same(classifyExit(exit(rc)), { condition: 'Failed', exitCode: rc })
})

t.test('error codes are Errored with FIO\'s words and AIDE\'s own message', async t => {
  const r = classifyExit(exit(17, "ERROR: bad.conf:2: syntax error, unexpected new line, expecting group\n"))
  t.same(r, { condition: 'Errored', exitCode: 17, error: 'AIDE error: 17 Invalid configureline error: ERROR: bad.conf:2: syntax error, unexpected new line, expecting group' })
  for (const rc of [14, 15, 16, 18, 19, 20, 21, 22]) t.match(classifyExit(exit(rc)), { condition: 'Errored', error: new RegExp(`^AIDE error: ${rc} ${fioErrorMessage(rc)}`) })
  t.match(classifyExit(exit(255)), { condition: 'Errored', error: /^AIDE error: 21 Possible use of FIPS/ }, '255 maps to 21 as in FIO')
  t.match(classifyExit(exit(null, '', { signal: 'SIGKILL' })), { condition: 'Errored', error: /22 Unexpected error \(killed by SIGKILL\)/ })
})

t.test('exit 2 from a flex fatal error is an error, not "removed"', async t => {
  t.match(classifyExit(exit(2, 'input in flex scanner failed\n')), { condition: 'Errored', error: /could not read its database/ })
})

t.test('a run stopped by the agent is Interrupted', async t => {
  t.match(classifyExit(exit(null, '', { signal: 'SIGINT', stopped: true })), { condition: 'Interrupted' })
})

t.test('unreadable files from AIDE\'s warnings, with octal escapes decoded', async t => {
  const stderr = [
    "WARNING: opendir() failed for '/tmp/lab/nr/secretdir' (fullpath: '/tmp/lab/nr/secretdir'): Permission denied",
    'WARNING: hash calculation: open() failed for /tmp/lab/nr/sec\\012ret.txt: Permission denied (hashsums could not be calculated)',
    'WARNING: ignoring unsupported hash algorithm(s): stribog256',
    'WARNING: /db:2586: missing \'@@end_db\' in database',
  ].join('\n')
  const u = unverifiedFromStderr(stderr)
  t.same(u.map(x => [x.path.toString('latin1'), x.reason]), [
    ['/tmp/lab/nr/secretdir', 'Permission denied'],
    ['/tmp/lab/nr/sec\nret.txt', 'Permission denied'],
  ])
  t.same(otherWarnings(stderr), ['WARNING: ignoring unsupported hash algorithm(s): stribog256', "WARNING: /db:2586: missing '@@end_db' in database"])
})

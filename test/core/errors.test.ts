import t from 'tap'
import { readFileSync } from 'node:fs'
import { AppError, ConfigError, AideError, StoreError, ControlError, ERROR_CODES, isAppError } from '../../src/core/errors.js'

t.test('each class carries its code, name and cause', async t => {
  const cause = new Error('root')
  const cases: Array<[AppError, string, string]> = [
    [new ConfigError('m', { where: 'k', cause }), 'ConfigError', 'PFIM_CONFIG_INVALID'],
    [new ConfigError('m', { unreadable: true }), 'ConfigError', 'PFIM_CONFIG_UNREADABLE'],
    [new AideError('PFIM_AIDE_FAILED', 'm', { exitCode: 17 }), 'AideError', 'PFIM_AIDE_FAILED'],
    [new StoreError('PFIM_STORE_FAILED', 'm'), 'StoreError', 'PFIM_STORE_FAILED'],
    [new ControlError('PFIM_CONTROL_FAILED', 'm', { status: 404 }), 'ControlError', 'PFIM_CONTROL_FAILED'],
  ]
  for (const [err, name, code] of cases) {
    t.equal(err.name, name)
    t.equal(err.code, code)
    t.ok(isAppError(err))
    t.ok(err instanceof Error)
  }
  t.equal(cases[0]?.[0].cause, cause)
  t.equal(cases[0]?.[0].where, 'k')
  t.notOk(isAppError(new Error('x')))
})

t.test('every code is documented in the README error table, and nothing else is', async t => {
  const readme = readFileSync('README.md', 'utf8')
  const documented = new Set([...readme.matchAll(/^\| `(PFIM_[A-Z_]+)` \|/gm)].map(m => m[1]))
  t.same([...documented].sort(), Object.keys(ERROR_CODES).sort())
})

import t from 'tap'
import { readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { loadConfig, parseConfig, renderConfigReference, DEFINITIONS } from '../../src/core/config.js'
import { ConfigError } from '../../src/core/errors.js'

const env = { HOME: '/var/lib/u7s-admin', XDG_RUNTIME_DIR: '/run/user/1001' }

function allFrozen (value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return true
  return Object.isFrozen(value) && Object.values(value).every(allFrozen)
}

t.test('defaults follow the u7s layout and XDG dirs', async t => {
  const c = parseConfig({}, env)
  t.equal(c.stateDir, '/var/lib/u7s-admin/.local/state/podsec-fim')
  t.equal(c.socketPath, '/run/user/1001/podsec-fim/agent.sock')
  t.equal(c.aide.gracePeriod, 900)
  t.equal(c.aide.initialDelay, 0)
  t.equal(c.aide.maxBackups, 5)
  t.equal(c.containers.sweepSeconds, 600, 'upper dirs are looked at whole every ten minutes')
  t.equal(c.aide.config, null)
  t.equal(c.log.level, 'info')
  t.ok(allFrozen(c), 'every nested object is frozen')
  t.throws(() => { (c.aide as { maxBackups: number }).maxBackups = 1 })
})

t.test('XDG_STATE_HOME moves the state dir; no XDG_RUNTIME_DIR puts the socket there', async t => {
  const c = parseConfig({}, { HOME: '/h', XDG_STATE_HOME: '/s' })
  t.equal(c.stateDir, '/s/podsec-fim')
  t.equal(c.socketPath, '/s/podsec-fim/agent.sock')
})

t.test('every example config in etc/ loads', async t => {
  const files = readdirSync('etc').filter(f => f.endsWith('.json') && f.startsWith('agent'))
  t.ok(files.length > 0)
  for (const f of files) t.ok(allFrozen(loadConfig(join('etc', f), env)), f)
})

const bad: Array<[string, unknown, string]> = [
  ['unknown top-level key', { nodename: 'x' }, 'nodename'],
  ['unknown nested key', { aide: { grace: 1 } }, 'aide.grace'],
  ['wrong type', { aide: { gracePeriod: '900' } }, 'aide.gracePeriod'],
  ['below minimum', { aide: { gracePeriod: 5 } }, 'aide.gracePeriod'],
  ['not an integer', { aide: { maxBackups: 1.5 } }, 'aide.maxBackups'],
  ['relative path', { stateDir: 'state' }, 'stateDir'],
  ['bad level', { log: { level: 'loud' } }, 'log.level'],
  ['section not an object', { aide: 3 }, 'aide'],
  ['root not an object', [1], '(root)'],
  ['empty node name', { nodeName: '' }, 'nodeName'],
]
for (const [name, raw, key] of bad) {
  t.test(`rejects ${name}, naming ${key}`, async t => {
    const err = t.throws(() => parseConfig(raw, env)) as ConfigError
    t.type(err, ConfigError)
    t.equal(err.code, 'PFIM_CONFIG_INVALID')
    t.equal(err.where, key)
    if (key !== '(root)') t.match(err.message, key)
  })
}

t.test('file errors: missing, unreadable JSON', async t => {
  const dir = t.testdir({ 'bad.json': '{"nodeName": ', 'ok.json': '{}' })
  const missing = t.throws(() => loadConfig(join(dir, 'nope.json'), env)) as ConfigError
  t.equal(missing.code, 'PFIM_CONFIG_UNREADABLE')
  t.same(loadConfig(join(dir, 'nope.json'), env, { isDefaultPath: true }).aide.gracePeriod, 900, 'absent default file means defaults')
  const syntax = t.throws(() => loadConfig(join(dir, 'bad.json'), env)) as ConfigError
  t.equal(syntax.code, 'PFIM_CONFIG_INVALID')
  t.match(syntax.message, /not valid JSON/)
  writeFileSync(join(dir, 'x.json'), '{"aide": {"binary": "/usr/bin/aide"}}')
  t.equal(loadConfig(join(dir, 'x.json'), env, { overrides: { nodeName: 'n2' } }).nodeName, 'n2')
})

t.test('the README config reference is generated from the definitions', async t => {
  const { readFileSync } = await import('node:fs')
  const readme = readFileSync('README.md', 'utf8')
  t.ok(readme.includes(renderConfigReference()), 'README contains the rendered table (npm run docs regenerates it)')
  for (const key of Object.keys(DEFINITIONS)) t.match(readme, `\`${key}\``)
})

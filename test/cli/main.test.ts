/** The program as a whole: help that teaches, usage errors, config errors, default paths, exit codes. */
import t from 'tap'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { VERSION } from '../../src/core/version.js'
import { COMMANDS } from '../../src/cli/program.js'
import { runCli } from './run-cli.js'

t.test('--help lists every command and every exit code, with an nsenter_u7s example', async t => {
  const r = await runCli(['--help'])
  t.equal(r.exitCode, 0)
  t.equal(r.stderr, '')
  for (const c of ['status', 'scans', 'scan <id>', 'log <id>', 'check', 'reinit', 'report \\[options\\]', 'crontab \\[options\\] <action>']) t.match(r.stdout, new RegExp(`^  ${c} `, 'm'), c)
  t.match(r.stdout, 'nsenter_u7s podsec-fim status')
  for (const code of [0, 1, 2, 3, 64, 66, 69, 70, 73, 75, 78]) t.match(r.stdout, new RegExp(`^ +${code}  \\S`, 'm'), `exit code ${code}`)
  for (const o of ['--config <file>', '--state-dir <dir>', '--socket <path>', '--json']) t.match(r.stdout, o)
})

t.test('each command\'s help has its description, an example and its exit codes', async t => {
  for (const spec of COMMANDS) {
    for (const args of [[spec.name, '--help'], ['help', spec.name]]) {
      const r = await runCli(args)
      t.equal(r.exitCode, 0, args.join(' '))
      t.match(r.stdout, `Usage: podsec-fim ${spec.name}`)
      t.match(r.stdout, spec.description.slice(0, 30))
      // Inside the namespace as u7s-admin, or (report, crontab) on the host: see README "Operations".
      t.match(r.stdout, new RegExp(`Example:\\n  (nsenter_u7s |machinectl -q shell u7s-admin@ /usr/bin/)?podsec-fim ${spec.name}\\b`))
      t.match(r.stdout, /Exit codes:\n +0  \S/)
    }
  }
})

t.test('--version prints the package version', async t => {
  const r = await runCli(['--version'])
  t.equal(r.exitCode, 0)
  t.equal(r.stdout, `${VERSION}\n`)
})

t.test('usage errors exit 64 with commander\'s message and a pointer to --help', async t => {
  for (const args of [[], ['bogus'], ['scans', '--bogus'], ['status', 'extra'], ['--socket']]) {
    const r = await runCli(args)
    t.equal(r.exitCode, 64, args.join(' ') || '(no command)')
    t.equal(r.stdout, '')
    t.not(r.stderr, '')
  }
  t.match((await runCli(['bogus'])).stderr, "error: unknown command 'bogus'\n(podsec-fim --help shows usage)")
})

t.test('an invalid config file exits 78 and names the key; --json adds an error document', async t => {
  const dir = t.testdir({ 'agent.json': JSON.stringify({ stateDir: 'relative/dir' }), 'broken.json': '{ nope' })
  const r = await runCli(['--config', join(dir, 'agent.json'), 'scans'])
  t.equal(r.exitCode, 78)
  t.match(r.stderr, /^podsec-fim: config key "stateDir" must be an absolute path.*\(PFIM_CONFIG_INVALID\)$/m)
  const json = await runCli(['--config', join(dir, 'broken.json'), '--json', 'scans'])
  t.equal(json.exitCode, 78)
  t.match(JSON.parse(json.stdout), { error: { code: 'PFIM_CONFIG_INVALID', message: /not valid JSON/ } })
  const missing = await runCli(['--config', join(dir, 'absent.json'), 'scans'])
  t.equal(missing.exitCode, 78, 'a --config that does not exist is an error, not defaults')
  t.match(missing.stderr, 'PFIM_CONFIG_UNREADABLE')
})

t.test('--state-dir and --socket make a broken config irrelevant', async t => {
  const dir = t.testdir({ 'agent.json': '{ nope' })
  const r = await runCli(['--config', join(dir, 'agent.json'), '--state-dir', dir, '--socket', join(dir, 's'), 'status'])
  t.equal(r.exitCode, 3, r.stderr)
})

t.test('the config file names the state dir and the socket', async t => {
  const dir = t.testdir({ 'agent.json': JSON.stringify({ stateDir: '/nonexistent/pfim-state', socketPath: '/nonexistent/pfim.sock' }) })
  const r = await runCli(['--config', 'agent.json', '--json', 'status'], { cwd: dir })
  t.equal(r.exitCode, 3)
  t.match(JSON.parse(r.stdout), { socket: '/nonexistent/pfim.sock', stateDir: '/nonexistent/pfim-state' }, 'a relative --config is read from the cwd')
})

t.test('without --config an absent default config means defaults (XDG dirs of the user)', { skip: existsSync('/etc/podsec/fim/agent.json') && 'this machine has a real agent config' }, async t => {
  const home = t.testdir()
  const r = await runCli(['--json', 'status'], { env: { HOME: home, XDG_RUNTIME_DIR: join(home, 'run') } })
  t.equal(r.exitCode, 3)
  t.match(JSON.parse(r.stdout), { socket: join(home, 'run', 'podsec-fim', 'agent.sock'), stateDir: join(home, '.local', 'state', 'podsec-fim') })
  const scans = await runCli(['scans', '--state-dir', 'st'], { env: { HOME: home }, cwd: home })
  t.equal(scans.exitCode, 66)
  t.match(scans.stderr, `no state database at ${join(home, 'st', 'state.db')}`, 'a relative --state-dir is taken from the cwd')
})

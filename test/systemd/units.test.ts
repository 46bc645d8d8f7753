/**
 * Every unit in systemd/ passes `systemd-analyze verify`, the user units in user mode and the
 * system units in system mode. nsenter_u7s, rootlesskit.service and our own binaries exist only on
 * installed podsec nodes, so the check runs on a copy whose ExecStart binary paths point at stub
 * executables, next to a stub rootlesskit.service; nothing else in the unit is changed.
 */
import t, { type Test } from 'tap'
import { spawnSync } from 'node:child_process'
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const NSENTER = '/usr/libexec/podsec/u7s/bin/nsenter_u7s'
const AGGREGATOR = '/usr/bin/podsec-fim-aggregator'
const units = readdirSync('systemd').filter(f => f.endsWith('.service'))
// Which systemd manager runs each unit; a new unit must be added here, so none escapes the check.
const MODE: Record<string, 'user' | 'system'> = {
  'podsec-fim-agent.service': 'user',
  'podsec-fim-aggregator.service': 'system',
}

function directives (text: string): Map<string, string[]> {
  const out = new Map<string, string[]>()
  for (const line of text.split('\n')) {
    const m = /^([A-Za-z]+)=(.*)$/.exec(line)
    if (m !== null) out.set(m[1] as string, [...(out.get(m[1] as string) ?? []), m[2] as string])
  }
  return out
}

t.test('there are units to check, each with a known manager', async t => {
  t.ok(units.includes('podsec-fim-agent.service'))
  t.ok(units.includes('podsec-fim-aggregator.service'))
  t.same(units.filter(u => MODE[u] === undefined), [], 'every unit is listed in MODE')
})

/** A copy of the unit in a fresh short directory, its binaries replaced by stubs; returns its path. */
function stubbedCopy (t: Test, unit: string): { dir: string, file: string } {
  // A short directory: the machine's own user sockets are resolved under XDG_RUNTIME_DIR (108-byte limit).
  const dir = mkdtempSync(join(tmpdir(), 'pfim-u-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  let text = readFileSync(join('systemd', unit), 'utf8')
  for (const [real, name] of [[NSENTER, 'nsenter_u7s'], [AGGREGATOR, 'podsec-fim-aggregator']] as const) {
    const stub = join(dir, name)
    writeFileSync(stub, '#!/bin/sh\nexec "$@"\n')
    chmodSync(stub, 0o755)
    text = text.replaceAll(real, stub)
  }
  writeFileSync(join(dir, 'rootlesskit.service'), `[Service]\nExecStart=${join(dir, 'nsenter_u7s')} /bin/true\n`)
  const file = join(dir, unit)
  writeFileSync(file, text)
  return { dir, file }
}

for (const unit of units) {
  t.test(`${unit} passes systemd-analyze verify (${MODE[unit] ?? 'unknown'} manager)`, async t => {
    const { dir, file } = stubbedCopy(t, unit)
    const runtime = join(dir, 'run')
    mkdirSync(runtime, { mode: 0o700 })
    const mode = MODE[unit] === 'system' ? [] : ['--user']
    const r = spawnSync('systemd-analyze', [...mode, 'verify', file], { encoding: 'utf8', env: { ...process.env, XDG_RUNTIME_DIR: runtime } })
    t.equal(r.error, undefined, 'systemd-analyze runs')
    t.equal(r.status, 0, `verify exits 0; said: ${r.stderr}`)
    t.equal(r.stderr.trim(), '', 'no warnings')
  })
}

t.test('the agent unit runs in the rootlesskit namespace, hardened, without shell syntax', async t => {
  const d = directives(readFileSync('systemd/podsec-fim-agent.service', 'utf8'))
  t.same(d.get('BindsTo'), ['rootlesskit.service'])
  t.same(d.get('After'), ['rootlesskit.service'])
  t.same(d.get('EnvironmentFile'), ['%E/usernetes/env'])
  const exec = d.get('ExecStart')?.[0] ?? ''
  t.ok(exec.startsWith(`${NSENTER} /usr/bin/podsec-fim-agent`), 'started through nsenter_u7s')
  t.notMatch(exec, /[<>|;&$`]/, 'no shell redirections or substitutions (systemd would pass them as arguments)')
  for (const [key, value] of [['NoNewPrivileges', 'yes'], ['PrivateTmp', 'yes'], ['ProtectSystem', 'strict'], ['UMask', '0077']]) {
    t.same(d.get(key as string), [value], `${key}=${value}`)
  }
  t.same(d.get('ReadWritePaths'), ['%S/podsec-fim %t/podsec-fim'], 'writes only its state and runtime dirs')
  t.same(d.get('WantedBy'), ['rootlesskit.service'], 'started with u7s (no linger)')
})

t.test('the aggregator system unit is hardened, runs as a dynamic user, without shell syntax', async t => {
  const d = directives(readFileSync('systemd/podsec-fim-aggregator.service', 'utf8'))
  t.same(d.get('ExecStart'), [`${AGGREGATOR} --config /etc/podsec/fim/aggregator.json`])
  t.notMatch(d.get('ExecStart')?.[0] ?? '', /[<>|;&$`]/, 'no shell redirections or substitutions')
  t.same(d.get('DynamicUser'), ['yes'])
  t.same(d.get('LoadCredential'), ['kubeconfig:/etc/podsec/fim/aggregator.kubeconfig', 'tls.crt:/etc/podsec/fim/aggregator-tls.crt', 'tls.key:/etc/podsec/fim/aggregator-tls.key'])
  t.ok(d.get('Environment')?.includes('KUBECONFIG=%d/kubeconfig'), 'the kubeconfig is read from the credentials directory')
  for (const [key, value] of [['NoNewPrivileges', 'yes'], ['ProtectSystem', 'strict'], ['ProtectHome', 'yes'], ['PrivateTmp', 'yes'],
    ['PrivateDevices', 'yes'], ['CapabilityBoundingSet', ''], ['RestrictAddressFamilies', 'AF_INET AF_INET6 AF_UNIX'],
    ['Restart', 'on-failure'], ['UMask', '0077']]) {
    t.same(d.get(key as string), [value], `${key}=${value}`)
  }
  t.equal(d.get('SystemCallFilter')?.[0], '@system-service')
  t.equal(d.get('ReadWritePaths'), undefined, 'writes nothing on disk')
  t.same(d.get('WantedBy'), ['multi-user.target'])
})

t.test('systemd rates the aggregator unit\'s exposure "OK" (at most 2.0 of 10)', async t => {
  const { file } = stubbedCopy(t, 'podsec-fim-aggregator.service')
  const r = spawnSync('systemd-analyze', ['security', '--offline=yes', '--threshold=20', '--no-pager', file], { encoding: 'utf8' })
  t.equal(r.error, undefined, 'systemd-analyze runs')
  const level = /Overall exposure level for \S+: (\d+\.\d+)/.exec(r.stdout)?.[1]
  t.ok(level !== undefined, `an exposure level is printed; said: ${r.stdout.slice(-300)} ${r.stderr}`)
  t.ok(Number(level) <= 2.0, `exposure ${level} <= 2.0`)
  t.equal(r.status, 0, '--threshold=20 (2.0) is not exceeded')
})

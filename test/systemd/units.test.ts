/**
 * Every unit in systemd/ passes `systemd-analyze verify`. nsenter_u7s and rootlesskit.service
 * exist only on podsec nodes, so the check runs on a copy whose nsenter_u7s path points at a stub
 * executable, next to a stub rootlesskit.service; nothing else in the unit is changed.
 */
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const NSENTER = '/usr/libexec/podsec/u7s/bin/nsenter_u7s'
const units = readdirSync('systemd').filter(f => f.endsWith('.service'))

function directives (text: string): Map<string, string[]> {
  const out = new Map<string, string[]>()
  for (const line of text.split('\n')) {
    const m = /^([A-Za-z]+)=(.*)$/.exec(line)
    if (m !== null) out.set(m[1] as string, [...(out.get(m[1] as string) ?? []), m[2] as string])
  }
  return out
}

t.test('there are units to check', async t => {
  t.ok(units.includes('podsec-fim-agent.service'))
})

for (const unit of units) {
  t.test(`${unit} passes systemd-analyze verify`, async t => {
    // A short directory: the machine's own user sockets are resolved under XDG_RUNTIME_DIR (108-byte limit).
    const dir = mkdtempSync(join(tmpdir(), 'pfim-u-'))
    t.teardown(() => rmSync(dir, { recursive: true, force: true }))
    const runtime = join(dir, 'run')
    mkdirSync(runtime, { mode: 0o700 })
    const stub = join(dir, 'nsenter_u7s')
    writeFileSync(stub, '#!/bin/sh\nexec "$@"\n')
    chmodSync(stub, 0o755)
    writeFileSync(join(dir, 'rootlesskit.service'), `[Service]\nExecStart=${stub} /bin/true\n`)
    writeFileSync(join(dir, unit), readFileSync(join('systemd', unit), 'utf8').replaceAll(NSENTER, stub))
    const r = spawnSync('systemd-analyze', ['--user', 'verify', join(dir, unit)], { encoding: 'utf8', env: { ...process.env, XDG_RUNTIME_DIR: runtime } })
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

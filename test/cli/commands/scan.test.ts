/** `podsec-fim scan <id>`: one scan in full, file names shown unambiguously, exact bytes in --json. */
import t from 'tap'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { stateDbPath } from '../../../src/agent/store.js'
import { openStore } from '../../../src/agent/store.js'
import { startAgent } from '../../helpers/agent.js'
import { agentArgs, runCli } from '../run-cli.js'

interface ScanJson {
  scan: { id: number, condition: string, added: number, changed: number }
  entries: Array<{ path: string, pathBase64?: string, change: string, attributes: Record<string, { old: unknown, new: unknown }> }>
  unverified: Array<{ path: string, pathBase64?: string, reason: string }>
}

t.test('a file named with a newline and invalid UTF-8 is escaped in text and exact in pathBase64', async t => {
  const agent = await startAgent(t)
  await agent.daemon.scanner.idle()
  const args = agentArgs(agent.config)
  const odd = Buffer.from(`${agent.tree}/bad\nname\xff`, 'latin1')
  writeFileSync(odd, 'x')
  writeFileSync(join(agent.tree, 'with space'), 'x')
  writeFileSync(join(agent.tree, 'etc/app.conf'), 'listen = 0.0.0.0:8080\n')
  const check = await runCli([...args, '--json', 'check'])
  t.equal(check.exitCode, 1, check.stderr)
  const id = (JSON.parse(check.stdout) as ScanJson).scan.id

  const json = JSON.parse((await runCli([...args, '--json', 'scan', String(id)])).stdout) as ScanJson
  const entry = json.entries.find(e => e.pathBase64 !== undefined)
  t.ok(entry, 'the odd name carries pathBase64')
  t.same(Buffer.from(entry?.pathBase64 ?? '', 'base64'), odd, 'pathBase64 holds the exact bytes')
  t.equal(entry?.path, `${agent.tree}/bad\\nname\\xff`, 'path is the one-line escaped rendering')
  t.equal(entry?.change, 'added')
  const plain = json.entries.find(e => e.path === join(agent.tree, 'with space'))
  t.ok(plain, 'a name with a space is shown as it is')
  t.notOk(plain && 'pathBase64' in plain, 'a plain name needs no pathBase64')
  t.match(json.entries.find(e => e.change === 'changed'), { path: join(agent.tree, 'etc/app.conf'), attributes: { size: { old: 19, new: 22 }, sha512: {} } })

  const text = await runCli([...args, 'scan', String(id)])
  t.equal(text.exitCode, 0)
  t.match(text.stdout, /^condition: +Failed$/m)
  t.match(text.stdout, /^changes: +\+2 ~1 -0 /m)
  const lines = text.stdout.split('\n')
  t.ok(lines.includes(`  added    ${agent.tree}/bad\\nname\\xff`), 'the name is on one line, escaped')
  t.ok(lines.includes(`  added    ${agent.tree}/with space`))
  t.ok(lines.includes(`  changed  ${agent.tree}/etc/app.conf`))
  t.match(text.stdout, /^ +size +19 -> 22$/m, 'changed attributes: old -> new')
  t.notMatch(text.stdout, /\uFFFD/, 'no replacement characters: nothing is lost silently')
})

t.test('unverified paths with their reasons, errors and pruned details, from the stored scan', async t => {
  const dir = t.testdir()
  const store = openStore(stateDbPath(dir))
  const id = store.beginScan('check', 'schedule')
  store.finishScan(id, {
    condition: 'Errored', exitCode: 17, added: 0, changed: 0, removed: 0, errorCode: 'PFIM_AIDE_FAILED',
    error: 'AIDE said:\nline 3: unknown expression', log: null, entries: [],
    unverified: [{ path: Buffer.from('/etc/shadow'), reason: 'Permission denied' }, { path: Buffer.from('/root/tab\there', 'latin1'), reason: 'Permission denied' }],
  })
  store.close()
  const text = await runCli(['--state-dir', dir, 'scan', String(id)])
  t.equal(text.exitCode, 0, text.stderr)
  t.match(text.stdout, /^error: +AIDE said:\\x0aline 3: unknown expression \(PFIM_AIDE_FAILED\)$/m, 'a multi-line error stays on its line')
  t.notMatch(text.stdout, 'files:', 'an Errored scan lists no files')
  t.match(text.stdout, /^unverified \(2\):\n {2}\/etc\/shadow {6}Permission denied\n {2}\/root\/tab\\there {2}Permission denied$/m)
  const json = JSON.parse((await runCli(['--state-dir', dir, '--json', 'scan', String(id)])).stdout) as ScanJson
  t.same(json.unverified, [
    { path: '/etc/shadow', reason: 'Permission denied' },
    { path: '/root/tab\\there', pathBase64: Buffer.from('/root/tab\there').toString('base64'), reason: 'Permission denied' },
  ])
  t.match(json.scan, { condition: 'Errored', error: 'AIDE said:\nline 3: unknown expression', exitCode: 17 })
})

t.test('details pruned by retention are said to be pruned', async t => {
  const agent = await startAgent(t, { overrides: { 'retention.maxScans': 1 } })
  await agent.daemon.scanner.idle()
  const args = agentArgs(agent.config)
  await runCli([...args, 'check'])
  const r = await runCli([...args, 'scan', '1'])
  t.equal(r.exitCode, 0)
  t.match(r.stdout, /^details: +pruned by retention \(summary only\)$/m)
})

t.test('an unknown scan id is a clear message and exit 66; a malformed one is a usage error', async t => {
  const agent = await startAgent(t)
  await agent.daemon.scanner.idle()
  const args = agentArgs(agent.config)
  const r = await runCli([...args, 'scan', '999'])
  t.equal(r.exitCode, 66)
  t.equal(r.stdout, '')
  t.equal(r.stderr, 'podsec-fim: no scan with id 999 (PFIM_SCAN_NOT_FOUND)\n')
  const json = await runCli([...args, '--json', 'scan', '999'])
  t.equal(json.exitCode, 66)
  t.match(JSON.parse(json.stdout), { error: { code: 'PFIM_SCAN_NOT_FOUND', message: /no scan with id 999/ } })
  for (const bad of ['abc', '0', '-1', '1e3']) {
    const u = await runCli([...args, 'scan', bad])
    t.equal(u.exitCode, 64, bad)
    t.match(u.stderr, 'scan id must be a positive integer')
  }
  t.equal((await runCli([...args, 'scan'])).exitCode, 64, 'missing id')
})

/**
 * Rootless coverage: the agent running as an unprivileged user (nobody, like u7s-admin) over a
 * tree it can only partly read. Files AIDE cannot read are unverified, never "removed".
 */
import t from 'tap'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openStore, stateDbPath } from '../../src/agent/store.js'
import { reclassifyUnreadable } from '../../src/agent/unreadable.js'
import { postControl, treeAideConf } from '../helpers/agent.js'

const NOBODY = 65534

t.test('reclassifying keeps removals outside unreadable directories', async t => {
  const entry = (p: string) => ({ path: Buffer.from(p), change: 'removed' as const, summary: '', attributes: {} })
  const report = { outline: '', aideVersion: null, startTime: null, endTime: null, totalEntries: 3, added: 0, changed: 0, removed: 2, entries: [entry('/t/secret/in'), entry('/t/secretx')] }
  const r = reclassifyUnreadable(report, [{ path: Buffer.from('/t/secret'), reason: 'Permission denied' }])
  t.equal(r.removed, 1, '/t/secretx is a real removal: a sibling with the same prefix is not inside')
  t.same(r.unverified.map(u => u.path.toString()), ['/t/secret', '/t/secret/in'])
  t.equal(r.condition, 'Failed')
})

t.test('as an unprivileged user, unreadable files are unverified and not removed', { skip: process.getuid?.() !== 0 && 'needs root to run the agent as nobody' }, async t => {
  const root = mkdtempSync(join(tmpdir(), 'pfim-nr-'))
  t.teardown(() => rmSync(root, { recursive: true, force: true }))
  chmodSync(root, 0o755)
  const tree = join(root, 'tree')
  mkdirSync(join(tree, 'secret'), { recursive: true })
  writeFileSync(join(tree, 'open.txt'), 'open\n')
  writeFileSync(join(tree, 'secret.txt'), 'secret\n')
  writeFileSync(join(tree, 'secret', 'inner.txt'), 'inner\n')
  writeFileSync(join(root, 'aide.conf'), treeAideConf(tree))
  for (const dir of ['state', 'run']) { mkdirSync(join(root, dir), { mode: 0o700 }); chownSync(join(root, dir), NOBODY, NOBODY) }
  const socketPath = join(root, 'run', 'agent.sock')
  writeFileSync(join(root, 'agent.json'), JSON.stringify({ stateDir: join(root, 'state'), socketPath, aide: { config: join(root, 'aide.conf'), gracePeriod: 3600, initialDelay: 3600 } }))
  const agent = spawn(process.execPath, ['bin/podsec-fim-agent.js', '--config', join(root, 'agent.json')], { uid: NOBODY, gid: NOBODY, stdio: ['ignore', 'pipe', 'inherit'] })
  t.teardown(() => { agent.kill('SIGKILL') })
  let out = ''
  agent.stdout.on('data', (b: Buffer) => { out += b.toString() })
  while (!out.includes('"msg":"scan finished"')) {
    if (agent.exitCode !== null) throw new Error(`agent exited: ${out}`)
    await new Promise(resolve => setTimeout(resolve, 20))
  }
  chmodSync(join(tree, 'secret'), 0o000)
  chmodSync(join(tree, 'secret.txt'), 0o000)
  const { body } = await postControl(socketPath, '/v1/check') as { body: { scan: { id: number, removed: number, unverified: number } } }
  t.equal(body.scan.removed, 0, 'the unreadable directory\'s child is not reported removed')
  t.equal(body.scan.unverified, 3)
  const store = openStore(stateDbPath(join(root, 'state')), { readonly: true })
  t.teardown(() => store.close())
  const unverified = store.listUnverified(body.scan.id).map(u => [u.path.toString(), u.reason])
  t.same(unverified.sort(), [
    [join(tree, 'secret'), 'Permission denied'],
    [join(tree, 'secret.txt'), 'Permission denied'],
    [join(tree, 'secret', 'inner.txt'), 'inside a directory AIDE could not read'],
  ])
  agent.kill('SIGTERM')
  t.equal((await once(agent, 'exit'))[0], 0)
})

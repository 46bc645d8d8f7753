/**
 * A container tree run by an unprivileged user (nobody, like u7s-admin outside its namespace): a
 * directory it may no longer read or search is not taken for a directory whose entries are gone.
 * Root reads everything, so the tree runs in a child process as nobody.
 */
import t from 'tap'
import { spawn } from 'node:child_process'
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { until } from '../helpers/until.js'

const NOBODY = 65534

t.test('a sweep over a directory the agent cannot read reports no deletes, and none come back as creates', { skip: process.getuid?.() !== 0 && 'needs root to run the tree as nobody' }, async t => {
  const root = mkdtempSync(join(tmpdir(), 'pfim-tree-nr-'))
  t.teardown(() => rmSync(root, { recursive: true, force: true }))
  chmodSync(root, 0o755)
  const diff = join(root, 'diff')
  mkdirSync(join(diff, 'secret'), { recursive: true })
  for (const file of ['secret/a', 'secret/b', 'open.txt']) writeFileSync(join(diff, file), 'x\n')
  for (const path of ['diff', 'diff/secret', 'diff/secret/a', 'diff/secret/b', 'diff/open.txt']) chownSync(join(root, path), NOBODY, NOBODY)

  const child = spawn(process.execPath, ['--import', 'tsx', 'test/helpers/tree-as-user.ts', diff], { uid: NOBODY, gid: NOBODY, stdio: ['pipe', 'pipe', 'inherit'] })
  t.teardown(() => { child.kill('SIGKILL') })
  const lines: Array<Record<string, unknown>> = []
  let rest = ''
  child.stdout.on('data', (b: Buffer) => {
    const parts = (rest + b.toString()).split('\n')
    rest = parts.pop() ?? ''
    for (const p of parts) lines.push(JSON.parse(p) as Record<string, unknown>)
  })
  const count = (key: string) => lines.filter(l => key in l).length
  const sweep = async () => {
    const before = count('swept')
    child.stdin.write('sweep\n')
    await until('the sweep', () => count('swept') > before)
  }
  await until('the tree to start', () => count('started') === 1 || child.exitCode !== null)
  t.same(lines[0], { started: 2 }, 'diff and diff/secret are watched')

  chmodSync(join(diff, 'secret'), 0o000)
  await until('the chmod to be reported', () => lines.find(l => l.path === '/secret' && l.event === 'ATTRIB,ISDIR'))
  await sweep()
  t.ok(lines.some(l => l.error === 'EACCES'), 'the refused listing is reported as an error')

  chmodSync(join(diff, 'secret'), 0o755)
  await until('the chmod back to be reported', () => lines.filter(l => l.path === '/secret' && l.event === 'ATTRIB,ISDIR').length === 2)
  await sweep()
  const changes = lines.filter(l => 'path' in l).map(l => `${String(l.event)} ${String(l.path)}`)
  t.same(changes, ['ATTRIB,ISDIR /secret', 'ATTRIB,ISDIR /secret'], 'only the two chmods: no DELETE, then CREATE, of /secret/a and /secret/b')
  child.stdin.end()
})

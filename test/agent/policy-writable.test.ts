/** Writability of ~/.config/containers for the user (mode bits, owner, group), and the immutable flag through lsattr. */
import t from 'tap'
import { chmodSync, chownSync, mkdirSync } from 'node:fs'
import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { parseAccounts } from '../../src/agent/policy-accounts.js'
import { configDirWritable, lsattrProbe } from '../../src/agent/policy-writable.js'

const isRoot = process.getuid?.() === 0
const accounts = parseAccounts('p', 'root:x:0:0::/root:/bin/sh\nalice:x:1000:1000::/home/alice:/bin/sh\n', 'g', 'root:x:0:\nalice:x:1000:\nteam:x:2000:alice\n')
const alice = accounts.users.get('alice')!
const none = async (): Promise<boolean | null> => null

t.test('mode bits decide for owner, group and others', { skip: isRoot ? false : 'chown needs root' }, async t => {
  const dir = join(t.testdir(), 'containers')
  mkdirSync(dir)
  const cases: Array<[number, number, number, boolean]> = [
    // uid, gid, mode, writable for alice
    [1000, 1000, 0o755, true],
    [1000, 1000, 0o555, false],
    [0, 2000, 0o775, true],
    [0, 2000, 0o755, false],
    [0, 0, 0o757, true],
    [0, 0, 0o755, false],
  ]
  for (const [uid, gid, mode, expected] of cases) {
    chownSync(dir, uid, gid)
    chmodSync(dir, mode)
    t.equal(await configDirWritable(dir, alice, accounts, none), expected, `${uid}:${gid} ${mode.toString(8)}`)
  }
  t.equal(await configDirWritable(join(dir, 'missing'), alice, accounts, none), null)
  chmodSync(dir, 0o777)
  t.equal(await configDirWritable(dir, alice, accounts, async () => true), false, 'immutable wins over the mode')
})

t.test('lsattr reports the immutable flag (where the filesystem and privileges allow chattr)', async t => {
  const dir = join(t.testdir(), 'containers')
  mkdirSync(dir)
  const probe = lsattrProbe()
  const before = await probe(dir)
  if (before === null) { t.pass('lsattr cannot read attributes on this filesystem'); return }
  t.equal(before, false)
  if (spawnSync('chattr', ['+i', dir]).status !== 0) { t.pass('chattr +i not permitted here'); return }
  try {
    t.equal(await probe(dir), true)
    t.equal(await lsattrProbe('/nonexistent/lsattr')(dir), null, 'a missing lsattr is "unknown"')
  } finally {
    // Before tap removes the test dir: an immutable directory cannot be deleted.
    spawnSync('chattr', ['-i', dir])
  }
})

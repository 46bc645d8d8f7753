/**
 * The worker threads of the fast full check record a path exactly as the real `aide --init`
 * does, and refuse rules they cannot honour before doing any work.
 */
import t from 'tap'
import { execFileSync } from 'node:child_process'
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { spawnAide } from '../../src/agent/aide-process.js'
import { readAideDb, type AideDbEntry } from '../../src/agent/aide-db.js'
import { changedAttributes } from '../../src/agent/aide-db-diff.js'
import { ruleAttr } from '../../src/agent/aide-entry.js'
import { MeasurePool } from '../../src/agent/measure-pool.js'
import { measureSelections } from '../../src/agent/selection-measure.js'
import type { DrySelection } from '../../src/agent/aide-dry-init.js'
import type { UnverifiedPath } from '../../src/agent/scan-types.js'

const PATH = process.env.PATH ?? '/usr/bin:/bin'
const RULE = ['perm', 'ftype', 'inode', 'linkname', 'linkcount', 'uid', 'gid', 'size', 'bcount', 'mtime', 'ctime', 'md5', 'sha1', 'sha256', 'sha512', 'rmd160']

async function * from (items: DrySelection[]): AsyncGenerator<DrySelection> {
  yield * items
}

async function collect (it: AsyncIterable<AideDbEntry>): Promise<AideDbEntry[]> {
  const out: AideDbEntry[] = []
  for await (const e of it) out.push(e)
  return out
}

t.test('a measured entry is what aide --init recorded: same attribute set, no attribute differs', async t => {
  const root = t.testdir()
  const tree = join(root, 'tree')
  mkdirSync(join(tree, 'dir'), { recursive: true })
  writeFileSync(join(tree, 'empty'), '')
  writeFileSync(join(tree, 'big'), Buffer.alloc(3 * 1024 * 1024 + 17, 7))
  writeFileSync(join(tree, 'dir', 'new\nline'), 'x')
  symlinkSync('0starts-with-zero', join(tree, 'link'))
  execFileSync('mkfifo', [join(tree, 'pipe')])
  const db = join(root, 'aide.db')
  writeFileSync(join(root, 'aide.conf'), `database_out=file:${db}\n/${tree.slice(1)}($|/) p+ftype+i+l+n+u+g+s+b+m+c+md5+sha1+sha256+sha512+rmd160\n`)
  t.equal((await (await spawnAide({ binary: 'aide', args: ['-c', join(root, 'aide.conf'), '--init'], path: PATH })).done).exitCode, 0, 'aide --init')
  const recorded = await collect(readAideDb(db))
  const pool = new MeasurePool(2)
  t.teardown(() => pool.close())
  const unverified: UnverifiedPath[] = []
  const measured = await collect(measureSelections(from(recorded.map(e => ({ path: e.path, type: 'f', attrs: RULE }))), pool, unverified))
  t.same(unverified, [])
  t.equal(measured.length, recorded.length, 'every path measured')
  for (const [i, aide] of recorded.entries()) {
    const ours = measured[i] as AideDbEntry
    t.same(ours.path, aide.path, 'in AIDE\'s order')
    t.equal(ours.attr, aide.attr, `${JSON.stringify(aide.path.toString('latin1'))}: the attribute set AIDE recorded`)
    t.same([...changedAttributes(aide, ours)], [], `${JSON.stringify(aide.path.toString('latin1'))}: no attribute differs`)
  }
})

t.test('a path gone since AIDE listed it is not an entry; more batches than workers keep their order', async t => {
  const root = t.testdir()
  const items: DrySelection[] = []
  for (let i = 0; i < 3000; i++) {
    const p = join(root, `f${i}`)
    if (i % 1000 !== 0) writeFileSync(p, String(i))
    items.push({ path: Buffer.from(p), type: 'f', attrs: ['sha256'] })
  }
  const pool = new MeasurePool(2)
  t.teardown(() => pool.close())
  const measured = await collect(measureSelections(from(items), pool, []))
  t.equal(measured.length, 2997)
  t.same(measured.map(e => e.path.toString()), items.filter((_, i) => i % 1000 !== 0).map(s => s.path.toString()))
})

t.test('a rule Node cannot honour stops the stream before any work; a digest on a directory does not', async t => {
  const pool = new MeasurePool(1)
  t.teardown(() => pool.close())
  const acl = from([{ path: Buffer.from('/etc/hostname'), type: 'f', attrs: ['perm', 'acl'] }])
  await t.rejects(collect(measureSelections(acl, pool, [])), { message: /records acl, which only AIDE can read/ })
  const whirlpool = from([{ path: Buffer.from('/etc/hostname'), type: 'f', attrs: ['whirlpool'] }])
  await t.rejects(collect(measureSelections(whirlpool, pool, [])), { message: /whirlpool, which only AIDE can read/ })
  const dir = await collect(measureSelections(from([{ path: Buffer.from('/etc'), type: 'd', attrs: ['perm', 'whirlpool'] }]), pool, []))
  t.equal(dir[0]?.attr, ruleAttr(['perm']), 'digests do not apply to a directory')
})

t.test('a closed pool refuses work', async t => {
  const pool = new MeasurePool(1)
  await pool.close()
  await t.rejects(pool.measure([{ path: Buffer.from('/etc/hostname'), attr: ruleAttr(['sha256']) }]), /closed/)
})

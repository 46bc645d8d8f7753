/**
 * The worker threads of the fast full check record a path exactly as the real `aide --init`
 * does, and refuse rules they cannot honour before doing any work.
 */
import t from 'tap'
import { execFileSync } from 'node:child_process'
import { appendFileSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { spawnAide } from '../../src/agent/aide-process.js'
import { readAideDb } from '../../src/agent/aide-db.js'
import { BaselineIndex } from '../../src/agent/baseline-index.js'
import { openStore } from '../../src/agent/store.js'
import type { ReportEntry } from '../../src/agent/aide-report.js'
import { ruleAttr } from '../../src/agent/aide-entry.js'
import { MeasurePool } from '../../src/agent/measure-pool.js'
import { measureSelections, type ComparedBatch } from '../../src/agent/selection-measure.js'
import type { DrySelection } from '../../src/agent/aide-dry-init.js'
import type { UnverifiedPath } from '../../src/agent/scan-types.js'

const PATH = process.env.PATH ?? '/usr/bin:/bin'
const RULE = ['perm', 'ftype', 'inode', 'linkname', 'linkcount', 'uid', 'gid', 'size', 'bcount', 'mtime', 'ctime', 'md5', 'sha1', 'sha256', 'sha512', 'rmd160']

async function * from (items: DrySelection[]): AsyncGenerator<DrySelection> {
  yield * items
}


/** A state database whose baseline index is `db` (a database aide --init wrote). */
async function indexed (root: string, db: string): Promise<string> {
  const store = openStore(join(root, 'state', 'state.db'))
  const index = new BaselineIndex(store.db, Date.now)
  const scan = store.beginScan('init', 'manual')
  store.recordBaseline(scan, 'x', 1)
  await index.rebuild(db, store.currentBaseline() ?? { id: 0, sha256: '' })
  store.close()
  return join(root, 'state', 'state.db')
}

async function collect (it: AsyncIterable<ComparedBatch>): Promise<{ seen: Buffer[], differences: ReportEntry[] }> {
  const out = { seen: [] as Buffer[], differences: [] as ReportEntry[] }
  for await (const b of it) {
    out.seen.push(...b.seen)
    out.differences.push(...b.differences)
  }
  return out
}

t.test('measured in the workers, a tree aide --init just recorded does not differ from the baseline in any attribute', async t => {
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
  const recorded: DrySelection[] = []
  for await (const e of readAideDb(db)) recorded.push({ path: e.path, type: 'f', attrs: RULE })
  const pool = new MeasurePool(await indexed(root, db), 2)
  t.teardown(() => pool.close())
  const unverified: UnverifiedPath[] = []
  const got = await collect(measureSelections(from(recorded), pool, unverified))
  t.same(unverified, [])
  t.same(got.differences, [], 'no attribute differs (digests of an empty and a 3 MiB file, a link target starting with 0, a FIFO, a newline in a name)')
  t.same(got.seen, recorded.map(r => r.path), 'every path seen, in AIDE\'s order')
  appendFileSync(join(tree, 'big'), 'x')
  const after = await collect(measureSelections(from(recorded), pool, []))
  t.same(after.differences.map(d => [d.path.toString(), d.change, Object.keys(d.attributes).sort()]), [[join(tree, 'big'), 'changed', ['md5', 'modify_time', 'rmd160', 'sha1', 'sha256', 'sha512', 'size', 'change_time'].sort()]], 'a change is found, with the attributes AIDE names')
})

function emptyIndex (root: string): string {
  openStore(join(root, 'state', 'state.db')).close()
  return join(root, 'state', 'state.db')
}

t.test('a path gone since AIDE listed it is not seen; more batches than workers keep their order', async t => {
  const root = t.testdir()
  const items: DrySelection[] = []
  for (let i = 0; i < 3000; i++) {
    const p = join(root, `f${i}`)
    if (i % 1000 !== 0) writeFileSync(p, String(i))
    items.push({ path: Buffer.from(p), type: 'f', attrs: ['sha256'] })
  }
  const pool = new MeasurePool(emptyIndex(root), 2)
  t.teardown(() => pool.close())
  const got = await collect(measureSelections(from(items), pool, []))
  const present = items.filter((_, i) => i % 1000 !== 0).map(s => s.path.toString())
  t.same(got.seen.map(p => p.toString()), present)
  t.same(got.differences.map(d => [d.path.toString(), d.change]), present.map(p => [p, 'added']), 'not in the (empty) baseline: added')
})

t.test('a rule Node cannot honour stops the stream before any work; a digest on a directory does not', async t => {
  const pool = new MeasurePool(emptyIndex(t.testdir()), 1)
  t.teardown(() => pool.close())
  const acl = from([{ path: Buffer.from('/etc/hostname'), type: 'f', attrs: ['perm', 'acl'] }])
  await t.rejects(collect(measureSelections(acl, pool, [])), { message: /records acl, which only AIDE can read/ })
  const whirlpool = from([{ path: Buffer.from('/etc/hostname'), type: 'f', attrs: ['whirlpool'] }])
  await t.rejects(collect(measureSelections(whirlpool, pool, [])), { message: /whirlpool, which only AIDE can read/ })
  const dir = await collect(measureSelections(from([{ path: Buffer.from('/etc'), type: 'd', attrs: ['perm', 'whirlpool'] }]), pool, []))
  t.equal(dir.differences[0]?.summary, 'd+++++++++++++++++', 'digests do not apply to a directory')
})

t.test('a worker that cannot open the state database fails the work instead of hanging it', async t => {
  const pool = new MeasurePool(join(t.testdir(), 'missing.db'), 1)
  t.teardown(() => pool.close())
  await t.rejects(async () => { for (;;) await pool.measure([{ path: Buffer.from('/etc/hostname'), attr: ruleAttr(['sha256']) }]) })
})

t.test('a closed pool refuses work', async t => {
  const pool = new MeasurePool(emptyIndex(t.testdir()), 1)
  await pool.close()
  await t.rejects(pool.measure([{ path: Buffer.from('/etc/hostname'), attr: ruleAttr(['sha256']) }]), /closed/)
})

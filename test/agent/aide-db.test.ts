/** The AIDE database reader on databases written by the real aide --init, and on damaged ones. */
import t, { type Test } from 'tap'
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { gunzipSync, gzipSync } from 'node:zlib'
import { spawnAide } from '../../src/agent/aide-process.js'
import { decodeLinkName, readAideDb, type AideDbEntry } from '../../src/agent/aide-db.js'
import { BIT, hasAttr } from '../../src/agent/aide-attributes.js'
import { isAppError } from '../../src/core/errors.js'

const PATH = process.env.PATH ?? '/usr/bin:/bin'

/** A real database: aide --init over a small tree with odd names and a symlink to "0abc". */
async function realDb (t: Test): Promise<{ db: string, tree: string, root: string }> {
  const root = t.testdir()
  const tree = join(root, 'tree')
  mkdirSync(tree)
  writeFileSync(join(tree, 'a.txt'), 'hi\n')
  writeFileSync(join(tree, 'with space'), 'x')
  writeFileSync(join(tree, 'new\nline'), 'q')
  writeFileSync(Buffer.from(join(tree, 'bad\xffbyte'), 'latin1'), 'z')
  symlinkSync('0abc', join(tree, 'zero-link'))
  const db = join(root, 'aide.db.gz')
  writeFileSync(join(root, 'aide.conf'), `database_out=file:${db}\ngzip_dbout=yes\n/${tree.slice(1)}($|/) p+ftype+i+l+n+u+g+s+m+c+sha256+sha512+xattrs+acl\n`)
  const run = await spawnAide({ binary: 'aide', args: ['-c', join(root, 'aide.conf'), '--init'], path: PATH })
  t.equal((await run.done).exitCode, 0, 'aide --init')
  return { db, tree, root }
}

async function readAll (file: string, onSpec?: (s: readonly string[]) => void): Promise<AideDbEntry[]> {
  const out: AideDbEntry[] = []
  for await (const e of readAideDb(file, onSpec)) out.push(e)
  return out
}

t.test('reads every entry of a real database with its exact path bytes and attribute set', async t => {
  const { db, tree } = await realDb(t)
  let spec: readonly string[] = []
  const entries = await readAll(db, s => { spec = s })
  t.ok(spec.includes('name') && spec.includes('attr') && spec.includes('sha512'), '@@db_spec read')
  const paths = entries.map(e => e.path.toString('latin1'))
  t.same(paths.sort(), [tree, `${tree}/a.txt`, `${tree}/bad\xffbyte`, `${tree}/new\nline`, `${tree}/with space`, `${tree}/zero-link`].sort())
  const file = entries.find(e => e.path.toString() === `${tree}/a.txt`) as AideDbEntry
  t.ok(hasAttr(file.attr, BIT.sha512) && hasAttr(file.attr, BIT.ftype), 'digest and ftype recorded for a file')
  t.notOk(hasAttr(file.attr, BIT.linkname), 'AIDE drops l for a file')
  t.equal(file.fields.sha256, 'mOpuTyFvL7S2n/+bOkSELDhobKaF8/VdxIxdP7EQe+Q=', 'digest as AIDE wrote it (base64 of sha256("hi\\n"))')
  const link = entries.find(e => e.path.toString().endsWith('zero-link')) as AideDbEntry
  t.equal(link.fields.lname, '00abc', 'AIDE doubles a leading 0 in a link name')
  t.equal(decodeLinkName(link.fields.lname as string)?.toString(), '0abc')
  t.notOk(hasAttr(link.attr, BIT.sha512), 'no digest for a link')
})

t.test('reads a plain (not gzip) database too', async t => {
  const { db, root } = await realDb(t)
  const plain = join(root, 'aide.db')
  writeFileSync(plain, gunzipSync(readFileSync(db)))
  t.equal((await readAll(plain)).length, (await readAll(db)).length)
})

/** Rewrites line `n` (1-based) of the decompressed database. */
function corrupt (db: string, edit: (lines: string[]) => void, gzip = true): string {
  const lines = gunzipSync(readFileSync(db)).toString('latin1').split('\n')
  edit(lines)
  const out = `${db}.bad`
  const text = Buffer.from(lines.join('\n'), 'latin1')
  writeFileSync(out, gzip ? gzipSync(text) : text)
  return out
}

async function rejects (t: Test, file: string, message: RegExp): Promise<void> {
  try {
    await readAll(file)
    t.fail('read a damaged database')
  } catch (err) {
    t.ok(isAppError(err), 'typed error')
    t.match(err, { code: 'PFIM_AIDE_REPORT_INVALID', message })
  }
}

t.test('damaged databases fail with the line number and the field', async t => {
  const { db } = await realDb(t)
  const entryLine = (lines: string[]): number => lines.findIndex(l => l.includes('/a.txt '))
  const field = (lines: string[], name: string): number => (lines.find(l => l.startsWith('@@db_spec')) ?? '').split(' ').slice(1).indexOf(name)
  const setField = (name: string, value: string) => (lines: string[]) => {
    const i = entryLine(lines)
    const parts = (lines[i] as string).split(' ')
    parts[field(lines, name)] = value
    lines[i] = parts.join(' ')
  }
  const lineOf = (lines: string[]): number => entryLine(lines) + 1
  const lines = gunzipSync(readFileSync(db)).toString('latin1').split('\n')
  const n = lineOf(lines)
  await rejects(t, corrupt(db, setField('perm', '10x644')), new RegExp(`line ${n}: field perm .* is not an octal mode`))
  await rejects(t, corrupt(db, setField('size', '-3')), new RegExp(`line ${n}: field size .* is not a decimal number`))
  await rejects(t, corrupt(db, setField('mtime', 'bm90IGEgdGltZQ==')), new RegExp(`line ${n}: field mtime .* is not a base64 epoch time`))
  await rejects(t, corrupt(db, setField('sha512', 'not*base64!')), new RegExp(`line ${n}: field sha512 .* is not base64`))
  await rejects(t, corrupt(db, setField('attr', '12345678901234567890')), new RegExp(`line ${n}: field attr .* is not an attribute set`))
  await rejects(t, corrupt(db, setField('name', '/tmp/raw space')), new RegExp(`line ${n}: has \\d+ fields, @@db_spec names \\d+`))
  await rejects(t, corrupt(db, setField('name', '/tmp/bad%ZZ')), new RegExp(`line ${n}: field name: malformed %-escape`))
  await rejects(t, corrupt(db, setField('xattrs', '2,user.a,YmFy')), new RegExp(`line ${n}: field xattrs .* is not an AIDE xattrs field`))
  await rejects(t, corrupt(db, setField('acl', 'POSIX')), new RegExp(`line ${n}: field acl .* is not an AIDE ACL field`))
  await rejects(t, corrupt(db, l => { l[entryLine(l)] = '' }), new RegExp(`line ${n}: has 1 fields`))
  await rejects(t, corrupt(db, l => { l.splice(l.indexOf('@@end_db')) }), /missing @@end_db \(the database is truncated\)/)
  await rejects(t, corrupt(db, l => { l[0] = 'garbage' }), /line 1: expected @@begin_db/)
  await rejects(t, corrupt(db, l => { l.splice(l.findIndex(x => x.startsWith('@@db_spec')), 1) }), /an entry before @@db_spec/)
  await rejects(t, corrupt(db, l => { l[l.findIndex(x => x.startsWith('@@db_spec'))] = '@@db_spec name perm' }), /@@db_spec has no "attr" field/)
  await rejects(t, corrupt(db, l => { l.push('/tmp/x 0') }), /data after @@end_db/)
  await rejects(t, corrupt(db, l => { l.splice(1, 0, '@@bogus') }), /line 2: unknown directive/)
})

t.test('an empty file, a cut gzip stream and random bytes are errors, not "no entries"', async t => {
  const { db, root: dir } = await realDb(t)
  writeFileSync(join(dir, 'empty'), '')
  await rejects(t, join(dir, 'empty'), /the database is empty/)
  const gz = readFileSync(db)
  writeFileSync(join(dir, 'cut.gz'), gz.subarray(0, Math.floor(gz.length / 2)))
  await rejects(t, join(dir, 'cut.gz'), /cannot be read: unexpected end of file|missing @@end_db/)
  writeFileSync(join(dir, 'random'), Buffer.from([0x1f, 0x8b, 1, 2, 3, 4, 5, 6, 7, 8, 9]))
  await rejects(t, join(dir, 'random'), /cannot be read/)
})

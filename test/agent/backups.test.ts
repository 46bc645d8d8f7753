import t from 'tap'
import { readdirSync, readFileSync, utimesSync, writeFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { backupFile, backupStamp, listBackups, pruneBackups } from '../../src/agent/backups.js'

t.test('stamp uses FIO\'s Go layout 20060102T15_04_05 in UTC', async t => {
  t.equal(backupStamp(Date.UTC(2024, 4, 13, 10, 15, 30)), '20240513T10_15_30')
})

t.test('backs up a non-empty file as a copy, keeping its mode', async t => {
  const dir = t.testdir({ 'aide.db.gz': 'db', 'empty.log': '' })
  const file = join(dir, 'aide.db.gz')
  const copy = await backupFile(file, Date.UTC(2024, 0, 2, 3, 4, 5))
  t.equal(copy, `${file}.backup-20240102T03_04_05`)
  t.equal(readFileSync(copy as string, 'utf8'), 'db')
  t.equal(readFileSync(file, 'utf8'), 'db', 'original stays')
  t.equal(statSync(copy as string).mode & 0o777, statSync(file).mode & 0o777)
  t.equal(await backupFile(join(dir, 'empty.log'), 0), null, 'empty files are not backed up')
  t.equal(await backupFile(join(dir, 'missing'), 0), null, 'missing files are not backed up')
  const second = await backupFile(file, Date.UTC(2024, 0, 2, 3, 4, 5))
  t.not(second, copy, 'a second backup in the same second does not overwrite the first')
})

t.test('prunes oldest first (by mtime) down to max; max 0 deletes all', async t => {
  const dir = t.testdir()
  const file = join(dir, 'aide.log')
  const names = ['aide.log.backup-20240103T00_00_00', 'aide.log.backup-20240101T00_00_00', 'aide.log.backup-20240102T00_00_00']
  names.forEach((n, i) => {
    writeFileSync(join(dir, n), n)
    const when = new Date(Date.UTC(2024, 0, [3, 1, 2][i] as number))
    utimesSync(join(dir, n), when, when)
  })
  writeFileSync(join(dir, 'aide.db.gz.backup-20200101T00_00_00'), 'other base')
  const doomed = await pruneBackups(file, 1)
  t.same(doomed.map(p => p.slice(dir.length + 1)).sort(), ['aide.log.backup-20240101T00_00_00', 'aide.log.backup-20240102T00_00_00'])
  t.same((await listBackups(file)).map(b => b.path.slice(dir.length + 1)), ['aide.log.backup-20240103T00_00_00'])
  await pruneBackups(file, 0)
  t.same(readdirSync(dir), ['aide.db.gz.backup-20200101T00_00_00'], 'other bases untouched')
})

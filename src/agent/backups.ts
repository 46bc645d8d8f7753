/**
 * Re-init keeps copies of the old database and log, named as FIO names them
 * (`aide.db.gz.backup-20240513T10_15_30`, UTC), and prunes them oldest first to maxBackups.
 */
import { copyFile, readdir, rm, stat } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'

/** Go layout 20060102T15_04_05, in UTC. */
export function backupStamp (ms: number): string {
  const iso = new Date(ms).toISOString()
  return `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}T${iso.slice(11, 13)}_${iso.slice(14, 16)}_${iso.slice(17, 19)}`
}

/** Copies `file` to `file.backup-<stamp>` when it exists and is not empty; returns the copy's path. */
export async function backupFile (file: string, nowMs: number): Promise<string | null> {
  const info = await stat(file).catch(() => null)
  if (info === null || !info.isFile() || info.size === 0) return null
  let target = `${file}.backup-${backupStamp(nowMs)}`
  // Two re-inits within one second must not overwrite the earlier backup.
  for (let n = 1; await stat(target).then(() => true, () => false); n++) target = `${file}.backup-${backupStamp(nowMs)}.${n}`
  await copyFile(file, target)
  return target
}

export async function listBackups (file: string): Promise<Array<{ path: string, mtimeMs: number }>> {
  const dir = dirname(file)
  const prefix = `${basename(file)}.backup-`
  const names = (await readdir(dir)).filter(n => n.startsWith(prefix))
  const found = await Promise.all(names.map(async n => {
    const info = await stat(join(dir, n))
    return info.isFile() ? { path: join(dir, n), mtimeMs: info.mtimeMs } : null
  }))
  return found.filter(f => f !== null).sort((a, b) => a.mtimeMs - b.mtimeMs || a.path.localeCompare(b.path))
}

/** Deletes the oldest backups of `file` until at most `max` remain; returns what was deleted. */
export async function pruneBackups (file: string, max: number): Promise<string[]> {
  const backups = await listBackups(file)
  const doomed = backups.slice(0, Math.max(0, backups.length - max)).map(b => b.path)
  await Promise.all(doomed.map(p => rm(p, { force: true })))
  return doomed
}

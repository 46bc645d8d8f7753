/**
 * One agent per state dir. Two agents on one SQLite file would mark each other's running scans
 * Interrupted and race on the AIDE database, so the second refuses to start. The lock is a file
 * holding the owner's pid; a lock whose pid is gone (kill -9) is taken over.
 */
import { openSync, readFileSync, rmSync, writeSync, closeSync } from 'node:fs'
import { join } from 'node:path'
import { StoreError } from '../core/errors.js'

function isAlive (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

export interface StateLock {
  release (): void
}

/**
 * Takes the pid lock `file` for `pid`; a lock whose owner is gone is taken over. Returns the lock,
 * or the pid of the live process that holds it.
 */
export function tryPidLock (file: string, pid: number): StateLock | { readonly owner: number } {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, 'wx', 0o600)
      writeSync(fd, `${pid}\n`)
      closeSync(fd)
      return { release: () => rmSync(file, { force: true }) }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
      const owner = Number.parseInt(readFileSync(file, 'utf8'), 10)
      if (Number.isInteger(owner) && owner !== pid && isAlive(owner)) return { owner }
      rmSync(file, { force: true })
    }
  }
  throw new StoreError('PFIM_STORE_FAILED', `cannot take the lock ${file}`, { where: file })
}

export function lockStateDir (stateDir: string, pid: number): StateLock {
  const file = join(stateDir, 'agent.lock')
  const lock = tryPidLock(file, pid)
  if ('owner' in lock) throw new StoreError('PFIM_STORE_FAILED', `state dir ${stateDir} is in use by another agent (pid ${lock.owner})`, { where: file })
  return lock
}

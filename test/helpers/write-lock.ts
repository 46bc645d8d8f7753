/**
 * A second process holding the state database's write lock, as the agent does during a write
 * transaction. A real process, because better-sqlite3 blocks this one while it waits for a lock.
 */
import { spawn } from 'node:child_process'
import { createRequire } from 'node:module'

const SCRIPT = `
const Database = require(process.argv[1])
const db = new Database(process.argv[2])
db.exec("BEGIN IMMEDIATE; INSERT INTO cursors VALUES ('agent-write', '1', 1)")
process.stdout.write('locked\\n')
Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, Number(process.argv[3]))
db.exec('COMMIT')
db.close()
`

/** Resolves once the lock is held; `released` resolves with the exit code after the commit. */
export async function holdWriteLock (file: string, ms: number): Promise<{ released: Promise<number | null> }> {
  const betterSqlite = createRequire(import.meta.url).resolve('better-sqlite3')
  const child = spawn(process.execPath, ['-e', SCRIPT, betterSqlite, file, String(ms)], { stdio: ['ignore', 'pipe', 'inherit'] })
  const released = new Promise<number | null>(resolve => child.once('exit', code => resolve(code)))
  await new Promise<void>((resolve, reject) => {
    child.stdout.once('data', () => resolve())
    child.once('exit', code => reject(new Error(`the lock holder exited with ${String(code)} before taking the lock`)))
  })
  return { released }
}

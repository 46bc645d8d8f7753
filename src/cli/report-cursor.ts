/**
 * The mail cursors: the one thing the CLI writes to the agent's state database. It opens its own
 * connection next to the read-only one and touches nothing but its rows of `cursors`, each write
 * in one short IMMEDIATE transaction (the agent's own writes wait at most that long; WAL lets the
 * agent's readers go on). It never creates the file, changes the journal mode or migrates: a
 * database of another schema version is refused, as the read-only store does.
 *
 * A report run holds a pid lock beside the database (`report-<name>.lock`), so two runs of the
 * same report (a slow MTA overlapping the next cron run) cannot mail the same rows twice.
 */
import Database from 'better-sqlite3'
import { dirname, join } from 'node:path'
import { CursorStore } from '../agent/cursor-store.js'
import { tryPidLock, type StateLock } from '../agent/state-lock.js'
import { SCHEMA_VERSION } from '../agent/store-schema.js'
import { AppError, StoreError } from '../core/errors.js'

function lockOrDenied (file: string, pid: number): ReturnType<typeof tryPidLock> {
  try {
    return tryPidLock(file, pid)
  } catch (err) {
    if (err instanceof AppError) throw err
    const code = (err as NodeJS.ErrnoException).code ?? String(err)
    throw new StoreError('PFIM_STORE_DENIED', `cannot create ${file} (${code}): mailing a report writes its cursor into the state dir; run podsec-fim report as the agent's user`, { where: file, cause: err })
  }
}

export class ReportCursor {
  readonly name: string
  readonly #db: Database.Database
  readonly #cursors: CursorStore
  readonly #lock: StateLock

  private constructor (name: string, db: Database.Database, lock: StateLock, now: () => number) {
    this.name = name
    this.#db = db
    this.#lock = lock
    this.#cursors = new CursorStore(db, now)
  }

  /** Takes the report's lock, then opens the writer. `file` must already be readable (the read-only store checked it). */
  static open (file: string, name: string, opts: { pid: number, now: () => number }): ReportCursor {
    const lockFile = join(dirname(file), `report-${name}.lock`)
    const lock = lockOrDenied(lockFile, opts.pid)
    if ('owner' in lock) {
      throw new AppError('PFIM_REPORT_BUSY', `another podsec-fim report (${name}) is running on this state dir (pid ${lock.owner}); this run sends nothing`, { where: lockFile })
    }
    let db: Database.Database | undefined
    try {
      db = new Database(file, { fileMustExist: true })
      db.pragma('busy_timeout = 10000')
      const version = db.pragma('user_version', { simple: true }) as number
      if (version !== SCHEMA_VERSION) throw new StoreError('PFIM_STORE_FAILED', `state database ${file} has schema ${version}, this podsec-fim ${SCHEMA_VERSION}; start the agent once to migrate it`, { where: file })
      return new ReportCursor(name, db, lock, opts.now)
    } catch (err) {
      db?.close()
      lock.release()
      if (err instanceof AppError) throw err
      throw new StoreError('PFIM_STORE_FAILED', `cannot open state database ${file} to write the report cursor: ${(err as Error).message}`, { where: file, cause: err })
    }
  }

  get<T> (): T | null {
    return this.#cursors.get<T>(this.name)
  }

  /** Replaces the cursor with `next(current)`, read and written in one IMMEDIATE transaction. */
  advance<T> (next: (current: T | null) => T): void {
    try {
      this.#db.transaction(() => this.#cursors.set(this.name, next(this.#cursors.get<T>(this.name)))).immediate()
    } catch (err) {
      throw new StoreError('PFIM_STORE_FAILED', `cannot write the report cursor "${this.name}": ${(err as Error).message}`, { where: this.name, cause: err })
    }
  }

  close (): void {
    if (this.#db.open) this.#db.close()
    this.#lock.release()
  }
}

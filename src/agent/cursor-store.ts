/** Named resume points (audit log inode and offset, mail cursors) in the state database's cursors table. */
import type Database from 'better-sqlite3'

export class CursorStore {
  readonly #get: Database.Statement
  readonly #set: Database.Statement
  readonly #now: () => number

  constructor (db: Database.Database, now: () => number = Date.now) {
    this.#get = db.prepare('SELECT value FROM cursors WHERE name = ?')
    this.#set = db.prepare('INSERT INTO cursors (name, value, updated_at) VALUES (?, ?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at')
    this.#now = now
  }

  get<T> (name: string): T | null {
    const row = this.#get.get(name) as { value: string } | undefined
    return row === undefined ? null : JSON.parse(row.value) as T
  }

  set (name: string, value: unknown): void {
    this.#set.run(name, JSON.stringify(value), this.#now())
  }
}

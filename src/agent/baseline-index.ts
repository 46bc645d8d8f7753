/**
 * The baseline index: AIDE's database parsed into SQLite after each init, one row per entry keyed
 * by the path bytes, with the fields as AIDE wrote them and AIDE's per-entry attribute set. The
 * fast full check diffs a fresh database against it and the fast path verifies inotify events
 * against it. A rebuild streams the database into a staging table in batches (bounded memory)
 * and swaps it in with one transaction, so readers never see half an index.
 */
import type Database from 'better-sqlite3'
import { readAideDb, type AideDbEntry } from './aide-db.js'

export interface IndexState {
  readonly baselineId: number
  readonly sha256: string
  readonly spec: readonly string[]
  readonly entries: number
  readonly builtAt: number
  /** SHA-256 of the aide.conf the baseline was taken with ('' when unknown: indexed after an upgrade). */
  readonly confSha256: string
}

interface Row { path: Buffer, attr: number, fields: string }

const BATCH = 2000

function toEntry (r: Row): AideDbEntry {
  return { path: r.path, attr: r.attr, fields: JSON.parse(r.fields) as Record<string, string> }
}

/** A lookup of one path's baseline entry on any connection to the state database (worker threads open their own). */
export function indexLookup (db: Database.Database): (path: Buffer) => AideDbEntry | null {
  const get = db.prepare('SELECT path, attr, fields FROM baseline_index WHERE path = ?')
  return path => {
    const r = get.get(path) as Row | undefined
    return r === undefined ? null : toEntry(r)
  }
}

export class BaselineIndex {
  readonly #db: Database.Database
  readonly #now: () => number
  readonly #stmts
  readonly #lookup: (path: Buffer) => AideDbEntry | null

  constructor (db: Database.Database, now: () => number) {
    this.#db = db
    this.#now = now
    db.exec('CREATE TEMP TABLE IF NOT EXISTS index_seen (path BLOB PRIMARY KEY) WITHOUT ROWID')
    this.#lookup = indexLookup(db)
    this.#stmts = {
      state: db.prepare('SELECT baseline_id, db_sha256, db_spec, entries, built_at, conf_sha256 FROM baseline_index_state WHERE id = 1'),
      stage: db.prepare('INSERT OR REPLACE INTO baseline_index_staging (path, attr, fields) VALUES (?, ?, ?)'),
      clearStaging: db.prepare('DELETE FROM baseline_index_staging'),
      clear: db.prepare('DELETE FROM baseline_index'),
      promote: db.prepare('INSERT INTO baseline_index SELECT path, attr, fields FROM baseline_index_staging'),
      setState: db.prepare(`INSERT OR REPLACE INTO baseline_index_state (id, baseline_id, db_sha256, db_spec, entries, built_at, conf_sha256)
        VALUES (1, ?, ?, ?, ?, ?, ?)`),
      dropState: db.prepare('DELETE FROM baseline_index_state'),
      seen: db.prepare('INSERT OR IGNORE INTO temp.index_seen (path) VALUES (?)'),
      clearSeen: db.prepare('DELETE FROM temp.index_seen'),
      unseen: db.prepare('SELECT path, attr, fields FROM baseline_index WHERE path NOT IN (SELECT path FROM temp.index_seen) ORDER BY path'),
      roots: db.prepare('SELECT path, attr, fields FROM baseline_index ORDER BY path'),
      attrSets: db.prepare('SELECT DISTINCT attr FROM baseline_index').pluck(),
    }
  }

  /** Which baseline the index describes, or null when there is none (never built, or dropped). */
  state (): IndexState | null {
    const r = this.#stmts.state.get() as { baseline_id: number, db_sha256: string, db_spec: string, entries: number, built_at: number, conf_sha256: string } | undefined
    if (r === undefined) return null
    return { baselineId: r.baseline_id, sha256: r.db_sha256, spec: r.db_spec.split(' '), entries: r.entries, builtAt: r.built_at, confSha256: r.conf_sha256 }
  }

  isCurrent (baseline: { readonly id: number, readonly sha256: string }): boolean {
    const s = this.state()
    return s !== null && s.baselineId === baseline.id && s.sha256 === baseline.sha256
  }

  /**
   * Parses `file` (the baseline just recorded) into the index. On a parse error the old index is
   * dropped, not kept: an index that does not match the baseline must never be used.
   */
  async rebuild (file: string, baseline: { readonly id: number, readonly sha256: string }, confSha256 = ''): Promise<IndexState> {
    this.#stmts.clearStaging.run()
    let spec: readonly string[] = []
    let batch: AideDbEntry[] = []
    let entries = 0
    const flush = this.#db.transaction((rows: AideDbEntry[]) => {
      for (const e of rows) this.#stmts.stage.run(e.path, e.attr, JSON.stringify(e.fields))
    })
    try {
      for await (const e of readAideDb(file, s => { spec = s })) {
        batch.push(e)
        entries++
        if (batch.length >= BATCH) {
          flush(batch)
          batch = []
        }
      }
      flush(batch)
    } catch (err) {
      this.#db.transaction(() => { this.#stmts.dropState.run(); this.#stmts.clear.run(); this.#stmts.clearStaging.run() })()
      throw err
    }
    const state: IndexState = { baselineId: baseline.id, sha256: baseline.sha256, spec, entries, builtAt: this.#now(), confSha256 }
    this.#db.transaction(() => {
      this.#stmts.clear.run()
      this.#stmts.promote.run()
      this.#stmts.clearStaging.run()
      this.#stmts.setState.run(state.baselineId, state.sha256, spec.join(' '), entries, state.builtAt, confSha256)
    })()
    return state
  }

  get (path: Buffer): AideDbEntry | null {
    return this.#lookup(path)
  }

  /** The state database file (worker threads open it read-only), or null when it lives in memory. */
  get file (): string | null {
    return this.#db.memory ? null : this.#db.name
  }

  /** Every entry, ordered by path bytes (for the watch planner). */
  * all (): Generator<AideDbEntry> {
    for (const r of this.#stmts.roots.iterate() as Iterable<Row>) yield toEntry(r)
  }

  /** The distinct attribute sets AIDE recorded (what the rules ask for, per type). */
  attrSets (): number[] {
    return this.#stmts.attrSets.all() as number[]
  }

  /** A diff pass: mark paths found in the new state, then list the index entries never marked. */
  resetSeen (): void {
    this.#stmts.clearSeen.run()
  }

  markSeen (paths: readonly Buffer[]): void {
    this.#db.transaction(() => { for (const p of paths) this.#stmts.seen.run(p) })()
  }

  * unseen (): Generator<AideDbEntry> {
    for (const r of this.#stmts.unseen.iterate() as Iterable<Row>) yield toEntry(r)
  }
}

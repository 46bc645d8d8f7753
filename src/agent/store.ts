/**
 * The node's source of truth: an SQLite file (WAL, so the CLI can read while the agent writes),
 * mode 0600, schema upgraded by forward migrations. Statements are prepared once at open.
 */
import Database from 'better-sqlite3'
import { accessSync, closeSync, constants, mkdirSync, openSync, chmodSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { StoreError } from '../core/errors.js'
import { MIGRATIONS, SCHEMA_VERSION } from './store-schema.js'
import type { Baseline, ScanKind, ScanOutcome, ScanSummary, ScanTrigger, StoredEntry, UnverifiedPath } from './scan-types.js'

export interface StoreOptions {
  readonly readonly?: boolean
  readonly now?: () => number
}

interface ScanRow {
  id: number, kind: ScanKind, trigger: ScanTrigger, started_at: number, finished_at: number | null
  condition: ScanSummary['condition'], exit_code: number | null, added: number, changed: number, removed: number
  unverified: number, error_code: string | null, error: string | null, details_pruned: number
}

const SUMMARY_COLUMNS = 'id, kind, trigger, started_at, finished_at, condition, exit_code, added, changed, removed, unverified, error_code, error, details_pruned'

function toSummary (r: ScanRow): ScanSummary {
  return {
    id: r.id, kind: r.kind, trigger: r.trigger, startedAt: r.started_at, finishedAt: r.finished_at,
    condition: r.condition, exitCode: r.exit_code, added: r.added, changed: r.changed, removed: r.removed,
    unverified: r.unverified, errorCode: r.error_code, error: r.error, detailsPruned: r.details_pruned === 1,
  }
}

/** Where the agent keeps its SQLite file inside its state dir. */
export function stateDbPath (stateDir: string): string {
  return join(stateDir, 'state.db')
}

/**
 * SQLite says CANTOPEN both for "absent" and "not yours", and better-sqlite3 reports a missing
 * directory as a TypeError; an administrator needs to know which, so ask the file system first.
 */
function assertReadable (file: string): void {
  try {
    accessSync(file, constants.R_OK)
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new StoreError('PFIM_STORE_NOT_FOUND', `no state database at ${file} (has the agent run here? see --state-dir)`, { where: file, cause: err })
    throw new StoreError('PFIM_STORE_DENIED', `cannot read the state database ${file} (${code ?? String(err)}): run podsec-fim as the agent's user (on a u7s node: nsenter_u7s podsec-fim ...)`, { where: file, cause: err })
  }
}

/** Creates the file 0600 before SQLite does, so the database, -wal and -shm are never world-readable. */
function createPrivate (file: string): void {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 })
  closeSync(openSync(file, 'a', 0o600))
  chmodSync(file, 0o600)
}

function migrate (db: Database.Database): void {
  const current = db.pragma('user_version', { simple: true }) as number
  if (current > SCHEMA_VERSION) {
    throw new StoreError('PFIM_STORE_FAILED', `state database has schema ${current}, newer than this podsec-fim (${SCHEMA_VERSION}); upgrade podsec-fim`)
  }
  for (let v = current; v < SCHEMA_VERSION; v++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[v] as string)
      db.pragma(`user_version = ${v + 1}`)
    })()
  }
}

function open (file: string, readonly: boolean): Database.Database {
  try {
    if (readonly) assertReadable(file)
    else createPrivate(file)
    const db = new Database(file, { readonly, fileMustExist: readonly })
    if (!readonly) {
      db.pragma('journal_mode = WAL')
      db.pragma('synchronous = NORMAL')
    }
    db.pragma('foreign_keys = ON')
    db.pragma('busy_timeout = 5000')
    return db
  } catch (err) {
    if (err instanceof StoreError) throw err
    throw new StoreError('PFIM_STORE_FAILED', `cannot open state database ${file}: ${(err as Error).message}`, { where: file, cause: err })
  }
}

export class Store {
  readonly file: string
  readonly #db: Database.Database
  readonly #now: () => number
  readonly #stmts

  constructor (file: string, opts: StoreOptions = {}) {
    this.file = file
    this.#now = opts.now ?? Date.now
    this.#db = open(file, opts.readonly === true)
    if (opts.readonly !== true) migrate(this.#db)
    else if ((this.#db.pragma('user_version', { simple: true }) as number) !== SCHEMA_VERSION) {
      this.#db.close()
      throw new StoreError('PFIM_STORE_FAILED', `state database ${file} has another schema version; start the agent once to migrate it`, { where: file })
    }
    this.#stmts = this.#prepare(opts.readonly === true)
  }

  #prepare (readonly: boolean) {
    const db = this.#db
    const reads = {
      scan: db.prepare(`SELECT ${SUMMARY_COLUMNS} FROM scans WHERE id = ?`),
      scans: db.prepare(`SELECT ${SUMMARY_COLUMNS} FROM scans WHERE id < ? ORDER BY id DESC LIMIT ?`),
      lastScan: db.prepare(`SELECT ${SUMMARY_COLUMNS} FROM scans WHERE kind LIKE ? AND condition <> 'Running' ORDER BY id DESC LIMIT 1`),
      running: db.prepare(`SELECT ${SUMMARY_COLUMNS} FROM scans WHERE condition = 'Running' ORDER BY id`),
      entries: db.prepare('SELECT path, change, summary, attributes FROM scan_entries WHERE scan_id = ? ORDER BY rowid'),
      unverified: db.prepare('SELECT path, reason FROM scan_unverified WHERE scan_id = ? ORDER BY rowid'),
      log: db.prepare('SELECT log FROM scans WHERE id = ?'),
      baseline: db.prepare('SELECT id, scan_id, created_at, db_sha256, db_size FROM baselines ORDER BY id DESC LIMIT 1'),
      counts: db.prepare("SELECT count(*) AS scans, sum(condition = 'Failed') AS failed FROM scans"),
    }
    if (readonly) return { ...reads, write: null }
    const write = {
      begin: db.prepare("INSERT INTO scans (kind, trigger, started_at, condition) VALUES (?, ?, ?, 'Running')"),
      pid: db.prepare('UPDATE scans SET aide_pid = ? WHERE id = ?'),
      pids: db.prepare("SELECT id, aide_pid FROM scans WHERE condition = 'Running'"),
      finish: db.prepare(`UPDATE scans SET finished_at = @finishedAt, condition = @condition, exit_code = @exitCode,
        added = @added, changed = @changed, removed = @removed, unverified = @unverified,
        error_code = @errorCode, error = @error, log = @log, aide_pid = NULL WHERE id = @id`),
      entry: db.prepare('INSERT INTO scan_entries (scan_id, path, change, summary, attributes) VALUES (?, ?, ?, ?, ?)'),
      unverified: db.prepare('INSERT INTO scan_unverified (scan_id, path, reason) VALUES (?, ?, ?)'),
      baseline: db.prepare('INSERT INTO baselines (scan_id, created_at, db_sha256, db_size) VALUES (?, ?, ?, ?)'),
      pruneEntries: db.prepare('DELETE FROM scan_entries WHERE scan_id IN (SELECT id FROM scans WHERE details_pruned = 0 AND condition <> \'Running\' AND (id <= ? OR started_at < ?))'),
      pruneUnverified: db.prepare('DELETE FROM scan_unverified WHERE scan_id IN (SELECT id FROM scans WHERE details_pruned = 0 AND condition <> \'Running\' AND (id <= ? OR started_at < ?))'),
      pruneScans: db.prepare('UPDATE scans SET log = NULL, details_pruned = 1 WHERE details_pruned = 0 AND condition <> \'Running\' AND (id <= ? OR started_at < ?)'),
      nthNewest: db.prepare('SELECT id FROM scans ORDER BY id DESC LIMIT 1 OFFSET ?'),
    }
    return { ...reads, write }
  }

  #writer () {
    const w = this.#stmts.write
    if (w === null) throw new StoreError('PFIM_STORE_FAILED', 'state database is open read-only')
    return w
  }

  /**
   * The open database, for the other tables' repositories in src/agent (findings, outbox,
   * cursors), which prepare their own statements on it. Not for the CLI: it reads through Store.
   */
  get db (): Database.Database {
    return this.#db
  }

  beginScan (kind: ScanKind, trigger: ScanTrigger): number {
    return Number(this.#writer().begin.run(kind, trigger, this.#now()).lastInsertRowid)
  }

  setScanPid (id: number, pid: number | null): void {
    this.#writer().pid.run(pid, id)
  }

  /**
   * Records a scan's outcome. `inTransaction` runs inside the same transaction with the finished
   * summary (the outbox report and cursors that must commit with the scan, or not at all).
   */
  finishScan (id: number, outcome: ScanOutcome, inTransaction?: (scan: ScanSummary) => void): ScanSummary {
    const w = this.#writer()
    return this.#db.transaction(() => {
      w.finish.run({
        id, finishedAt: this.#now(), condition: outcome.condition, exitCode: outcome.exitCode,
        added: outcome.added, changed: outcome.changed, removed: outcome.removed, unverified: outcome.unverified.length,
        errorCode: outcome.errorCode, error: outcome.error, log: outcome.log,
      })
      for (const e of outcome.entries) w.entry.run(id, e.path, e.change, e.summary, JSON.stringify(e.attributes))
      for (const u of outcome.unverified) w.unverified.run(id, u.path, u.reason)
      const scan = this.getScan(id)
      inTransaction?.(scan)
      return scan
    })()
  }

  /** Scans left 'Running' by an agent that died: returns them (with AIDE's pid, if any) after marking them Interrupted. */
  recoverInterrupted (): Array<{ id: number, aidePid: number | null }> {
    const w = this.#writer()
    const rows = w.pids.all() as Array<{ id: number, aide_pid: number | null }>
    for (const r of rows) {
      this.finishScan(r.id, {
        condition: 'Interrupted', exitCode: null, added: 0, changed: 0, removed: 0, errorCode: 'PFIM_SCAN_INTERRUPTED',
        error: 'the agent stopped before the scan finished', log: null, entries: [], unverified: [],
      })
    }
    return rows.map(r => ({ id: r.id, aidePid: r.aide_pid }))
  }

  recordBaseline (scanId: number, sha256: string, size: number): void {
    this.#writer().baseline.run(scanId, this.#now(), sha256, size)
  }

  currentBaseline (): Baseline | null {
    const r = this.#stmts.baseline.get() as { id: number, scan_id: number, created_at: number, db_sha256: string, db_size: number } | undefined
    return r === undefined ? null : { id: r.id, scanId: r.scan_id, createdAt: r.created_at, sha256: r.db_sha256, size: r.db_size }
  }

  getScan (id: number): ScanSummary {
    const r = this.#stmts.scan.get(id) as ScanRow | undefined
    if (r === undefined) throw new StoreError('PFIM_SCAN_NOT_FOUND', `no scan with id ${id}`, { where: String(id) })
    return toSummary(r)
  }

  listScans (opts: { limit: number, beforeId?: number }): ScanSummary[] {
    return (this.#stmts.scans.all(opts.beforeId ?? Number.MAX_SAFE_INTEGER, opts.limit) as ScanRow[]).map(toSummary)
  }

  /** The newest finished scan, of one kind or ('%') of any. */
  lastScan (kind: ScanKind | '%' = '%'): ScanSummary | null {
    const r = this.#stmts.lastScan.get(kind) as ScanRow | undefined
    return r === undefined ? null : toSummary(r)
  }

  runningScans (): ScanSummary[] {
    return (this.#stmts.running.all() as ScanRow[]).map(toSummary)
  }

  listEntries (scanId: number): StoredEntry[] {
    this.getScan(scanId)
    return (this.#stmts.entries.all(scanId) as Array<{ path: Buffer, change: StoredEntry['change'], summary: string, attributes: string }>)
      .map(r => ({ path: r.path, change: r.change, summary: r.summary, attributes: JSON.parse(r.attributes) as StoredEntry['attributes'] }))
  }

  listUnverified (scanId: number): UnverifiedPath[] {
    return this.#stmts.unverified.all(scanId) as UnverifiedPath[]
  }

  getLog (scanId: number): Buffer | null {
    this.getScan(scanId)
    return (this.#stmts.log.get(scanId) as { log: Buffer | null }).log
  }

  totals (): { scans: number, failed: number } {
    const r = this.#stmts.counts.get() as { scans: number, failed: number | null }
    return { scans: r.scans, failed: r.failed ?? 0 }
  }

  /** Drops per-file details and logs beyond the newest `maxScans` or older than `maxAgeDays`; summaries stay. */
  prune (maxScans: number, maxAgeDays: number): void {
    const w = this.#writer()
    const edge = w.nthNewest.get(maxScans) as { id: number } | undefined
    const idLimit = edge?.id ?? 0
    const ageLimit = this.#now() - maxAgeDays * 86_400_000
    this.#db.transaction(() => {
      w.pruneEntries.run(idLimit, ageLimit)
      w.pruneUnverified.run(idLimit, ageLimit)
      w.pruneScans.run(idLimit, ageLimit)
    })()
  }

  close (): void {
    if (this.#db.open) this.#db.close()
  }
}

export function openStore (file: string, opts: StoreOptions = {}): Store {
  return new Store(file, opts)
}

/**
 * Follows the kube-apiserver audit log (JSON lines) and hands each denial to `onDenial`, resuming
 * from a cursor (inode + byte offset) kept in SQLite, so restarts neither replay nor skip.
 * Rotation by rename: the open descriptor is drained to its end before the new file is opened;
 * after a restart the rotated file is found by its inode. Rotation by copytruncate: the copy
 * (the newest sibling at least as long as the offset) is read from the offset first. A missing
 * file is waited for. Malformed and oversized lines are counted and skipped.
 */
import { closeSync, fstatSync, openSync, readSync, readdirSync, statSync, type Stats } from 'node:fs'
import { basename, dirname, join } from 'node:path'
import type { Logger } from '../core/log.js'
import { isAppError } from '../core/errors.js'
import { MAX_AUDIT_LINE_BYTES, denialScreen, parseAuditLine, type AuditDenial } from './audit-event.js'
import type { CursorStore } from './cursor-store.js'

export interface AuditCursor { readonly inode: number, readonly offset: number }

export interface AuditTailerOptions {
  readonly path: string
  readonly cursors: CursorStore
  readonly codes: readonly number[]
  readonly onDenial: (denial: AuditDenial) => void
  readonly log: Logger
}

export interface AuditHealth {
  state: 'waiting' | 'following'
  lines: number
  denials: number
  malformed: number
}

const CURSOR = 'audit-log'
const CHUNK = 256 * 1024

export class AuditTailer {
  readonly health: AuditHealth = { state: 'waiting', lines: 0, denials: 0, malformed: 0 }
  readonly #o: AuditTailerOptions
  readonly #mayHoldDenial: (line: Buffer) => boolean
  #fd: number | null = null
  #cursor: AuditCursor
  /** Lines this tick may still read; bounds one tick's work (and its transaction). */
  #budget = Number.POSITIVE_INFINITY

  constructor (opts: AuditTailerOptions) {
    this.#o = opts
    this.#mayHoldDenial = denialScreen(opts.codes)
    this.#cursor = opts.cursors.get<AuditCursor>(CURSOR) ?? { inode: 0, offset: 0 }
  }

  /** Where the next read starts (for health and status). */
  get cursor (): AuditCursor {
    return this.#cursor
  }

  /**
   * Reads what is new, at most about `maxLines` lines; returns true when it stopped for that
   * limit (call again: the rest, and a rotated-to file, come next). Called by a timer and by tests.
   */
  tick (maxLines = Number.POSITIVE_INFINITY): boolean {
    this.#budget = maxLines
    const current = statOrNull(this.#o.path)
    if (this.#fd === null) this.#resume(current)
    if (this.#fd !== null) this.#drain(this.#fd)
    if (this.#budget <= 0) return true
    if (current === null) {
      if (this.#fd === null) this.health.state = 'waiting'
      return false
    }
    if (this.#fd !== null && current.ino === this.#cursor.inode) {
      if (current.size < this.#cursor.offset) this.#copytruncated()
      return false
    }
    this.#switchTo(current)
    return this.#budget <= 0
  }

  /** After a restart: reopen the cursor's file (maybe rotated away) or start on the current one. */
  #resume (current: Stats | null): void {
    if (this.#cursor.inode === 0 || current?.ino === this.#cursor.inode) {
      if (current !== null) this.#open(this.#o.path, current.ino, this.#cursor.inode === current.ino ? this.#cursor.offset : 0)
      return
    }
    const rotated = this.#siblings().find(s => s.stats.ino === this.#cursor.inode)
    if (rotated !== undefined) this.#open(rotated.path, rotated.stats.ino, this.#cursor.offset)
    else if (current !== null) {
      this.#o.log.warn({ cursor: this.#cursor }, 'audit log rotated away while stopped and not found; starting on the current file')
      this.#open(this.#o.path, current.ino, 0)
    }
  }

  #switchTo (current: Stats): void {
    if (this.#fd !== null) closeSync(this.#fd)
    this.#drain(this.#open(this.#o.path, current.ino, 0))
  }

  /** copytruncate: lines written after our last read are in the copy, at the same offset. */
  #copytruncated (): void {
    const copy = this.#siblings().filter(s => s.stats.size >= this.#cursor.offset).sort((a, b) => b.stats.mtimeMs - a.stats.mtimeMs)[0]
    if (copy !== undefined) {
      // The copy is read to its end at once: its cursor is not kept, so it cannot be resumed.
      const budget = this.#budget
      this.#budget = Number.POSITIVE_INFINITY
      const fd = openSync(copy.path, 'r')
      try { this.#read(fd, this.#cursor.offset) } finally { closeSync(fd); this.#budget = budget }
    }
    this.#save({ inode: this.#cursor.inode, offset: 0 })
    if (this.#fd !== null) this.#drain(this.#fd)
  }

  #open (path: string, inode: number, offset: number): number {
    const fd = openSync(path, 'r')
    this.#fd = fd
    this.#save({ inode, offset })
    this.health.state = 'following'
    return fd
  }

  #drain (fd: number): void {
    const end = this.#read(fd, this.#cursor.offset)
    this.#save({ inode: fstatSync(fd).ino, offset: end })
  }

  /** Reads whole lines from `offset`; returns the offset after the last complete line. */
  #read (fd: number, offset: number): number {
    const buf = Buffer.alloc(CHUNK)
    let pending = Buffer.alloc(0)
    let skipping = false
    let pos = offset
    let consumed = offset
    for (let n = readSync(fd, buf, 0, CHUNK, pos); n > 0; n = readSync(fd, buf, 0, CHUNK, pos)) {
      pos += n
      pending = pending.length === 0 ? buf.subarray(0, n) : Buffer.concat([pending, buf.subarray(0, n)])
      // Lines are cut from `start` on, without a new Buffer for the rest at each line.
      let start = 0
      let nl
      while (this.#budget > 0 && (nl = pending.indexOf(0x0a, start)) >= 0) {
        if (!skipping) this.#line(pending.subarray(start, nl))
        skipping = false
        consumed += nl + 1 - start
        start = nl + 1
      }
      // The rest is copied: `buf` is read into again.
      pending = Buffer.from(pending.subarray(start))
      if (this.#budget <= 0) break
      if (pending.length > MAX_AUDIT_LINE_BYTES && !skipping) {
        // An endless line must not grow memory: count it once and drop it up to its newline.
        this.health.malformed++
        skipping = true
      }
      if (skipping) {
        consumed += pending.length
        pending = Buffer.alloc(0)
      }
    }
    return consumed
  }

  #line (bytes: Buffer): void {
    this.#budget--
    if (!this.#mayHoldDenial(bytes)) {
      this.health.lines++
      return
    }
    const text = bytes.toString('utf8')
    if (text.trim() === '') return
    this.health.lines++
    try {
      const denial = parseAuditLine(text, this.health.lines, this.#o.codes)
      if (denial !== null) {
        this.health.denials++
        this.#o.onDenial(denial)
      }
    } catch (err) {
      if (!isAppError(err)) throw err
      this.health.malformed++
      this.#o.log.debug({ err }, 'skipped a malformed audit log line')
    }
  }

  #siblings (): Array<{ path: string, stats: Stats }> {
    const dir = dirname(this.#o.path)
    const stem = basename(this.#o.path).replace(/\.log$/, '')
    return readdirSync(dir).filter(n => n.startsWith(stem) && join(dir, n) !== this.#o.path)
      .map(n => ({ path: join(dir, n), stats: statOrNull(join(dir, n)) }))
      .filter((s): s is { path: string, stats: Stats } => s.stats !== null && s.stats.isFile())
  }

  #save (cursor: AuditCursor): void {
    this.#cursor = cursor
    this.#o.cursors.set(CURSOR, cursor)
  }

  close (): void {
    if (this.#fd !== null) closeSync(this.#fd)
    this.#fd = null
  }
}

function statOrNull (path: string): Stats | null {
  try {
    return statSync(path)
  } catch {
    return null
  }
}

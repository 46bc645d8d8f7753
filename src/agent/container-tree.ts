/**
 * Watches one container upper dir recursively with inotify (one non-recursive fs.watch per
 * directory, as inotify itself works) and reports what changed, named as inotifywait names it:
 * CREATE, DELETE, MODIFY, ATTRIB, plus `,ISDIR` for directories.
 *
 * Node's fs.watch only says "rename" (create, delete, move) or "change" (write, attributes), so
 * each path's events are coalesced for `coalesceMs` and then the path is looked at: present and
 * new is CREATE, gone and known is DELETE, a change with ctime > mtime is ATTRIB (chmod, chown,
 * xattrs touch only ctime; a write sets both), otherwise MODIFY. A path that came and went before
 * it could be looked at is `CREATE,DELETE`. fs.watch carries no move cookie, so a move is the old
 * name's DELETE and the new name's CREATE. Names are bytes (Buffer) end to end: a name with a
 * newline or invalid UTF-8 is watched and reported like any other.
 *
 * A burst is bounded: at most `queue.bound` paths wait for their look, over all trees sharing the
 * queue (inotify-queue.ts). Events for further paths are dropped and counted; after that flush the
 * whole tree is looked at again (every watched directory listed, every known entry checked), then
 * `onOverflow` says how many events were dropped. A tree with paths waiting when another tree was
 * refused is looked at whole too (the kernel's queue is one for all), without an overflow. The
 * same look, `sweep()`, is what the watcher runs periodically: the kernel may drop events without
 * a burst of distinct paths (many writes to a few files), Node never says so, and a change made
 * through a hard link outside the tree raises no event at all. Each known entry keeps its inode
 * and a change mark (tree-entry.ts), so a look reports creates, deletes, replacements and changes;
 * what it cannot tell is how many times something changed in between. Memory stays bounded by the
 * paths waiting and the entries the tree holds, not by the number of events.
 *
 * What a change means in overlay terms (whiteouts, `,ISDIR`) is overlay-change.ts's job.
 */
import { readdirSync, watch, type FSWatcher, type Stats } from 'node:fs'
import type { InotifyQueue } from './inotify-queue.js'
import { isWhiteoutName, overlayChange, type TreeChange } from './overlay-change.js'
import { baseName, bytesOf, keyOf, knownOf, lstatOrNull, type Known } from './tree-entry.js'
import type { WatchBudget } from './watch-budget.js'

export type { TreeChange }

export interface TreeOptions {
  readonly dir: string
  readonly budget: WatchBudget
  readonly coalesceMs: number
  readonly onChange: (change: TreeChange) => void
  readonly onError: (err: Error) => void
  /** After a flush for which `dropped` events (for paths beyond the queue's bound) were dropped. */
  readonly onOverflow?: (dropped: number) => void
  /** Counts the paths waiting in every tree that shares it. */
  readonly queue: InotifyQueue
}

interface Pending { rename: boolean, change: boolean }

export class ContainerTree {
  readonly #o: TreeOptions
  readonly #root: Buffer
  readonly #watchers = new Map<string, FSWatcher>()
  readonly #known = new Map<string, Known>()
  /** Known entries by parent directory, so that forgetting a subtree costs the subtree, not the tree. */
  readonly #children = new Map<string, Set<string>>()
  readonly #pending = new Map<string, Pending>()
  /** Events dropped since the last flush (the queue was full). */
  #dropped = 0
  /** Another tree was refused while paths waited here: the kernel may have dropped events here too. */
  #mayHaveLost = false
  #unsubscribe: (() => void) | null = null
  #timer: NodeJS.Timeout | null = null
  #closed = false
  /** Directories that could not be watched, until they are gone. */
  readonly #skipped = new Set<string>()
  /** Entries the last look found gone: their own events, coming later, are not short-lived files. */
  readonly #lookedGone = new Set<string>()

  constructor (opts: TreeOptions) {
    this.#o = opts
    this.#root = Buffer.from(opts.dir)
  }

  get watches (): number {
    return this.#watchers.size
  }

  /** Directories that could not be watched (budget, inotify limit, permissions): not covered. */
  get unwatched (): number {
    return this.#skipped.size
  }

  /** Watches the tree as it is now; what is already there is the baseline, not reported. */
  start (): void {
    this.#unsubscribe = this.#o.queue.onFull(() => { if (this.#pending.size > 0) this.#mayHaveLost = true })
    this.#watchDir('', false)
  }

  /** Looks at the whole tree and reports what changed since it was last seen (see the top comment). */
  sweep (): void {
    if (!this.#closed) this.#resync()
  }

  #full (key: string): Buffer {
    return Buffer.concat([this.#root, bytesOf(key)])
  }

  /**
   * Watches `top` and everything under it, breadth first so that a short budget covers the
   * shallow directories; with `report`, entries found are reported as created.
   */
  #watchDir (top: string, report: boolean): void {
    const dirs = [top]
    for (let i = 0; i < dirs.length; i++) {
      const key = dirs[i] as string
      if (!this.#watchOne(key)) continue
      for (const name of this.#list(key) ?? []) {
        const child = `${key}/${keyOf(name)}`
        const st = this.#safely(() => lstatOrNull(this.#full(child)), null)
        if (st === null) continue
        this.#remember(child, st)
        if (report) this.#emit(child, 'CREATE', st)
        if (st.isDirectory()) dirs.push(child)
      }
    }
  }

  #watchOne (key: string): boolean {
    if (this.#closed || this.#watchers.has(key)) return false
    if (!this.#o.budget.take()) {
      this.#skipped.add(key)
      return false
    }
    try {
      const w = watch(this.#full(key), { encoding: 'buffer', persistent: false }, (type, name) => this.#event(key, type, name))
      w.on('error', err => this.#lost(key, err))
      this.#watchers.set(key, w)
      return true
    } catch (err) {
      this.#o.budget.give()
      this.#skipped.add(key)
      this.#o.onError(err as Error)
      return false
    }
  }

  /**
   * `look()`, or `fallback` when it throws, the error reported: a directory that cannot be listed
   * or an entry that cannot be looked at now (EACCES) is neither empty nor gone.
   */
  #safely<T> (look: () => T, fallback: T): T {
    try {
      return look()
    } catch (err) {
      this.#o.onError(err as Error)
      return fallback
    }
  }

  #list (key: string): Buffer[] | null {
    return this.#safely(() => readdirSync(this.#full(key), { encoding: 'buffer' }), null)
  }

  #close (key: string): void {
    const w = this.#watchers.get(key)
    if (w === undefined) return
    w.close()
    this.#watchers.delete(key)
    this.#o.budget.give()
  }

  #lost (key: string, err: Error): void {
    this.#o.onError(err)
    this.#close(key)
  }

  #event (dirKey: string, type: string, name: Buffer | null): void {
    if (this.#closed || name === null) return
    const key = `${dirKey}/${keyOf(name)}`
    this.#timer ??= setTimeout(() => this.#flush(), this.#o.coalesceMs)
    let p = this.#pending.get(key)
    if (p === undefined) {
      if (!this.#o.queue.take()) {
        this.#dropped++
        return
      }
      p = { rename: false, change: false }
    }
    if (type === 'rename') p.rename = true
    else p.change = true
    this.#pending.set(key, p)
  }

  #flush (): void {
    this.#timer = null
    const batch = [...this.#pending]
    this.#pending.clear()
    this.#o.queue.give(batch.length)
    for (const [key, p] of batch) this.#settleSafely(key, p)
    const dropped = this.#dropped
    if ((dropped === 0 && !this.#mayHaveLost) || this.#closed) return
    this.#dropped = 0
    this.#mayHaveLost = false
    this.#resync()
    if (dropped > 0) this.#o.onOverflow?.(dropped)
  }

  #settleSafely (key: string, p: Pending): void {
    if (!this.#closed) this.#safely(() => { this.#settle(key, p) }, undefined)
  }

  /**
   * After dropped events, and on a sweep: every entry of every watched directory, and every entry
   * known there, is looked at as if renamed. New ones are reported created (new directories watched
   * and walked), gone ones deleted, replaced ones (another inode) created, changed ones (their mark
   * moved) modified; the rest say nothing.
   */
  #resync (): void {
    const moved = { rename: true, change: false }
    this.#lookedGone.clear()
    for (const dir of [...this.#watchers.keys()]) {
      const names = this.#watchers.has(dir) ? this.#list(dir) : null
      // A directory that cannot be listed now (EACCES) is left as it was known: no deletes from it.
      if (names === null) continue
      const listed = new Set(names.map(name => `${dir}/${keyOf(name)}`))
      const known = [...(this.#children.get(dir) ?? [])].filter(k => !listed.has(k))
      for (const k of known) this.#lookedGone.add(k)
      for (const key of [...listed, ...known]) this.#settleSafely(key, moved)
    }
  }

  #settle (key: string, p: Pending): void {
    const st = lstatOrNull(this.#full(key))
    const prev = this.#known.get(key)
    if (st === null) {
      this.#gone(key, prev)
      return
    }
    if (prev === undefined || (p.rename && prev.ino !== st.ino)) {
      // Replaced: what was known under the old directory went with it.
      if (prev?.kind === 'dir') this.#forget(key)
      this.#remember(key, st)
      this.#emit(key, 'CREATE', st)
      if (st.isDirectory()) this.#watchDir(key, true)
      return
    }
    const now = knownOf(st)
    if (!p.change && now.mark === prev.mark) return
    if (now.mark !== prev.mark) this.#known.set(key, now)
    this.#emit(key, st.isDirectory() || st.ctimeMs > st.mtimeMs ? 'ATTRIB' : 'MODIFY', st)
  }

  #gone (key: string, prev: Known | undefined): void {
    const dir = key.slice(0, key.lastIndexOf('/'))
    if (prev === undefined) {
      // Inside a directory already reported gone (its known entries were reported with it), or
      // found gone by the last look: this is the late event of a delete already reported.
      if (!this.#watchers.has(dir) || this.#lookedGone.delete(key)) return
      // A directory's own watcher names the directory itself in its self-events (libuv uses the
      // basename); the parent's watcher reports those. Anything else unknown was short-lived.
      const dirName = dir === '' ? keyOf(this.#root).slice(keyOf(this.#root).lastIndexOf('/') + 1) : baseName(dir)
      if (baseName(key) !== dirName) this.#emit(key, 'CREATE,DELETE', null)
      return
    }
    this.#drop(key)
    if (prev.kind === 'dir') this.#forget(key)
    this.#deleted(key, prev)
  }

  #deleted (key: string, prev: Known): void {
    if (prev.kind === 'whiteout' || isWhiteoutName(bytesOf(baseName(key)))) return
    this.#emit(key, prev.kind === 'dir' ? 'DELETE,ISDIR' : 'DELETE', null)
  }

  #remember (key: string, st: Stats): void {
    this.#known.set(key, knownOf(st))
    const dir = key.slice(0, key.lastIndexOf('/'))
    let set = this.#children.get(dir)
    if (set === undefined) this.#children.set(dir, set = new Set())
    set.add(key)
  }

  #drop (key: string): void {
    this.#known.delete(key)
    this.#children.get(key.slice(0, key.lastIndexOf('/')))?.delete(key)
  }

  /**
   * Stops watching `key` and below. Entries still known there are reported deleted now, deepest
   * first, whatever order their own events come in (those are then ignored, see #gone).
   */
  #forget (key: string): void {
    const below: string[] = []
    for (let i = -1; i < below.length; i++) {
      const dir = i < 0 ? key : below[i] as string
      this.#close(dir)
      this.#skipped.delete(dir)
      below.push(...(this.#children.get(dir) ?? []))
      this.#children.delete(dir)
    }
    for (const k of below.reverse()) {
      const known = this.#known.get(k)
      this.#known.delete(k)
      if (known !== undefined) this.#deleted(k, known)
    }
  }

  #emit (key: string, event: string, st: Stats | null): void {
    const change = overlayChange(bytesOf(key), event, st)
    if (change !== null) this.#o.onChange(change)
  }

  close (): void {
    this.#closed = true
    if (this.#timer !== null) clearTimeout(this.#timer)
    this.#timer = null
    for (const k of [...this.#watchers.keys()]) this.#close(k)
    this.#o.queue.give(this.#pending.size)
    this.#pending.clear()
    this.#unsubscribe?.()
  }
}

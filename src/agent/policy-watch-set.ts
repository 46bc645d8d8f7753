/**
 * The directories the policy watcher keeps an inotify watch on (fs.watch, non-recursive), each
 * with the entry names that matter in it. Watching the directories rather than the files keeps
 * working when an editor or vigr replaces a file by rename, and lets a missing file or home
 * be noticed when it appears. Recomputed after every evaluation, as users come and go.
 */
import { statSync, watch, type FSWatcher } from 'node:fs'
import { basename, dirname, join } from 'node:path'
import type { PolicyRoots } from './policy-facts.js'

/** dir → names to react to (null: any entry). */
export type WatchPlan = ReadonlyMap<string, ReadonlySet<string> | null>

function addName (plan: Map<string, Set<string> | null>, dir: string, name: string | null): void {
  if (plan.has(dir) && plan.get(dir) === null) return
  if (name === null) { plan.set(dir, null); return }
  const set = plan.get(dir) ?? new Set<string>()
  set.add(name)
  plan.set(dir, set)
}

/** Every directory on the way from `top` down to `path`, each reacting to its next component. */
function addChain (plan: Map<string, Set<string> | null>, top: string, path: string, isAnyInLeaf: boolean): void {
  const parts = path.slice(top.length + 1).split('/')
  let dir = top
  for (const part of parts) {
    addName(plan, dir, part)
    dir = join(dir, part)
  }
  if (isAnyInLeaf) addName(plan, path, null)
}

export function watchPlan (roots: PolicyRoots, homeNames: readonly string[]): WatchPlan {
  const plan = new Map<string, Set<string> | null>()
  addName(plan, roots.containersDir, null)
  addName(plan, join(roots.containersDir, 'registries.d'), null)
  addName(plan, dirname(roots.passwdFile), basename(roots.passwdFile))
  addName(plan, dirname(roots.groupFile), basename(roots.groupFile))
  addName(plan, roots.homes, null)
  for (const name of homeNames) {
    const home = join(roots.homes, name)
    addChain(plan, home, join(home, '.config/containers/registries.d'), true)
    addName(plan, join(home, '.config/containers'), null)
    addChain(plan, home, join(home, '.local/share/containers/storage/overlay'), false)
  }
  return plan
}

function inode (dir: string): number | null {
  try {
    const st = statSync(dir)
    return st.isDirectory() ? st.ino : null
  } catch {
    return null
  }
}

/** The open watches; `sync` opens what the plan adds and closes what it drops. */
export class WatchSet {
  readonly #open = new Map<string, { readonly watcher: FSWatcher, readonly ino: number }>()
  readonly #onChange: (dir: string, name: string | null) => void
  readonly #onError: (dir: string, err: Error) => void
  #plan: WatchPlan = new Map()

  constructor (onChange: (dir: string, name: string | null) => void, onError: (dir: string, err: Error) => void) {
    this.#onChange = onChange
    this.#onError = onError
  }

  get size (): number {
    return this.#open.size
  }

  /** Directories of the plan that could not be watched (missing, or not readable by us). */
  get unwatched (): number {
    return [...this.#plan.keys()].filter(d => !this.#open.has(d)).length
  }

  /** A directory that was deleted and made again has a new inode: its old watch sees nothing. */
  sync (plan: WatchPlan): void {
    this.#plan = plan
    for (const [dir, open] of this.#open) {
      if (!plan.has(dir) || inode(dir) !== open.ino) { open.watcher.close(); this.#open.delete(dir) }
    }
    for (const dir of plan.keys()) if (!this.#open.has(dir)) this.#open_(dir)
  }

  #open_ (dir: string): void {
    const ino = inode(dir)
    if (ino === null) return
    let w: FSWatcher
    try {
      w = watch(dir, { persistent: false }, (_event, name) => {
        const wanted = this.#plan.get(dir)
        if (wanted === null || name === null || wanted?.has(String(name)) === true) this.#onChange(dir, name === null ? null : String(name))
      })
    } catch {
      return // missing or unreadable: the facts report it; the parent's watch notices it appearing
    }
    w.on('error', err => {
      this.#open.delete(dir)
      w.close()
      // A watched directory that is deleted ends its watch; that is a change, not a fault.
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'EPERM') this.#onChange(dir, null)
      else this.#onError(dir, err)
    })
    this.#open.set(dir, { watcher: w, ino })
  }

  close (): void {
    for (const open of this.#open.values()) open.watcher.close()
    this.#open.clear()
  }
}

/**
 * What a container tree remembers of one entry between looks (its kind, inode and change mark),
 * and how it names the entry: a key, the path inside the container.
 * A look that finds another inode under the name reports a replacement; a moved mark, a change.
 */
import { lstatSync, type Stats } from 'node:fs'
import { isWhiteoutDevice } from './overlay-change.js'

/** Keys are paths inside the container as latin1 strings: one char per byte, so lossless. */
export const keyOf = (b: Buffer): string => b.toString('latin1')
export const bytesOf = (key: string): Buffer => Buffer.from(key, 'latin1')
export const baseName = (key: string): string => key.slice(key.lastIndexOf('/') + 1)

export type Kind = 'dir' | 'file' | 'whiteout'
export interface Known { readonly kind: Kind, readonly ino: number, readonly mark: string }

/**
 * The entry's stat, or null when it is gone. Any other failure throws: a directory the agent may
 * no longer search (EACCES) says nothing about whether the entries in it still exist, and
 * taking it for "gone" reported every one of them deleted, then created again.
 */
export function lstatOrNull (path: Buffer): Stats | null {
  try {
    return lstatSync(path)
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'ENOENT' || code === 'ENOTDIR') return null
    throw err
  }
}

function kindOf (st: Stats): Kind {
  if (st.isDirectory()) return 'dir'
  return isWhiteoutDevice(st) ? 'whiteout' : 'file'
}

/**
 * The mark moves with every change an event would report. For files that is ctime (every write,
 * chmod, chown, link and xattr change moves it), with size, mode, owner and link count beside it
 * because file times tick coarsely (a jiffy): two changes within one tick share a ctime. For
 * directories it is mode and owner only, as their ctime also moves whenever an entry comes or goes.
 */
function markOf (st: Stats): string {
  const owner = `${st.mode}:${st.uid}:${st.gid}`
  return st.isDirectory() ? owner : `${owner}:${st.nlink}:${st.size}:${st.ctimeMs}`
}

export function knownOf (st: Stats): Known {
  return { kind: kindOf(st), ino: st.ino, mark: markOf(st) }
}

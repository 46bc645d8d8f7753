/**
 * What a container tree remembers of one entry between looks: its kind, inode and change mark.
 * A look that finds another inode under the name reports a replacement; a moved mark, a change.
 */
import { lstatSync, type Stats } from 'node:fs'
import { isWhiteoutDevice } from './overlay-change.js'

export type Kind = 'dir' | 'file' | 'whiteout'
export interface Known { readonly kind: Kind, readonly ino: number, readonly mark: string }

export function lstatOrNull (path: Buffer): Stats | null {
  try {
    return lstatSync(path)
  } catch {
    return null
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

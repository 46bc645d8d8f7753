/**
 * What a change in an overlay upper dir means for the container, as inotifywait would name it:
 * overlay whiteouts are translated (a `.wh.<name>` file or a 0/0 character device is the deletion
 * of `<name>` from the image; `.wh..wh..opq` hides a whole image directory), directories get
 * `,ISDIR`. Pure: the tree (container-tree.ts) decides what happened, this says how it reads.
 */
import type { Stats } from 'node:fs'

export interface TreeChange {
  /** The path inside the container, as bytes, starting with `/`. */
  readonly path: Buffer
  readonly event: string
  /** st_mode after the change; null when the path is gone. */
  readonly mode: number | null
  /** The change is an overlay whiteout: a file of the image was deleted in the container. */
  readonly whiteout: boolean
}

const SLASH = 0x2f
const WHITEOUT = Buffer.from('.wh.')
const OPAQUE = Buffer.from('.wh..wh..opq')

export function isWhiteoutDevice (st: Stats): boolean {
  return st.isCharacterDevice() && st.rdev === 0
}

export function isWhiteoutName (name: Buffer): boolean {
  return name.subarray(0, WHITEOUT.length).equals(WHITEOUT)
}

/**
 * The change reported for `event` on `path` (bytes inside the container, from `/`) with `st` after
 * it (null when gone); null when there is nothing to say (a later change to a whiteout).
 */
export function overlayChange (path: Buffer, event: string, st: Stats | null): TreeChange | null {
  const name = path.subarray(path.lastIndexOf(SLASH) + 1)
  const parent = path.subarray(0, path.length - name.length - 1)
  const whiteout = st !== null && (isWhiteoutName(name) || isWhiteoutDevice(st))
  // A whiteout says one thing, when it appears; a change to it later says nothing.
  if (whiteout && event !== 'CREATE') return null
  if (st !== null && name.equals(OPAQUE)) return { path: parent.length === 0 ? Buffer.from('/') : parent, event: 'DELETE,ISDIR', mode: null, whiteout: true }
  if (st !== null && isWhiteoutName(name)) return { path: Buffer.concat([parent, Buffer.from([SLASH]), name.subarray(WHITEOUT.length)]), event: 'DELETE', mode: null, whiteout: true }
  if (st !== null && isWhiteoutDevice(st)) return { path, event: 'DELETE', mode: null, whiteout: true }
  const isDir = st?.isDirectory() === true && !event.endsWith(',ISDIR')
  return { path, event: isDir ? `${event},ISDIR` : event, mode: st?.mode ?? null, whiteout: false }
}

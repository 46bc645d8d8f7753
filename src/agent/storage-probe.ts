/**
 * What the container watcher asks of paths in a storage root, which may vanish at any moment (a
 * container removed, a store reset): none of these throws; a missing path is an answer.
 */
import { realpathSync, statSync } from 'node:fs'

export function realpathOrNull (path: string): string | null {
  try {
    return realpathSync(path)
  } catch {
    return null
  }
}

export function inodeOf (path: string): string {
  try {
    return String(statSync(path).ino)
  } catch {
    return '-'
  }
}

export function isDir (path: string): boolean {
  try {
    return statSync(path).isDirectory()
  } catch {
    return false
  }
}

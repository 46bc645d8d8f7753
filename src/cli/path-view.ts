/**
 * File names are bytes (newlines, invalid UTF-8). Text shows them escaped on one line; JSON gives
 * the same rendering and, when it is not the plain name, the exact bytes in base64.
 */
import { displayPath, isPlainPath } from '../agent/file-path.js'

export interface PathView {
  readonly path: string
  readonly pathBase64?: string
}

export function pathView (bytes: Buffer): PathView {
  const path = displayPath(bytes)
  return isPlainPath(bytes) ? { path } : { path, pathBase64: bytes.toString('base64') }
}

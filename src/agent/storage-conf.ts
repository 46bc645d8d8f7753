/**
 * containers-storage.conf(5) is TOML; we have no TOML parser among our dependencies, so only
 * what the policy needs is checked: the file is readable text and declares the `[storage]`
 * table containers/storage requires. Anything else in it is left to podman.
 */
import { PolicyFileError } from './policy-file-error.js'

const STORAGE_TABLE = /^\s*\[\s*storage\s*\]\s*(#.*)?$/

export function checkStorageConf (file: string, text: string): void {
  if (text.includes('\u0000')) throw new PolicyFileError(file, 'is not a text file (contains NUL bytes)')
  const lines = text.split('\n')
  if (!lines.some(l => STORAGE_TABLE.test(l))) throw new PolicyFileError(file, 'has no [storage] table (containers-storage.conf(5) requires one)')
}

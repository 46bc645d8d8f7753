/**
 * Can the user change their own `~/.config/containers`? podsec tested this by writing
 * `~/.config/containers/.test` as root, which only detected the immutable flag set by
 * podsec-create-podmanusers and left the file behind. This reads the mode bits for the user's
 * uid and groups instead, and the immutable flag through `lsattr -d` (argument array, no shell).
 */
import { execFile } from 'node:child_process'
import { stat } from 'node:fs/promises'
import type { Account, Accounts } from './policy-accounts.js'
import { PolicyFileError } from './policy-file-error.js'

/** True when the directory carries the immutable (`i`) attribute; null when unknown. */
export type ImmutableProbe = (dir: string) => Promise<boolean | null>

/** `lsattr -d -- <dir>`; a missing lsattr or a filesystem without attributes gives null. */
export function lsattrProbe (binary = 'lsattr'): ImmutableProbe {
  return dir => new Promise(resolve => {
    execFile(binary, ['-d', '--', dir], { timeout: 10_000, encoding: 'utf8' }, (err, stdout) => {
      if (err !== null) { resolve(null); return }
      const flags = stdout.split(' ')[0] ?? ''
      resolve(flags.includes('i'))
    })
  })
}

/** Whether `account` may create or change files in `dir` (null: the directory does not exist). */
export async function configDirWritable (dir: string, account: Account, accounts: Accounts, probe: ImmutableProbe): Promise<boolean | null> {
  let st
  try {
    st = await stat(dir)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null
    throw new PolicyFileError(dir, `cannot examine: ${(err as Error).message}`, { isUnreadable: true, cause: err })
  }
  if (await probe(dir) === true) return false
  if (account.uid === 0) return true
  if (st.uid === account.uid) return (st.mode & 0o200) !== 0
  const inGroup = account.gid === st.gid || [...accounts.groups.values()].some(g => g.gid === st.gid && g.members.has(account.name))
  if (inGroup) return (st.mode & 0o020) !== 0
  return (st.mode & 0o002) !== 0
}

/** Read commands open the agent's SQLite file read-only (WAL: safe while the agent writes) and close it after. */
import { accessSync, constants } from 'node:fs'
import { StoreError } from '../core/errors.js'
import { stateDbPath } from '../agent/daemon.js'
import { openStore, type Store } from '../agent/store.js'

export function withStore<T> (stateDir: string, read: (store: Store) => T): T {
  const file = stateDbPath(stateDir)
  try {
    accessSync(file, constants.R_OK)
  } catch (err) {
    // Checked here because better-sqlite3 reports a missing directory as a plain TypeError and
    // SQLite says CANTOPEN for both "absent" and "not yours"; the admin needs to know which.
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new StoreError('PFIM_STORE_NOT_FOUND', `no state database at ${file} (has the agent run here? see --state-dir)`, { where: file, cause: err })
    throw new StoreError('PFIM_STORE_FAILED', `cannot read the state database ${file} (${code ?? String(err)}): run podsec-fim as the agent's user (on a u7s node: nsenter_u7s podsec-fim ...)`, { where: file, cause: err })
  }
  const store = openStore(file, { readonly: true })
  try {
    return read(store)
  } finally {
    store.close()
  }
}

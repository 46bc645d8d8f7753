/** Read commands open the agent's SQLite file read-only (WAL: safe while the agent writes) and close it after. */
import { existsSync } from 'node:fs'
import { StoreError } from '../core/errors.js'
import { stateDbPath } from '../agent/daemon.js'
import { openStore, type Store } from '../agent/store.js'

export function withStore<T> (stateDir: string, read: (store: Store) => T): T {
  const file = stateDbPath(stateDir)
  // better-sqlite3 reports a missing directory as a plain TypeError, not SQLITE_CANTOPEN, so the
  // store would call it PFIM_STORE_FAILED; "never ran here" deserves its own code and exit status.
  if (!existsSync(file)) throw new StoreError('PFIM_STORE_NOT_FOUND', `no state database at ${file} (has the agent run here? see --state-dir)`, { where: file })
  const store = openStore(file, { readonly: true })
  try {
    return read(store)
  } finally {
    store.close()
  }
}

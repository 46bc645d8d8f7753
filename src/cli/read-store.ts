/** Read commands open the agent's SQLite file read-only (WAL: safe while the agent writes) and close it after. */
import { openStore, stateDbPath, type Store } from '../agent/store.js'

export function withStore<T> (stateDir: string, read: (store: Store) => T): T {
  const store = openStore(stateDbPath(stateDir), { readonly: true })
  try {
    return read(store)
  } finally {
    store.close()
  }
}

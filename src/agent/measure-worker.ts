/**
 * A worker thread of the fast full check (measure-pool.ts): measures a batch of AIDE-selected
 * paths the way `aide --init` records them (aide-entry.ts) and compares each with its baseline
 * entry on its own read-only connection to the state database (WAL: the agent's writes go on).
 * Only differences travel back, so the main thread is left reading AIDE's output. Synchronous on
 * purpose: a worker has nothing else to do, and sync reads into one reused buffer hash fastest.
 */
import Database from 'better-sqlite3'
import { lstatSync, readlinkSync } from 'node:fs'
import { setPriority } from 'node:os'
import { parentPort, workerData } from 'node:worker_threads'
import { BIT } from './aide-attributes.js'
import type { AideDbEntry } from './aide-db.js'
import { compareEntry } from './aide-db-diff.js'
import { ChangedWhileReading, attrForType, errorReason, hashFileSync, linkField, statFields, wantedDigests } from './aide-entry.js'
import { indexLookup } from './baseline-index.js'
import type { MeasureReply, MeasureRequest, UnreadablePath } from './measure-pool.js'
import type { ReportEntry } from './aide-report.js'

const WORKER_NICE = 10

function measure (path: Buffer, ruleAttr: number, unreadable: UnreadablePath[]): AideDbEntry | null {
  let st
  try {
    st = lstatSync(path, { bigint: true, throwIfNoEntry: false })
  } catch (err) {
    unreadable.push({ path, reason: errorReason(err) })
    return null
  }
  // Gone since AIDE listed it: it is not there now, as a check a moment later would find.
  if (st === undefined) return null
  let attr = attrForType(ruleAttr, Number(st.mode))
  const fields = statFields(st)
  if (st.isSymbolicLink()) {
    try {
      fields.lname = linkField(readlinkSync(path, { encoding: 'buffer' }))
    } catch (err) {
      // Replaced since the lstat: the target is not claimed, and the path is named as unverified.
      attr -= 2 ** BIT.linkname
      unreadable.push({ path, reason: errorReason(err) })
    }
  }
  const digests = st.isFile() ? wantedDigests(attr) : []
  if (digests.length > 0) {
    try {
      Object.assign(fields, hashFileSync(path, st, digests))
    } catch (err) {
      // As AIDE: the entry keeps everything but its digests, and the file is named as unverified.
      for (const n of digests) attr -= 2 ** BIT[n]
      unreadable.push({ path, reason: err instanceof ChangedWhileReading ? err.message : errorReason(err) })
    }
  }
  return { path, attr, fields }
}

// AIDE's walk is the critical path of the check, and it runs in its own process at the agent's
// priority: these hashing threads lower their own (Linux nice values are per thread), so AIDE
// gets a core when it needs one and they take the rest.
setPriority(WORKER_NICE)

const db = new Database((workerData as { stateDb: string }).stateDb, { readonly: true, fileMustExist: true })
const lookup = indexLookup(db)

parentPort?.on('message', (req: MeasureRequest) => {
  const unreadable: UnreadablePath[] = []
  const seen: Buffer[] = []
  const differences: ReportEntry[] = []
  try {
    for (const item of req.items) {
      const neu = measure(Buffer.from(item.path.buffer, item.path.byteOffset, item.path.byteLength), item.attr, unreadable)
      if (neu === null) continue
      seen.push(neu.path)
      const difference = compareEntry(lookup(neu.path), neu)
      if (difference !== null) differences.push(difference)
    }
    parentPort?.postMessage({ id: req.id, seen, differences, unreadable } satisfies MeasureReply)
  } catch (err) {
    parentPort?.postMessage({ id: req.id, error: `${(err as Error).message}` } satisfies MeasureReply)
  }
})

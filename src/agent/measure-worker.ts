/**
 * A worker thread of the fast full check (measure-pool.ts): measures a batch of AIDE-selected
 * paths the way `aide --init` records them (aide-entry.ts). Synchronous on purpose: a worker has
 * nothing else to do, and sync reads into one reused buffer are the cheapest way to hash.
 */
import { lstatSync, readlinkSync } from 'node:fs'
import { parentPort } from 'node:worker_threads'
import { BIT } from './aide-attributes.js'
import { ChangedWhileReading, attrForType, errorReason, hashFileSync, linkField, statFields, wantedDigests } from './aide-entry.js'
import type { MeasureReply, MeasureRequest, MeasuredEntry, UnreadablePath } from './measure-pool.js'

function measure (path: Buffer, ruleAttr: number, unreadable: UnreadablePath[]): MeasuredEntry | null {
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

parentPort?.on('message', (req: MeasureRequest) => {
  const unreadable: UnreadablePath[] = []
  const entries: MeasuredEntry[] = []
  try {
    for (const item of req.items) {
      const e = measure(Buffer.from(item.path.buffer, item.path.byteOffset, item.path.byteLength), item.attr, unreadable)
      if (e !== null) entries.push(e)
    }
    parentPort?.postMessage({ id: req.id, entries, unreadable } satisfies MeasureReply)
  } catch (err) {
    parentPort?.postMessage({ id: req.id, error: `${(err as Error).message}` } satisfies MeasureReply)
  }
})

/**
 * Turns the paths AIDE selected (aide-dry-init.ts) into the entries `aide --init` would record,
 * measured by the worker pool in batches. Batches are yielded in AIDE's order, and at most a few
 * per worker are in flight, so memory stays bounded whatever the tree and AIDE is throttled by
 * its stdout pipe when hashing falls behind.
 */
import type { AideDbEntry } from './aide-db.js'
import type { DrySelection } from './aide-dry-init.js'
import { attrForType, ruleAttr, unmeasurable } from './aide-entry.js'
import type { MeasureItem, MeasurePool, MeasuredBatch } from './measure-pool.js'
import type { UnverifiedPath } from './scan-types.js'

const BATCH = 256
const IN_FLIGHT_PER_WORKER = 4

/** A rule names attributes Node cannot read: the check must be left to AIDE. */
export class Unmeasurable extends Error {
  constructor (readonly path: Buffer, readonly attrs: readonly string[]) {
    super(`the rule selecting ${JSON.stringify(path.toString('latin1'))} records ${attrs.join(', ')}, which only AIDE can read`)
  }
}

function* entriesOf (batch: MeasuredBatch, unverified: UnverifiedPath[]): Generator<AideDbEntry> {
  for (const u of batch.unreadable) unverified.push({ path: Buffer.from(u.path.buffer, u.path.byteOffset, u.path.byteLength), reason: u.reason })
  for (const e of batch.entries) yield { path: Buffer.from(e.path.buffer, e.path.byteOffset, e.path.byteLength), attr: e.attr, fields: e.fields }
}

/** Throws Unmeasurable before any work is sent for a path whose rule Node cannot honour. */
function item (s: DrySelection): MeasureItem {
  const attr = ruleAttr(s.attrs)
  // Digests only apply to regular files, so a whirlpool rule on a directory is measurable.
  const missing = unmeasurable(s.type === 'f' ? attr : attrForType(attr, 0))
  if (missing.length > 0) throw new Unmeasurable(s.path, missing)
  return { path: s.path, attr }
}

/**
 * Files that could not be read are pushed to `unverified` (with AIDE's strerror wording); their
 * entries keep every attribute but the digests, as AIDE's do.
 */
export async function * measureSelections (selections: AsyncIterable<DrySelection>, pool: MeasurePool, unverified: UnverifiedPath[]): AsyncGenerator<AideDbEntry> {
  const inflight: Array<Promise<MeasuredBatch>> = []
  const send = (items: MeasureItem[]): void => {
    const p = pool.measure(items)
    // Awaited in order below; a later batch failing first must not be an unhandled rejection.
    p.catch(() => {})
    inflight.push(p)
  }
  let batch: MeasureItem[] = []
  for await (const s of selections) {
    batch.push(item(s))
    if (batch.length < BATCH) continue
    send(batch)
    batch = []
    while (inflight.length >= pool.size * IN_FLIGHT_PER_WORKER) yield * entriesOf(await (inflight.shift() as Promise<MeasuredBatch>), unverified)
  }
  if (batch.length > 0) send(batch)
  while (inflight.length > 0) yield * entriesOf(await (inflight.shift() as Promise<MeasuredBatch>), unverified)
}

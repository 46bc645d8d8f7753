/**
 * Sends the paths AIDE selected (aide-dry-init.ts) to the worker pool in batches, to be measured
 * as `aide --init` would record them and compared with the baseline. Batches come back in AIDE's
 * order; a bounded number is in flight, so memory stays bounded whatever the tree, and AIDE is
 * throttled by its stdout pipe only when hashing falls behind.
 */
import type { ReportEntry } from './aide-report.js'
import type { DrySelection } from './aide-dry-init.js'
import { attrForType, ruleAttr, unmeasurable } from './aide-entry.js'
import type { MeasureItem, MeasurePool, MeasuredBatch } from './measure-pool.js'
import type { UnverifiedPath } from './scan-types.js'

const BATCH = 256
/**
 * Up to 256 batches per worker (131,072 paths with two workers, some 25 MB) may wait: AIDE's walk
 * then never stalls on its stdout pipe while the workers hash a run of big files, and it finishes
 * near its own speed (/usr, measured: AIDE done after 12 s instead of 24 s with 32 per worker).
 */
const IN_FLIGHT_PER_WORKER = 256

/** A rule names attributes Node cannot read: the check must be left to AIDE. */
export class Unmeasurable extends Error {
  constructor (readonly path: Buffer, readonly attrs: readonly string[]) {
    super(`the rule selecting ${JSON.stringify(path.toString('latin1'))} records ${attrs.join(', ')}, which only AIDE can read`)
  }
}

/** What a batch found, with Buffers again where the thread boundary left Uint8Arrays. */
export interface ComparedBatch {
  readonly seen: readonly Buffer[]
  readonly differences: readonly ReportEntry[]
}

const buffer = (u: Uint8Array): Buffer => Buffer.from(u.buffer, u.byteOffset, u.byteLength)

function compared (batch: MeasuredBatch, unverified: UnverifiedPath[]): ComparedBatch {
  for (const u of batch.unreadable) unverified.push({ path: buffer(u.path), reason: u.reason })
  return { seen: batch.seen.map(buffer), differences: batch.differences.map(d => ({ ...d, path: buffer(d.path) })) }
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
export async function * measureSelections (selections: AsyncIterable<DrySelection>, pool: MeasurePool, unverified: UnverifiedPath[]): AsyncGenerator<ComparedBatch> {
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
    while (inflight.length >= pool.size * IN_FLIGHT_PER_WORKER) yield compared(await (inflight.shift() as Promise<MeasuredBatch>), unverified)
  }
  if (batch.length > 0) send(batch)
  while (inflight.length > 0) yield compared(await (inflight.shift() as Promise<MeasuredBatch>), unverified)
}

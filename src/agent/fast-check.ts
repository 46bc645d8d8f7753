/**
 * The fast full check. AIDE 0.18's --check spends most of its time in its quadratic database
 * reader, not hashing (reference/aide.md §5), so the fast check never lets AIDE read a database:
 *
 * - measured (the default): `aide --dry-init` walks the tree and prints which rule selects each
 *   path, and worker threads record each selected path as AIDE would (lstat, link target, OpenSSL
 *   digests), in parallel with AIDE's walk. Used when every attribute the rules name is one Node
 *   can read (no ACLs, xattrs, SELinux, e2fs attributes, capabilities, or non-OpenSSL digests).
 * - aide-init otherwise: `aide --init` into a scratch database, read back line by line.
 *
 * Either stream is diffed against the baseline index as it arrives: one index lookup per entry,
 * and the entries never seen are the removed ones (a temp table, so memory stays bounded). The
 * result has the shape of a parsed `aide --check` report.
 */
import { createHash } from 'node:crypto'
import { rm } from 'node:fs/promises'
import type { Logger } from '../core/log.js'
import type { AideReport, ReportEntry } from './aide-report.js'
import { compareEntry, removedEntry } from './aide-db-diff.js'
import { readAideDb, type AideDbEntry } from './aide-db.js'
import { readDryInit } from './aide-dry-init.js'
import { unmeasurable } from './aide-entry.js'
import { BIT, hasAttr, type AttributeName } from './aide-attributes.js'
import type { AideExit, AideRunning } from './aide-process.js'
import type { BaselineIndex } from './baseline-index.js'
import { MeasurePool } from './measure-pool.js'
import type { UnverifiedPath } from './scan-types.js'
import { measureSelections, Unmeasurable, type ComparedBatch } from './selection-measure.js'

const BATCH = 2000

export interface FastDiff extends AideReport {
  /** AIDE's exit-code bitmask for this result (1 added, 2 removed, 4 changed). */
  readonly exitCode: number
}

export interface DiffMeta { readonly aideVersion: string, readonly startTime: string, readonly endTime: string }

async function * comparedHere (index: BaselineIndex, entries: AsyncIterable<AideDbEntry>): AsyncGenerator<ComparedBatch> {
  let seen: Buffer[] = []
  let differences: ReportEntry[] = []
  for await (const neu of entries) {
    seen.push(neu.path)
    const d = compareEntry(index.get(neu.path), neu)
    if (d !== null) differences.push(d)
    if (seen.length < BATCH) continue
    yield { seen, differences }
    seen = []
    differences = []
  }
  yield { seen, differences }
}

/** Collects compared batches into a report; the baseline entries no batch has seen are the removed ones. */
async function diffBatches (index: BaselineIndex, batches: AsyncIterable<ComparedBatch>, meta: () => DiffMeta): Promise<FastDiff> {
  const added: ReportEntry[] = []
  const changed: ReportEntry[] = []
  let total = 0
  index.resetSeen()
  for await (const batch of batches) {
    total += batch.seen.length
    index.markSeen(batch.seen)
    for (const d of batch.differences) (d.change === 'added' ? added : changed).push(d)
  }
  const removed = [...index.unseen()].map(removedEntry)
  index.resetSeen()
  const isDifferent = added.length + removed.length + changed.length > 0
  const { aideVersion, startTime, endTime } = meta()
  return {
    outline: isDifferent ? 'AIDE found differences between database and filesystem!!' : 'AIDE found NO differences between database and filesystem. Looks okay!!',
    aideVersion,
    startTime,
    endTime,
    totalEntries: total,
    added: added.length,
    removed: removed.length,
    changed: changed.length,
    entries: [...added, ...removed, ...changed],
    exitCode: (added.length > 0 ? 1 : 0) | (removed.length > 0 ? 2 : 0) | (changed.length > 0 ? 4 : 0),
  }
}

/** Diffs the current state (`current`: entries as AIDE records them, or a database file AIDE wrote) against the index of the baseline. */
export async function diffAgainstIndex (index: BaselineIndex, current: string | AsyncIterable<AideDbEntry>, meta: () => DiffMeta): Promise<FastDiff> {
  return await diffBatches(index, comparedHere(index, typeof current === 'string' ? readAideDb(current) : current), meta)
}

export interface FastCheckOptions {
  readonly index: BaselineIndex
  /** The rendered aide.conf. */
  readonly conf: string
  /** Where the aide-init way writes its scratch database (removed afterwards). */
  readonly scratchDb: string
  /** Starts AIDE with these arguments (the scanner's, so close() can stop it). */
  readonly spawn: (args: readonly string[], stdout: 'capture' | 'stream') => Promise<AideRunning>
  readonly log: Logger
  /** Worker threads for the measured way (default: one per core). */
  readonly workers?: number
  /** Called once the tree is read, for the report's times. */
  readonly meta: () => DiffMeta
}

export interface FastCheckRun {
  /** AIDE's exit: classify it before trusting the diff (a config error ends the walk early). */
  readonly exit: AideExit
  /** Null when AIDE did not finish cleanly (the walk is incomplete). */
  readonly diff: FastDiff | null
  /** Paths Node could not read (AIDE's own warnings are in exit.stderr). */
  readonly unverified: readonly UnverifiedPath[]
  readonly how: 'measured' | 'aide-init'
}

/** The aide.conf digest the baseline index records (which rules it was taken with). */
export const confDigest = (conf: string): string => createHash('sha256').update(conf).digest('hex')
/** Flags that change what --check reports (moved files, allowed new or removed files): only AIDE applies them. */
const REPORTING_FLAGS: readonly AttributeName[] = ['checkinode', 'allownewfile', 'allowrmfile']

/**
 * Why only `aide --check` can give this check's answer, or null when the fast check gives the
 * same. It reproduces --check for the rules the baseline was taken with (AIDE drops baseline
 * entries no rule selects any more, with a warning), without report_ignore_* / report_force_attrs
 * and without the I, ANF and ARF flags.
 */
export function exactOnly (conf: string, index: BaselineIndex): string | null {
  const taken = index.state()?.confSha256 ?? ''
  if (/^\s*report_(ignore_|force_attrs)/m.test(conf)) return 'aide.conf sets report_ignore_*/report_force_attrs, which only aide --check applies'
  if (taken !== '' && taken !== confDigest(conf)) return 'the AIDE rules changed since the baseline (run "podsec-fim reinit")'
  const sets = index.attrSets()
  const flags = REPORTING_FLAGS.filter(f => sets.some(a => hasAttr(a, BIT[f])))
  return flags.length === 0 ? null : `the rules use ${flags.join(', ')} (I, ANF, ARF), which change what only aide --check reports`
}

function isClean (exit: AideExit): boolean {
  return exit.exitCode === 0 && !exit.stopped
}

/** Why the measured way cannot serve this baseline's rules, or null when it can. */
function measuredBlocker (index: BaselineIndex): string | null {
  if (index.file === null) return 'the state database is in memory, where worker threads cannot read the index'
  const names = new Set(index.attrSets().flatMap(unmeasurable))
  return names.size === 0 ? null : `the rules record ${[...names].join(', ')}, which only AIDE can read`
}

async function measured (o: FastCheckOptions): Promise<FastCheckRun> {
  const aide = await o.spawn(['-c', o.conf, '--dry-init'], 'stream')
  const pool = new MeasurePool(o.index.file as string, o.workers)
  const unverified: UnverifiedPath[] = []
  try {
    const diff = await diffBatches(o.index, measureSelections(readDryInit(aide.stdout as NonNullable<AideRunning['stdout']>), pool, unverified), o.meta)
    const exit = await aide.done
    return { exit, diff: isClean(exit) ? diff : null, unverified, how: 'measured' }
  } catch (err) {
    aide.stop()
    await aide.done
    throw err
  } finally {
    await pool.close()
  }
}

async function viaInit (o: FastCheckOptions): Promise<FastCheckRun> {
  try {
    const aide = await o.spawn(['-c', o.conf, '-B', `database_out=file:${o.scratchDb}`, '--init'], 'capture')
    const exit = await aide.done
    return { exit, diff: isClean(exit) ? await diffAgainstIndex(o.index, o.scratchDb, o.meta) : null, unverified: [], how: 'aide-init' }
  } finally {
    await rm(o.scratchDb, { force: true })
  }
}

/** Runs the fast full check the measured way when the rules allow it, else the aide-init way. */
export async function runFastCheck (o: FastCheckOptions): Promise<FastCheckRun> {
  const blocker = measuredBlocker(o.index)
  if (blocker === null) {
    try {
      return await measured(o)
    } catch (err) {
      // A rule Node cannot honour met only now (new paths), dry-init output we cannot read, or a
      // worker that failed: AIDE can still record the tree, so the check is not lost.
      const why = err instanceof Unmeasurable ? 'measuring in Node is not possible here' : 'measuring in Node failed'
      o.log.warn({ err }, `fast check: ${why}; running aide --init instead`)
    }
  } else {
    o.log.info({ why: blocker }, 'fast check: AIDE records the tree (aide --init), not Node')
  }
  return await viaInit(o)
}

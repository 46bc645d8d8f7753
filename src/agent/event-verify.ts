/**
 * Verifies one path against the baseline index at once, with Node's own lstat and hashing, and
 * decides as AIDE's compare would (aide-db-diff.ts): the path's current state is written as an
 * AIDE database entry with the same attribute set the baseline recorded, minus what Node cannot
 * read. ACLs, xattrs, SELinux contexts, e2fs attributes, capabilities and the digests OpenSSL
 * does not offer (tiger, crc32, haval, gost, whirlpool, stribog) are left to the next full check
 * and named in the result, never claimed as verified.
 */
import { createReadStream } from 'node:fs'
import { lstat, readlink } from 'node:fs/promises'
import type { BigIntStats } from 'node:fs'
import { BIT, DIGESTS, hasAttr, type AttributeName } from './aide-attributes.js'
import type { AideDbEntry } from './aide-db.js'
import { addedEntry, changedAttributes, changedEntry, removedEntry } from './aide-db-diff.js'
import { NODE_DIGESTS, NOT_READABLE, linkField, newHashes, ruleAttr, statFields, wantedDigests } from './aide-entry.js'
import type { ReportEntry } from './aide-report.js'

export { ruleAttr }

const S_IFMT = 0o170000
const S_IFREG = 0o100000
const S_IFLNK = 0o120000

export interface Verification {
  /** The change AIDE would report for this path, or null when there is none. */
  readonly entry: ReportEntry | null
  /** Attributes of the baseline entry this verification could not check (left to the next full check). */
  readonly skipped: readonly string[]
}

async function digests (path: Buffer, names: readonly string[]): Promise<Record<string, string>> {
  const hashes = newHashes(names)
  for await (const chunk of createReadStream(path)) for (const [, h] of hashes) h.update(chunk as Buffer)
  return Object.fromEntries(hashes.map(([n, h]) => [n, h.digest('base64')]))
}

/**
 * The attribute set AIDE would record now: the baseline's (or, when the file type changed, the
 * rule's), minus what does not apply to the new type or Node cannot read.
 */
function currentAttr (base: number, mode: bigint, skipped: string[]): number {
  let attr = base
  const drop = (name: AttributeName, why: 'type' | 'unreadable'): void => {
    if (!hasAttr(attr, BIT[name])) return
    attr -= 2 ** BIT[name]
    if (why === 'unreadable') skipped.push(name)
  }
  for (const name of NOT_READABLE) drop(name, 'unreadable')
  for (const name of DIGESTS) drop(name, (Number(mode) & S_IFMT) !== S_IFREG ? 'type' : NODE_DIGESTS[name] === undefined ? 'unreadable' : 'type')
  if ((Number(mode) & S_IFMT) !== S_IFLNK) drop('linkname', 'type')
  return attr
}

async function currentEntry (path: Buffer, base: number, st: BigIntStats, skipped: string[]): Promise<AideDbEntry> {
  const fields = statFields(st)
  let attr = currentAttr(base, st.mode, skipped)
  if (st.isSymbolicLink()) fields.lname = linkField(await readlink(path, { encoding: 'buffer' }))
  const wanted = wantedDigests(base)
  if (st.isFile() && wanted.length > 0) {
    try {
      Object.assign(fields, await digests(path, wanted))
      for (const n of wanted) attr += 2 ** BIT[n]
    } catch (err) {
      skipped.push(...wanted.map(n => `${n} (${(err as NodeJS.ErrnoException).code ?? 'unreadable'})`))
    }
  }
  return { path, attr, fields }
}

/** aide --path-check: the attribute names of the rule selecting a path of a type, null when none does. */
export type RuleLookup = (path: Buffer, type: string) => Promise<readonly string[] | null>

function typeLetter (st: BigIntStats): string {
  return st.isDirectory() ? 'd' : st.isSymbolicLink() ? 'l' : st.isFIFO() ? 'p' : st.isSocket() ? 's' : st.isBlockDevice() ? 'b' : st.isCharacterDevice() ? 'c' : 'f'
}

/**
 * `old` is the baseline entry (null: not in the baseline). The rule lookup decides whether a path
 * the baseline does not have is selected at all (an excluded file is not "added"), and gives the
 * attribute set when the file type changed (AIDE drops `l` for non-links and digests for
 * non-files, so the baseline's set no longer applies).
 */
export async function verifyPath (path: Buffer, old: AideDbEntry | null, rule: RuleLookup): Promise<Verification> {
  const st = await lstat(path, { bigint: true }).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT' || err.code === 'ENOTDIR') return null
    throw err
  })
  if (st === null) return { entry: old === null ? null : removedEntry(old), skipped: [] }
  const skipped: string[] = []
  if (old === null) {
    const names = await rule(path, typeLetter(st))
    return { entry: names === null ? null : addedEntry(await currentEntry(path, 2 ** BIT.ftype, st, [])), skipped: [] }
  }
  const isSameType = (parseInt(old.fields.perm ?? '0', 8) & S_IFMT) === (Number(st.mode) & S_IFMT)
  const names = isSameType ? null : await rule(path, typeLetter(st))
  const neu = await currentEntry(path, names === null ? old.attr : ruleAttr(names), st, skipped)
  const changed = changedAttributes(old, neu)
  return { entry: changed.size === 0 ? null : changedEntry(old, neu, changed), skipped }
}

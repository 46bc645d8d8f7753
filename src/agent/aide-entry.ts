/**
 * What AIDE 0.18 records for one path, measured with Node instead of AIDE: the database fields of
 * an lstat (as AIDE writes them), the link target, and the digests OpenSSL offers. Used by the
 * fast path (one path at a time, event-verify.ts) and the fast full check (worker threads,
 * measure-worker.ts), so both record exactly what `aide --init` would have.
 *
 * What Node cannot read (ACLs, xattrs, SELinux contexts, e2fs attributes, capabilities) and the
 * digests OpenSSL does not offer (tiger, crc32, crc32b, haval, whirlpool, gost, stribog) are never
 * claimed: callers either leave them to an AIDE run or name them as skipped.
 */
import { createHash, type Hash } from 'node:crypto'
import { closeSync, constants, fstatSync, openSync, readSync, type BigIntStats } from 'node:fs'
import { BIT, DIGESTS, hasAttr, type AttributeName, type DigestName } from './aide-attributes.js'

/** AIDE digest name -> OpenSSL name, for the digests Node can compute. */
export const NODE_DIGESTS: Readonly<Partial<Record<string, string>>> = { md5: 'md5', sha1: 'sha1', sha256: 'sha256', sha512: 'sha512', rmd160: 'ripemd160' }
export const NOT_READABLE: readonly AttributeName[] = ['acl', 'xattrs', 'selinux', 'e2fsattrs', 'capabilities']
const S_IFMT = 0o170000
const S_IFREG = 0o100000
const S_IFLNK = 0o120000
const NS = 1_000_000_000n

/** Attribute bits of `attr` that Node cannot measure (empty: Node can record everything AIDE would). */
export function unmeasurable (attr: number): AttributeName[] {
  const digests = DIGESTS.filter(n => NODE_DIGESTS[n] === undefined)
  return [...NOT_READABLE, ...digests].filter(n => hasAttr(attr, BIT[n]))
}

/** Rule attribute names (as aide-attributes.ts names them) as a bit set, filename included. */
export function ruleAttr (names: readonly string[]): number {
  let attr = 2 ** BIT.filename
  for (const n of new Set(names)) if (n in BIT) attr += 2 ** BIT[n as AttributeName]
  return attr
}

/** AIDE keeps `l` only for links and digests only for regular files (measured); the rest of a rule applies to every type. */
export function attrForType (attr: number, mode: number): number {
  let out = attr
  const drop = (name: AttributeName): void => { if (hasAttr(out, BIT[name])) out -= 2 ** BIT[name] }
  if ((mode & S_IFMT) !== S_IFREG) for (const name of DIGESTS) drop(name)
  if ((mode & S_IFMT) !== S_IFLNK) drop('linkname')
  return out
}

function b64Time (ns: bigint): string {
  // st_*time is the floor of the nanosecond time, also before 1970.
  const seconds = ns / NS - (ns < 0n && ns % NS !== 0n ? 1n : 0n)
  return Buffer.from(String(seconds)).toString('base64')
}

/** The database fields an lstat gives, written as AIDE writes them (bigint: inode numbers above 2^53 stay exact). */
export function statFields (st: BigIntStats): Record<string, string> {
  return {
    perm: st.mode.toString(8), uid: String(st.uid), gid: String(st.gid), size: String(st.size), inode: String(st.ino),
    lcount: String(st.nlink), bcount: String(st.blocks), atime: b64Time(st.atimeNs), mtime: b64Time(st.mtimeNs), ctime: b64Time(st.ctimeNs),
  }
}

/** A lossless link-name field decodeLinkName reads back (not AIDE's exact escaping; only compared decoded). */
export function linkField (target: Buffer): string {
  let out = target[0] === 0x30 ? '0' : ''
  for (const b of target) {
    const isPlain = (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a) || b === 0x2f || b === 0x2e || b === 0x5f || b === 0x2d
    out += isPlain ? String.fromCharCode(b) : '%' + b.toString(16).toUpperCase().padStart(2, '0')
  }
  return out
}

/** The Node-computable digests `attr` names, by AIDE name. */
export function wantedDigests (attr: number): DigestName[] {
  return DIGESTS.filter(n => hasAttr(attr, BIT[n]) && NODE_DIGESTS[n] !== undefined)
}

export function newHashes (names: readonly string[]): Array<readonly [string, Hash]> {
  return names.map(n => [n, createHash(NODE_DIGESTS[n] as string)] as const)
}

export class ChangedWhileReading extends Error {}

const CHUNK = 1 << 20
let chunk: Buffer | null = null

/**
 * Hashes a regular file synchronously (worker threads only). Opened like AIDE opens it: no atime
 * update where the kernel allows it, never through a symlink or into a FIFO swapped in after the
 * lstat; a file that is no longer the one lstat saw is ChangedWhileReading.
 */
export function hashFileSync (path: Buffer, st: BigIntStats, names: readonly string[]): Record<string, string> {
  const flags = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK
  let fd: number
  try {
    fd = openSync(path, flags | constants.O_NOATIME)
  } catch (err) {
    // O_NOATIME is refused (EPERM) on files the user does not own.
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') throw err
    fd = openSync(path, flags)
  }
  try {
    const now = fstatSync(fd, { bigint: true })
    if (!now.isFile() || now.ino !== st.ino || now.dev !== st.dev) throw new ChangedWhileReading('replaced while being read')
    chunk ??= Buffer.allocUnsafe(CHUNK)
    const hashes = newHashes(names)
    for (let n = readSync(fd, chunk, 0, CHUNK, null); n > 0; n = readSync(fd, chunk, 0, CHUNK, null)) {
      const data = chunk.subarray(0, n)
      for (const [, h] of hashes) h.update(data)
    }
    return Object.fromEntries(hashes.map(([n, h]) => [n, h.digest('base64')]))
  } finally {
    closeSync(fd)
  }
}

/** strerror() text for the errors AIDE names in its warnings, so unverified reasons read the same in both modes. */
export function errorReason (err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code
  const known: Readonly<Record<string, string>> = {
    EACCES: 'Permission denied', EPERM: 'Operation not permitted', ENOENT: 'No such file or directory', EIO: 'Input/output error', ELOOP: 'Too many levels of symbolic links', ENXIO: 'No such device or address',
  }
  return code === undefined ? (err as Error).message : known[code] ?? code
}

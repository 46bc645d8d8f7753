/**
 * AIDE 0.18's attribute bits as it writes them in a database's `attr` field, measured with
 * aide 0.18.3 (one rule per attribute, decoding the bit each adds). The per-entry attribute set
 * is what AIDE actually recorded for that entry (a rule's `l` is dropped for non-links, digests
 * for non-files and for files it could not read), and its compare looks only at attributes present
 * in both the old and the new entry. Values above 2^32 are why this uses arithmetic, not `&`.
 */

export const BIT = {
  filename: 0, linkname: 1, perm: 2, uid: 3, gid: 4, size: 5, atime: 6, ctime: 7, mtime: 8, inode: 9,
  bcount: 10, linkcount: 11, md5: 12, sha1: 13, rmd160: 14, tiger: 15, crc32: 16, haval: 17, gost: 18,
  crc32b: 19, attr: 20, acl: 21, sizeg: 26, checkinode: 27, allownewfile: 28, allowrmfile: 29,
  sha256: 30, sha512: 31, selinux: 32, xattrs: 33, whirlpool: 34, ftype: 35, e2fsattrs: 36,
  capabilities: 37, stribog256: 38, stribog512: 39, growing: 40, compressed: 41,
} as const

export type AttributeName = keyof typeof BIT

/** Digests in AIDE's hashsums[] order, the order its reports list them (measured). */
export const DIGESTS = ['md5', 'sha1', 'sha256', 'sha512', 'rmd160', 'tiger', 'crc32', 'crc32b', 'haval', 'whirlpool', 'gost', 'stribog256', 'stribog512'] as const
export type DigestName = typeof DIGESTS[number]

/** `@@db_spec` names of the digest fields (AIDE calls gost `gost` there too). */
export function isDigest (name: string): name is DigestName {
  return (DIGESTS as readonly string[]).includes(name)
}

export function hasAttr (attr: number, bit: number): boolean {
  return Math.floor(attr / 2 ** bit) % 2 === 1
}

/** Bits set in `attr`, lowest first. */
export function attrBits (attr: number): number[] {
  const out: number[] = []
  let rest = attr
  for (let bit = 0; rest > 0 && bit < 53; bit++) {
    if (rest % 2 === 1) out.push(bit)
    rest = Math.floor(rest / 2)
  }
  return out
}

/** The JSON report's attribute names (reference/aide.md §2), keyed by attribute. */
export const REPORT_NAME: Readonly<Partial<Record<AttributeName, string>>> = {
  ftype: 'file_type', linkname: 'link_name', perm: 'perm', uid: 'uid', gid: 'gid', size: 'size', sizeg: 'growing_size',
  bcount: 'block_count', atime: 'access_time', mtime: 'modify_time', ctime: 'change_time', inode: 'inode',
  linkcount: 'link_count', acl: 'acl', xattrs: 'xattrs', selinux: 'selinux', e2fsattrs: 'e2fsattrs',
  capabilities: 'capabilities', md5: 'md5', sha1: 'sha1', sha256: 'sha256', sha512: 'sha512', rmd160: 'rmd160',
  tiger: 'tiger', crc32: 'crc32', crc32b: 'crc32b', haval: 'haval', gost: 'gost', whirlpool: 'whirlpool',
  stribog256: 'stribog256', stribog512: 'stribog512',
}

/** AIDE's report order (report.c report_attrs_order); 'digests' stands for all digests in DIGESTS order. */
export const REPORT_ORDER: ReadonlyArray<AttributeName | 'digests'> = [
  'ftype', 'linkname', 'size', 'bcount', 'perm', 'uid', 'gid', 'atime', 'mtime', 'ctime', 'inode', 'linkcount',
  'digests', 'acl', 'xattrs', 'selinux', 'e2fsattrs', 'capabilities',
]

/** The summary character of each REPORT_ORDER position (position 0 is the file type letter). */
export const SUMMARY_CHAR: readonly string[] = ['!', 'l', '>', 'b', 'p', 'u', 'g', 'a', 'm', 'c', 'i', 'n', 'H', 'A', 'X', 'S', 'E', 'C']

/**
 * The values of an AIDE database entry, decoded from the fields as AIDE wrote them, and shown the
 * way AIDE 0.18's JSON report shows them (perm as `-rw-r--r--`, times as `YYYY-MM-DD HH:MM:SS +0000`
 * in UTC, digests base64), so a fast check stores exactly what an `aide --check` would have.
 */
import type { AttributeName } from './aide-attributes.js'
import { decodeLinkName, type AideDbEntry } from './aide-db.js'
import { decodeAideDbPath, displayPath } from './file-path.js'

/** The database field holding each attribute's value. */
export const FIELD: Readonly<Partial<Record<AttributeName, string>>> = {
  linkname: 'lname', perm: 'perm', uid: 'uid', gid: 'gid', size: 'size', sizeg: 'size', atime: 'atime',
  ctime: 'ctime', mtime: 'mtime', inode: 'inode', bcount: 'bcount', linkcount: 'lcount', acl: 'acl',
  xattrs: 'xattrs', selinux: 'selinux', e2fsattrs: 'e2fsattrs', capabilities: 'capabilities',
}

const S_IFMT = 0o170000
const TYPES: ReadonlyMap<number, readonly [string, string]> = new Map([
  [0o100000, ['f', 'File']], [0o040000, ['d', 'Directory']], [0o120000, ['l', 'Link']], [0o010000, ['p', 'FIFO']],
  [0o060000, ['b', 'Block device']], [0o020000, ['c', 'Character device']], [0o140000, ['s', 'Socket']],
])
const PERM_TYPE: ReadonlyMap<number, string> = new Map([
  [0o100000, '-'], [0o040000, 'd'], [0o120000, 'l'], [0o010000, 'p'], [0o060000, 'b'], [0o020000, 'c'], [0o140000, 's'],
])

export function raw (e: AideDbEntry, field: string): string | null {
  const v = e.fields[field]
  return v === undefined ? null : v
}

export function perm (e: AideDbEntry): number {
  return parseInt(raw(e, 'perm') ?? '0', 8)
}

/** Numeric fields; times decoded from base64 to epoch seconds. */
export function numeric (e: AideDbEntry, field: string): number {
  const v = raw(e, field)
  if (v === null || v === '0') return 0
  if (field.endsWith('time')) return Number(Buffer.from(v, 'base64').toString('latin1'))
  return Number(v)
}

/** AIDE's one-letter file type (the first summary character). */
export function typeChar (e: AideDbEntry): string {
  return TYPES.get(perm(e) & S_IFMT)?.[0] ?? '?'
}

export function fileType (e: AideDbEntry): string {
  return TYPES.get(perm(e) & S_IFMT)?.[1] ?? 'Unknown file type'
}

export function sameFileType (a: AideDbEntry, b: AideDbEntry): boolean {
  return (perm(a) & S_IFMT) === (perm(b) & S_IFMT)
}

/** ls-style mode string, as AIDE's perm_to_char. */
export function permString (mode: number): string {
  const bits = ['r', 'w', 'x', 'r', 'w', 'x', 'r', 'w', 'x'].map((c, i) => (mode & (0o400 >> i)) !== 0 ? c : '-')
  const special = (i: number, flag: number, on: string): void => {
    bits[i] = (mode & flag) !== 0 ? (bits[i] === 'x' ? on : on.toUpperCase()) : (bits[i] as string)
  }
  special(2, 0o4000, 's')
  special(5, 0o2000, 's')
  special(8, 0o1000, 't')
  return (PERM_TYPE.get(mode & S_IFMT) ?? '?') + bits.join('')
}

export function timeString (epochSeconds: number): string {
  const iso = new Date(epochSeconds * 1000).toISOString()
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)} +0000`
}

function base64Text (v: string): string {
  return Buffer.from(v, 'base64').toString('latin1').replace(/\0+$/, '')
}

const PRINTABLE_XATTR = /^[0-9A-Za-z.\-_:;,[\]{}<>()!@#$%^&*|\\/?~]*$/

function xattrLines (v: string): string[] {
  const parts = v.split(',')
  const count = Number(parts[0])
  const width = Math.max(0, Math.floor(Math.log10(count)))
  const lines = [`num=${count}`]
  for (let i = 0; i < count; i++) {
    const key = decodeAideDbPath(parts[1 + 2 * i] ?? '').toString('latin1')
    const b64 = parts[2 + 2 * i] ?? ''
    const value = Buffer.from(b64, 'base64').toString('latin1')
    const text = value.endsWith('\0') ? value.slice(0, -1) : value
    const n = String(i + 1).padStart(width, '0')
    lines.push(PRINTABLE_XATTR.test(text) ? `[${n}] ${key} = ${text}` : `[${n}] ${key} <=> ${b64}`)
  }
  return lines
}

function aclLines (v: string): string[] {
  const [, access = '0', dflt = '0'] = v.split(',')
  const lines = (b64: string, tag: string): string[] => b64 === '0'
    ? []
    : Buffer.from(b64, 'base64').toString('latin1').split('\n').filter(l => l !== '').map(l => `${tag}: ${l}`)
  return [...lines(access, 'A'), ...lines(dflt, 'D')]
}

/** One attribute's value as the JSON report gives it; undefined when the entry has none (AIDE omits it). */
export function reportValue (e: AideDbEntry, name: AttributeName, isDigestName: boolean): string | number | undefined {
  if (name === 'ftype') return fileType(e)
  if (name === 'perm') return permString(perm(e))
  const field = isDigestName ? name : FIELD[name]
  const v = field === undefined ? null : raw(e, field)
  if (v === null) return undefined
  if (isDigestName) return v === '0' ? undefined : v
  if (name === 'linkname') {
    const target = decodeLinkName(v)
    return target === null ? undefined : displayPath(target)
  }
  if (name === 'atime' || name === 'mtime' || name === 'ctime') return timeString(numeric(e, name))
  if (name === 'acl') return v === '0' ? undefined : aclLines(v).join('\n')
  if (name === 'xattrs') return (v === '0' ? ['num=0'] : xattrLines(v)).join('\n')
  if (name === 'selinux' || name === 'capabilities') return v === '0' ? undefined : displayPath(Buffer.from(base64Text(v), 'latin1'))
  return Number(v)
}

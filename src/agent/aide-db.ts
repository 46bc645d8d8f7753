/**
 * Streaming reader for AIDE 0.18's database (the file `aide --init` writes): gzip or plain text,
 * `@@begin_db`, `#` comment lines, `@@db_spec` naming the fields, one space-separated line per
 * entry, `@@end_db`. Paths use AIDE's lossless %XX escaping; times are base64 of decimal epoch
 * seconds; digests, SELinux contexts and capabilities are base64; `0` stands for "none".
 * Lines are read one at a time (bounded memory whatever the database size), and every line is
 * checked against what AIDE writes, so a damaged database fails with the line number instead of
 * being read as "everything added" the way AIDE itself reads it.
 */
import { createReadStream } from 'node:fs'
import { open } from 'node:fs/promises'
import { createInterface } from 'node:readline'
import type { Readable } from 'node:stream'
import { createGunzip } from 'node:zlib'
import { AideError } from '../core/errors.js'
import { isDigest } from './aide-attributes.js'
import { decodeAideDbPath } from './file-path.js'

export interface AideDbEntry {
  readonly path: Buffer
  /** The attributes AIDE recorded for this entry (a bit set, see aide-attributes.ts). */
  readonly attr: number
  /** The other fields exactly as AIDE wrote them, keyed by their `@@db_spec` name. */
  readonly fields: Readonly<Record<string, string>>
}

export interface AideDbHeader {
  readonly spec: readonly string[]
}

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/
const DECIMAL = /^[0-9]{1,20}$/
const NUMERIC_FIELDS = new Set(['uid', 'gid', 'size', 'inode', 'lcount', 'bcount', 'e2fsattrs'])
const TIME_FIELDS = new Set(['atime', 'ctime', 'mtime'])

function invalid (file: string, lineNo: number, message: string, cause?: unknown): AideError {
  return new AideError('PFIM_AIDE_REPORT_INVALID', `AIDE database ${file} line ${lineNo}: ${message}`, { where: `${file}:${lineNo}`, cause })
}

/** Why `value` is not what AIDE writes for field `name`, or null when it is. */
function fieldProblem (name: string, value: string): string | null {
  if (name === 'perm') return /^[0-7]{1,7}$/.test(value) ? null : 'is not an octal mode'
  if (NUMERIC_FIELDS.has(name)) return DECIMAL.test(value) ? null : 'is not a decimal number'
  if (name === 'attr') return DECIMAL.test(value) && Number.isSafeInteger(Number(value)) ? null : 'is not an attribute set'
  if (TIME_FIELDS.has(name)) {
    if (value === '0') return null
    return BASE64.test(value) && DECIMAL.test(Buffer.from(value, 'base64').toString('latin1')) ? null : 'is not a base64 epoch time'
  }
  if (isDigest(name) || name === 'selinux' || name === 'capabilities') return value === '0' || BASE64.test(value) ? null : 'is not base64'
  if (name === 'acl') return /^(0|POSIX,[A-Za-z0-9+/=]+,[A-Za-z0-9+/=]+)$/.test(value) ? null : 'is not an AIDE ACL field'
  if (name === 'xattrs') return xattrsProblem(value)
  return null
}

function xattrsProblem (value: string): string | null {
  if (value === '0') return null
  const parts = value.split(',')
  const count = Number(parts[0])
  if (!DECIMAL.test(parts[0] ?? '') || parts.length !== 1 + 2 * count) return 'is not an AIDE xattrs field'
  return parts.slice(1).every((p, i) => i % 2 === 1 ? BASE64.test(p) : p.length > 0) ? null : 'is not an AIDE xattrs field'
}

/** A link name as AIDE writes it: `0` is none, a leading `0` is doubled, the rest is %XX-escaped. */
export function decodeLinkName (value: string): Buffer | null {
  if (value === '0') return null
  return decodeAideDbPath(value.startsWith('0') ? value.slice(1) : value)
}

function parseEntry (spec: readonly string[], line: string, file: string, lineNo: number): AideDbEntry {
  const values = line.split(' ')
  // AIDE ends every entry line with a space after the last field only in @@db_spec; tolerate neither.
  if (values.length !== spec.length) throw invalid(file, lineNo, `has ${values.length} fields, @@db_spec names ${spec.length}`)
  const fields: Record<string, string> = {}
  let path: Buffer | null = null
  let attr = -1
  for (let i = 0; i < spec.length; i++) {
    const name = spec[i] as string
    const value = values[i] as string
    const problem = value === '' ? 'is empty' : fieldProblem(name, value)
    if (problem !== null) throw invalid(file, lineNo, `field ${name} (${JSON.stringify(value.slice(0, 40))}) ${problem}`)
    try {
      if (name === 'name') path = decodeAideDbPath(value)
      else if (name === 'lname') decodeLinkName(value)
    } catch (err) {
      throw invalid(file, lineNo, `field ${name}: ${(err as Error).message}`, err)
    }
    if (name === 'attr') attr = Number(value)
    else if (name !== 'name') Object.defineProperty(fields, name, { value, enumerable: true })
  }
  return { path: path as Buffer, attr, fields }
}

function parseSpec (line: string, file: string, lineNo: number): string[] {
  const spec = line.slice('@@db_spec'.length).trim().split(/ +/)
  for (const needed of ['name', 'attr']) {
    if (!spec.includes(needed)) throw invalid(file, lineNo, `@@db_spec has no "${needed}" field`)
  }
  if (new Set(spec).size !== spec.length) throw invalid(file, lineNo, '@@db_spec names a field twice')
  return spec
}

async function isGzip (file: string): Promise<boolean> {
  const fh = await open(file, 'r')
  try {
    const { buffer, bytesRead } = await fh.read(Buffer.alloc(2), 0, 2, 0)
    return bytesRead === 2 && buffer[0] === 0x1f && buffer[1] === 0x8b
  } finally {
    await fh.close()
  }
}

async function openText (file: string): Promise<Readable> {
  const source = createReadStream(file)
  if (!(await isGzip(file))) return source.setEncoding('latin1')
  const gunzip = createGunzip()
  source.once('error', err => gunzip.destroy(err))
  return source.pipe(gunzip).setEncoding('latin1')
}

interface ReadState { spec: string[] | null, begun: boolean, ended: boolean, lineNo: number, specSent: boolean }

function readHeaderLine (state: ReadState, line: string, file: string): boolean {
  if (!state.begun) {
    if (line !== '@@begin_db') throw invalid(file, state.lineNo, `expected @@begin_db, found ${JSON.stringify(line.slice(0, 40))}`)
    state.begun = true
    return true
  }
  if (line.startsWith('#')) return true
  if (line.startsWith('@@db_spec')) {
    if (state.spec !== null) throw invalid(file, state.lineNo, 'a second @@db_spec')
    state.spec = parseSpec(line, file, state.lineNo)
    return true
  }
  if (line === '@@end_db') {
    state.ended = true
    return true
  }
  if (line.startsWith('@@')) throw invalid(file, state.lineNo, `unknown directive ${JSON.stringify(line.slice(0, 40))}`)
  return false
}

/**
 * Yields the entries of an AIDE database in file order. Throws PFIM_AIDE_REPORT_INVALID naming
 * the line for anything AIDE would not have written, including a missing @@end_db (a truncated file).
 */
export async function * readAideDb (file: string, onSpec?: (spec: readonly string[]) => void): AsyncGenerator<AideDbEntry, void, undefined> {
  const state: ReadState = { spec: null, begun: false, ended: false, lineNo: 0, specSent: false }
  const lines = createInterface({ input: await openText(file), crlfDelay: Infinity })
  try {
    for await (const raw of lines) {
      state.lineNo++
      const line = raw.endsWith(' ') && raw.startsWith('@@db_spec') ? raw.trimEnd() : raw
      if (state.ended) {
        if (line !== '') throw invalid(file, state.lineNo, 'data after @@end_db')
        continue
      }
      if (readHeaderLine(state, line, file)) {
        if (state.spec !== null && !state.specSent) onSpec?.(state.spec)
        state.specSent = state.spec !== null
        continue
      }
      if (state.spec === null) throw invalid(file, state.lineNo, 'an entry before @@db_spec')
      yield parseEntry(state.spec, line, file, state.lineNo)
    }
  } catch (err) {
    if (err instanceof AideError) throw err
    throw invalid(file, state.lineNo + 1, `cannot be read: ${(err as Error).message}`, err)
  } finally {
    lines.close()
  }
  if (!state.begun) throw invalid(file, 1, 'the database is empty (no @@begin_db)')
  if (!state.ended) throw invalid(file, state.lineNo, 'missing @@end_db (the database is truncated)')
}

/**
 * File paths are bytes. Linux allows every byte but NUL and '/' in a name, so a path may hold
 * newlines, terminal escapes or invalid UTF-8. This module turns such bytes into one printable,
 * unambiguous line for logs and reports (displayPath), and undoes the two escapings AIDE uses:
 * the lossless %XX escaping of its database and the `\ooo` escaping of its plain report.
 */
import { AideError } from '../core/errors.js'

const BACKSLASH = 0x5c
const NAMED_ESCAPES: ReadonlyMap<number, string> = new Map([
  [0x0a, '\\n'], [0x09, '\\t'], [0x0d, '\\r'],
])

/**
 * Code points that are valid UTF-8 but must not reach a terminal or a log line raw:
 * C1 controls, line/paragraph separators and bidi overrides (which can make one name look
 * like another). Their bytes are shown as \xNN like any other unsafe byte.
 */
const UNSAFE_CODE_POINT = /[\p{Cc}\p{Zl}\p{Zp}\p{Bidi_Control}]/u

function hexByte (b: number): string {
  return '\\x' + b.toString(16).padStart(2, '0')
}

function isContinuation (b: number | undefined): boolean {
  return b !== undefined && b >= 0x80 && b <= 0xbf
}

/** Byte range the second byte must fall in for a lead byte (rejects overlongs, surrogates, > U+10FFFF). */
function secondByteRange (lead: number): [number, number] {
  if (lead === 0xe0) return [0xa0, 0xbf]
  if (lead === 0xed) return [0x80, 0x9f]
  if (lead === 0xf0) return [0x90, 0xbf]
  if (lead === 0xf4) return [0x80, 0x8f]
  return [0x80, 0xbf]
}

/** Length of the well-formed UTF-8 sequence starting at `i`, or 0 when it is not well formed. */
function utf8SequenceLength (p: Buffer, i: number): number {
  const lead = p[i] ?? 0
  let len = 0
  if (lead >= 0xc2 && lead <= 0xdf) len = 2
  else if (lead >= 0xe0 && lead <= 0xef) len = 3
  else if (lead >= 0xf0 && lead <= 0xf4) len = 4
  else return 0
  if (i + len > p.length) return 0
  const [lo, hi] = secondByteRange(lead)
  const second = p[i + 1] ?? 0
  if (second < lo || second > hi) return 0
  for (let k = 2; k < len; k++) {
    if (!isContinuation(p[i + k])) return 0
  }
  return len
}

/** Renders one multi-byte sequence: the character itself, or its bytes escaped when unsafe. */
function renderSequence (p: Buffer, start: number, len: number): string {
  const text = p.toString('utf8', start, start + len)
  if (!UNSAFE_CODE_POINT.test(text)) return text
  let out = ''
  for (let k = start; k < start + len; k++) out += hexByte(p[k] ?? 0)
  return out
}

function renderAscii (b: number): string {
  if (b === BACKSLASH) return '\\\\'
  if (b >= 0x20 && b < 0x7f) return String.fromCharCode(b)
  return NAMED_ESCAPES.get(b) ?? hexByte(b)
}

/**
 * One printable line for raw path bytes. Valid printable UTF-8 is kept; `\` is doubled so that
 * every other backslash in the output starts an escape; `\n \t \r` are named; other controls,
 * DEL and each byte of an invalid UTF-8 sequence become `\xNN`. Distinct inputs give distinct outputs.
 */
export function displayPath (p: Buffer): string {
  let out = ''
  let i = 0
  while (i < p.length) {
    const b = p[i] ?? 0
    if (b < 0x80) {
      out += renderAscii(b)
      i++
      continue
    }
    const len = utf8SequenceLength(p, i)
    if (len === 0) {
      out += hexByte(b)
      i++
      continue
    }
    out += renderSequence(p, i, len)
    i += len
  }
  return out
}

/** True when displayPath(p) would escape nothing, i.e. the path can be shown as plain UTF-8. */
export function isPlainPath (p: Buffer): boolean {
  let isAscii = true
  for (const b of p) {
    if (b < 0x20 || b === 0x7f || b === BACKSLASH) return false
    if (b >= 0x80) isAscii = false
  }
  // Non-ASCII needs the full UTF-8 and code-point checks; reuse them rather than duplicate.
  return isAscii || displayPath(p) === p.toString('utf8')
}

function hexValue (c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30
  if (c >= 0x41 && c <= 0x46) return c - 0x41 + 10
  if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10
  return -1
}

/**
 * Decodes a path field of the AIDE database (`with%20space`, `bad%FFbyte`) to its bytes.
 * AIDE escapes every byte outside printable ASCII, so a raw space, control or non-ASCII
 * character means the field is not what AIDE wrote; so does a `%` without two hex digits.
 */
export function decodeAideDbPath (s: string): Buffer {
  const out = Buffer.alloc(s.length)
  let n = 0
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c <= 0x20 || c >= 0x7f) {
      throw new AideError('PFIM_AIDE_REPORT_INVALID',
        `unescaped character U+${c.toString(16).padStart(4, '0')} in AIDE database path`, { where: `offset ${i}` })
    }
    if (c !== 0x25) {
      out[n++] = c
      continue
    }
    const hi = hexValue(s.charCodeAt(i + 1))
    const lo = hexValue(s.charCodeAt(i + 2))
    if (hi < 0 || lo < 0) {
      throw new AideError('PFIM_AIDE_REPORT_INVALID',
        `malformed %-escape ${JSON.stringify(s.slice(i, i + 3))} in AIDE database path`, { where: `offset ${i}` })
    }
    out[n++] = hi * 16 + lo
    i += 2
  }
  return out.subarray(0, n)
}

function isOctalDigit (b: number | undefined): boolean {
  return b !== undefined && b >= 0x30 && b <= 0x37
}

/**
 * Decodes a path as AIDE 0.18 prints it in a plain report: controls and DEL as `\ooo`, a literal
 * backslash before three digits as `\134`, bytes >= 0x80 raw. Any other backslash is literal, and
 * so is `\4xx`..`\7xx`, which is above 0xff and therefore never an AIDE escape.
 */
export function decodeAidePlainPath (s: Buffer): Buffer {
  const out = Buffer.alloc(s.length)
  let n = 0
  for (let i = 0; i < s.length; i++) {
    const b = s[i] ?? 0
    const d0 = s[i + 1]
    if (b === BACKSLASH && isOctalDigit(d0) && (d0 ?? 0) <= 0x33 &&
        isOctalDigit(s[i + 2]) && isOctalDigit(s[i + 3])) {
      out[n++] = parseInt(s.toString('latin1', i + 1, i + 4), 8)
      i += 3
      continue
    }
    out[n++] = b
  }
  return out.subarray(0, n)
}

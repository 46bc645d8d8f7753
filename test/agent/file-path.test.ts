import { readFileSync } from 'node:fs'
import { gunzipSync } from 'node:zlib'
import t from 'tap'
import { decodeAideDbPath, decodeAidePlainPath, displayPath, isPlainPath } from '../../src/agent/file-path.js'

const FIXTURES = new URL('../fixtures/aide/', import.meta.url)
const ODD_NAMES = readFileSync(new URL('odd-names.hex', FIXTURES), 'latin1').trim().split('\n')
  .map((hex) => Buffer.from(hex, 'hex'))
const bytes = (...parts: Array<string | number[]>): Buffer =>
  Buffer.concat(parts.map((p) => typeof p === 'string' ? Buffer.from(p, 'utf8') : Buffer.from(p)))

/** Test-side inverse of displayPath: if it always round-trips, displayPath is unambiguous. */
function undisplay (s: string): Buffer {
  const out: Buffer[] = []
  for (let i = 0; i < s.length; i++) {
    const c = s[i] ?? ''
    if (c !== '\\') {
      const cp = s.codePointAt(i) ?? 0
      out.push(Buffer.from(String.fromCodePoint(cp), 'utf8'))
      if (cp > 0xffff) i++
      continue
    }
    const e = s[++i]
    if (e === 'x') {
      out.push(Buffer.from([parseInt(s.slice(i + 1, i + 3), 16)]))
      i += 2
    } else {
      out.push(Buffer.from(({ n: '\n', t: '\t', r: '\r', '\\': '\\' } as Record<string, string>)[e ?? ''] ?? 'BAD'))
    }
  }
  return Buffer.concat(out)
}

/** Deterministic pseudo-random buffers, biased towards the interesting bytes. */
function * randomBuffers (count: number): Generator<Buffer> {
  let seed = 0x2545f491
  const next = (): number => { seed = (seed * 1103515245 + 12345) >>> 0; return seed >>> 16 }
  const interesting = [0x00, 0x09, 0x0a, 0x0d, 0x1b, 0x1f, 0x20, 0x5c, 0x78, 0x7f, 0x80, 0x85, 0xbf, 0xc2, 0xc3,
    0xe2, 0xed, 0xef, 0xf0, 0xf4, 0xf5, 0xff]
  for (let n = 0; n < count; n++) {
    const len = next() % 12
    yield Buffer.from(Array.from({ length: len }, () => next() % 3 === 0 ? next() % 256 : interesting[next() % interesting.length] ?? 0))
  }
}

t.test('displayPath keeps printable UTF-8 and escapes everything else', async (t) => {
  const cases: Array<[Buffer, string, string]> = [
    [bytes('/etc/passwd'), '/etc/passwd', 'plain ASCII'],
    [bytes('/srv/with space/ü/日本/😀'), '/srv/with space/ü/日本/😀', 'valid UTF-8, 2 to 4 bytes'],
    [bytes('back\\u0016'), 'back\\\\u0016', 'a literal backslash is doubled'],
    [bytes('a\nb\tc\rd'), 'a\\nb\\tc\\rd', 'named escapes'],
    [bytes('esc', [0x1b], 'us', [0x1f], 'del', [0x7f], 'nul', [0x00]), 'esc\\x1bus\\x1fdel\\x7fnul\\x00', 'controls and DEL'],
    [bytes('bad', [0xff], 'byte'), 'bad\\xffbyte', 'a byte that is never UTF-8'],
    [bytes([0xe2, 0x82], 'a'), '\\xe2\\x82a', 'a truncated sequence: every byte'],
    [bytes([0xc0, 0xaf]), '\\xc0\\xaf', 'an overlong encoding of /'],
    [bytes([0xed, 0xa0, 0x80]), '\\xed\\xa0\\x80', 'a UTF-16 surrogate'],
    [bytes([0xf4, 0x90, 0x80, 0x80]), '\\xf4\\x90\\x80\\x80', 'above U+10FFFF'],
    [bytes('c1', [0xc2, 0x85]), 'c1\\xc2\\x85', 'a C1 control (NEL), valid UTF-8 but a line break'],
    [bytes('evil', [0xe2, 0x80, 0xae], 'txt.exe'), 'evil\\xe2\\x80\\xaetxt.exe', 'a bidi override'],
    [bytes([0xe2, 0x80, 0xa8]), '\\xe2\\x80\\xa8', 'LINE SEPARATOR'],
  ]
  for (const [input, want, why] of cases) t.equal(displayPath(input), want, why)
})

t.test('displayPath output is one printable line and decodes back to the same bytes', async (t) => {
  const inputs = [...Array.from({ length: 256 }, (_, b) => Buffer.from([b])), ...ODD_NAMES, ...randomBuffers(3000)]
  let bad = 0
  for (const input of inputs) {
    const shown = displayPath(input)
    if (/[\p{Cc}\u2028\u2029\u202a-\u202e\u2066-\u2069]/u.test(shown) || !undisplay(shown).equals(input)) bad++
  }
  t.equal(bad, 0, `all ${inputs.length} inputs render printable and round-trip`)
  t.equal(displayPath(Buffer.alloc(0)), '', 'the empty path')
})

t.test('isPlainPath is true exactly when displayPath escapes nothing', async (t) => {
  t.ok(isPlainPath(bytes('/etc/ssl/certs/ca-certificates.crt')))
  t.ok(isPlainPath(bytes('/srv/ü 日本')))
  for (const name of ODD_NAMES) {
    t.equal(isPlainPath(name), displayPath(name) === name.toString('utf8'), displayPath(name))
  }
  t.notOk(isPlainPath(bytes('back\\slash')), 'a backslash needs escaping')
  t.notOk(isPlainPath(bytes([0xc2, 0x85])), 'a C1 control needs escaping')
  let disagree = 0
  for (const input of randomBuffers(2000)) {
    if (isPlainPath(input) !== (displayPath(input) === input.toString('utf8'))) disagree++
  }
  t.equal(disagree, 0)
})

t.test('decodeAideDbPath undoes the %XX escaping of the AIDE database', async (t) => {
  // Examples from reference/aide.md §6 (AIDE 0.18.3 database lines).
  const cases: Array<[string, Buffer]> = [
    ['/d/with%20space.txt', bytes('/d/with space.txt')],
    ['/d/new%0Aline.txt', bytes('/d/new\nline.txt')],
    ['/d/bad%FFbyte.txt', bytes('/d/bad', [0xff], 'byte.txt')],
    ['/d/pct%2520x.txt', bytes('/d/pct%20x.txt')],
    ['/d/%40at.txt', bytes('/d/@at.txt')],
    ['/d/back%5C123slash.txt', bytes('/d/back\\123slash.txt')],
    ['/d/quote%22q.txt', bytes('/d/quote"q.txt')],
    ['/d/utf8-%C3%A9.txt', bytes('/d/utf8-é.txt')],
    ['/d/lower%c3%a9', bytes('/d/loweré')],
  ]
  for (const [field, want] of cases) t.same(decodeAideDbPath(field), want, field)
})

t.test('decodeAideDbPath recovers every odd name from the recorded database', async (t) => {
  const db = gunzipSync(readFileSync(new URL('aide.db.gz', FIXTURES))).toString('latin1').split('\n')
  const names = db.slice(db.findIndex((l) => l.startsWith('@@db_spec')) + 1, db.indexOf('@@end_db'))
    .map((line) => decodeAideDbPath(line.split(' ')[0] ?? '').toString('hex'))
  for (const name of ODD_NAMES) {
    t.ok(names.includes(bytes('/tree/').toString('hex') + name.toString('hex')), displayPath(name))
  }
})

t.test('decodeAideDbPath rejects what AIDE never writes', async (t) => {
  const bad: Array<[string, string]> = [
    ['/d/bad%', 'offset 6'], ['/d/bad%2', 'offset 6'], ['/d/bad%zz', 'offset 6'], ['/d/bad%2g', 'offset 6'],
    ['/d/raw space', 'offset 6'], ['/d/é', 'offset 3'], ['/d/tab\t', 'offset 6'],
  ]
  for (const [field, where] of bad) {
    t.throws(() => decodeAideDbPath(field), { name: 'AideError', code: 'PFIM_AIDE_REPORT_INVALID', where }, field)
  }
})

t.test('decodeAidePlainPath undoes the \\ooo escaping of the plain report', async (t) => {
  const cases: Array<[Buffer, Buffer, string]> = [
    [bytes('/t/new\\012line'), bytes('/t/new\nline'), 'newline'],
    [bytes('/t/esc\\033x\\177'), bytes('/t/esc', [0x1b], 'x', [0x7f]), 'ESC and DEL'],
    [bytes('/t/back\\134123'), bytes('/t/back\\123'), 'a literal backslash before digits is written \\134'],
    [bytes('/t/back\\u0016'), bytes('/t/back\\u0016'), 'a backslash before a letter stays'],
    [bytes('/t/n\\12'), bytes('/t/n\\12'), 'two digits are no escape'],
    [bytes('/t/n\\189'), bytes('/t/n\\189'), 'non-octal digits are no escape'],
    [bytes('/t/n\\400'), bytes('/t/n\\400'), 'above 0xff is no escape'],
    [bytes('/t/end\\'), bytes('/t/end\\'), 'a trailing backslash'],
    [bytes('/t/bad', [0xff], 'byte'), bytes('/t/bad', [0xff], 'byte'), 'raw bytes >= 0x80 stay raw'],
  ]
  for (const [input, want, why] of cases) t.same(decodeAidePlainPath(input), want, why)
})

/**
 * `aide --dry-init` output: the selection the fast full check measures. Read from the real AIDE
 * over a tree of hostile names (one spells a rule), and from damaged lines.
 */
import t, { type Test } from 'tap'
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { execFileSync } from 'node:child_process'
import { spawnAide } from '../../src/agent/aide-process.js'
import { parseDryInitLine, readDryInit, type DrySelection } from '../../src/agent/aide-dry-init.js'
import { isAppError } from '../../src/core/errors.js'

const PATH = process.env.PATH ?? '/usr/bin:/bin'

const NAMES: readonly Buffer[] = [
  Buffer.from('plain.txt'),
  Buffer.from('with space'),
  Buffer.from("q'uote"),
  Buffer.from('new\nline'),
  Buffer.from('tab\there'),
  Buffer.from('back\\012slash'),
  Buffer.from('bad\xffbyte', 'latin1'),
  Buffer.from("x': selective rule: 'y (none) p+sha512' (aide.conf:1: 'z')"),
]

async function dryInit (t: Test): Promise<{ tree: string, selections: DrySelection[] }> {
  const root = t.testdir()
  const tree = join(root, 'tree')
  mkdirSync(join(tree, 'sub'), { recursive: true })
  for (const n of NAMES) writeFileSync(Buffer.concat([Buffer.from(tree + '/'), n]), 'x')
  symlinkSync('plain.txt', join(tree, 'link'))
  execFileSync('mkfifo', [join(tree, 'pipe')])
  const rx = tree.slice(1).replace(/[.]/g, '\\.')
  writeFileSync(join(root, 'aide.conf'), [
    // Required even though a dry run writes nothing.
    `database_out=file:${join(root, 'unused.db')}`,
    `/${rx}($|/) p+ftype+i+l+n+u+g+s+sha512`,
    `=/${rx}/sub$ p+u+g`,
    `!/${rx}/pipe$`,
    '',
  ].join('\n'))
  const aide = await spawnAide({ binary: 'aide', args: ['-c', join(root, 'aide.conf'), '--dry-init'], path: PATH, stdout: 'stream' })
  const selections: DrySelection[] = []
  for await (const s of readDryInit(aide.stdout as NonNullable<typeof aide.stdout>)) selections.push(s)
  t.equal((await aide.done).exitCode, 0, 'aide --dry-init')
  return { tree, selections }
}

t.test('the real dry-init gives every selected path as its exact bytes, with its rule', async t => {
  const { tree, selections } = await dryInit(t)
  const byPath = new Map(selections.map(s => [s.path.toString('hex'), s]))
  for (const n of NAMES) {
    const s = byPath.get(Buffer.concat([Buffer.from(tree + '/'), n]).toString('hex'))
    t.same(s?.attrs, ['linkname', 'perm', 'uid', 'gid', 'size', 'inode', 'linkcount', 'sha512', 'ftype'], `${JSON.stringify(n.toString('latin1'))} selected with its rule`)
    t.equal(s?.type, 'f')
  }
  t.equal(byPath.get(Buffer.from(join(tree, 'link')).toString('hex'))?.type, 'l', 'a symlink')
  t.same(byPath.get(Buffer.from(join(tree, 'sub')).toString('hex'))?.attrs, ['perm', 'uid', 'gid'], 'an equal rule')
  t.notOk(byPath.has(Buffer.from(join(tree, 'pipe')).toString('hex')), 'a negative rule selects nothing')
  t.equal(selections.length, NAMES.length + 3, 'the tree, its files, the link and sub; nothing above the tree')
})

function code (fn: () => unknown): string | undefined {
  try {
    fn()
  } catch (err) {
    return isAppError(err) ? `${err.code} ${err.message}` : `untyped ${(err as Error).message}`
  }
  return undefined
}

t.test('lines that are not what AIDE prints are typed errors naming the line', async t => {
  const rule = "selective rule: '/x($|/) (none) p+u' (a.conf:3: '/x($|/) p+u')"
  t.same(parseDryInitLine(`[X] f '/x/a': ${rule}`, 1), { path: Buffer.from('/x/a'), type: 'f', attrs: ['perm', 'uid'] })
  t.equal(parseDryInitLine("[ ] d '/': no matching rule", 1), null, 'not selected')
  const cases: ReadonlyArray<[string, RegExp]> = [
    ['garbage', /line 7: not a "\[X\] t 'path'" line/],
    ["[X] f '/x/a': no matching rule", /line 7: a selected path without its rule/],
    ["[X] f '/x/a': selective rule: '/x($|/) (none)' (a.conf:3: '/x')", /line 7: the rule has no attribute list/],
    ["[X] f '/x/a': selective rule: '/x($|/) (none) p+blake3' (a.conf:3: '/x')", /line 7: unknown attribute "blake3"/],
    ["[X] f '/x/a': selective rule: '/x($|/) (none) p+u' (truncated", /line 7: the rule has no attribute list/],
    ['', /line 7: not a/],
  ]
  for (const [line, message] of cases) {
    const got = code(() => parseDryInitLine(line, 7))
    t.match(got, /^PFIM_AIDE_REPORT_INVALID /, `${JSON.stringify(line)}: typed`)
    t.match(got, message, `${JSON.stringify(line)}: says why`)
  }
})

t.test('control bytes come back from \\ooo; a backslash not followed by an octal byte is itself', async t => {
  const s = parseDryInitLine("[X] f '/x/a\\012b\\134012c\\d\\': selective rule: '/x (none) p' (a.conf:1: '/x p')", 1)
  t.same(s?.path, Buffer.from('/x/a\nb\\012c\\d\\'))
})

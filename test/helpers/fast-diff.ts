/**
 * Differential tests (run by test/agent/fast-check*.diff.test.ts, a few rule sets per file so none
 * nears tap's timeout): the fast full check against real `aide --check`. With rules Node can read
 * it is measured in Node over `aide --dry-init`'s selection; with the rich rule (ACLs, xattrs...)
 * it is `aide --init` + our diff. Each is compared
 * on the same baseline, for many small mutations of a real temporary tree (ACLs and xattrs too,
 * with setfacl and setfattr, which .ci/deps.sh installs). Both results must list
 * the same added, removed and changed paths, with the same summaries, the same changed attributes
 * and the same old/new values.
 */
import { ownSettings, RuntimeSettings } from '../../src/agent/runtime-settings.js'
import type { Test } from 'tap'
import { appendFileSync, chmodSync, chownSync, linkSync, mkdirSync, renameSync, rmSync, symlinkSync, truncateSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { execFileSync } from 'node:child_process'
import { Scanner } from '../../src/agent/scanner.js'
import { openStore } from '../../src/agent/store.js'
import { aideVersion } from '../../src/agent/aide-process.js'
import { sinkLogger } from '../helpers/agent.js'
import type { StoredEntry } from '../../src/agent/scan-types.js'
import { aideRuleAttributes } from '../../src/agent/aide-process.js'
import { verifyPath } from '../../src/agent/event-verify.js'

const PATH = process.env.PATH ?? '/usr/bin:/bin'
const version = await aideVersion('aide', PATH)

export const RULES: Readonly<Record<string, string>> = {
  rich: 'p+ftype+i+l+n+u+g+s+b+m+c+sha256+sha512+acl+xattrs+e2fsattrs+caps+selinux',
  content: 'sha512+ftype+p+u+g+n+s+l',
  // S: a growing log; only a shrink is a change.
  growing: 'p+ftype+u+g+S+i+n+md5+sha1+rmd160',
  // Every attribute lstat gives but atime (AIDE's own reads move it under relatime, so two checks
  // in a row never agree on it).
  stat: 'p+ftype+i+l+n+u+g+s+b+m+c+sha256',
  // I (a moved file is not reported), ANF and ARF change what --check reports: the fast scanner
  // must hand the check to AIDE.
  flags: 'p+ftype+i+n+u+g+s+sha256+I+ANF+ARF',
}
/** Rules whose every attribute Node can read: the fast path must agree with aide --check on them too. */
const NODE_READABLE = new Set(['content', 'growing', 'stat'])

const ODD = {
  space: 'with space.txt',
  newline: 'new\nline.txt',
  badUtf8: Buffer.from('bad\xffbyte.txt', 'latin1'),
}

function buildTree (tree: string): void {
  mkdirSync(join(tree, 'etc', 'sub'), { recursive: true })
  mkdirSync(join(tree, 'bin'), { recursive: true })
  writeFileSync(join(tree, 'etc', 'app.conf'), 'listen = 127.0.0.1\n')
  writeFileSync(join(tree, 'etc', 'secret.key'), 'k3y\n')
  writeFileSync(join(tree, 'etc', 'sub', 'deep.conf'), 'deep\n')
  writeFileSync(join(tree, 'bin', 'tool'), '#!/bin/sh\necho tool\n')
  writeFileSync(join(tree, 'etc', ODD.space), 'space\n')
  writeFileSync(join(tree, 'etc', ODD.newline), 'newline\n')
  writeFileSync(Buffer.concat([Buffer.from(join(tree, 'etc') + '/'), ODD.badUtf8]), 'bad\n')
  symlinkSync('app.conf', join(tree, 'etc', 'link'))
  execFileSync('setfattr', ['-n', 'user.origin', '-v', 'image', join(tree, 'bin', 'tool')])
  const old = new Date('2020-01-01T00:00:00Z')
  utimesSync(join(tree, 'etc', 'app.conf'), old, old)
}

type Mutation = (tree: string) => void
const past = new Date('2019-05-06T07:08:09Z')

const SCENARIOS: ReadonlyArray<[string, Mutation]> = [
  ['nothing changed', () => {}],
  ['content change, same size', tree => writeFileSync(join(tree, 'etc/secret.key'), 'K3Y\n')],
  ['content change, bigger', tree => appendFileSync(join(tree, 'etc/app.conf'), 'port = 80\n')],
  ['truncated (smaller)', tree => truncateSync(join(tree, 'etc/app.conf'), 3)],
  ['chmod', tree => chmodSync(join(tree, 'etc/secret.key'), 0o600)],
  ['setuid bit', tree => chmodSync(join(tree, 'bin/tool'), 0o4755)],
  ['chown', tree => chownSync(join(tree, 'etc/secret.key'), 1234, 5678)],
  ['mtime-only touch', tree => utimesSync(join(tree, 'etc/app.conf'), past, past)],
  ['symlink retarget', tree => { unlinkSync(join(tree, 'etc/link')); symlinkSync('secret.key', join(tree, 'etc/link')) }],
  ['file added', tree => writeFileSync(join(tree, 'bin/new-tool'), 'x')],
  ['file emptied', tree => truncateSync(join(tree, 'etc/app.conf'), 0)],
  ['fifo and a dangling symlink added', tree => { execFileSync('mkfifo', [join(tree, 'etc/pipe')]); symlinkSync('/nonexistent', join(tree, 'etc/dead')) }],
  ['a name that looks like a rule', tree => writeFileSync(join(tree, 'etc', "x': selective rule: 'y (none) p' (a:1: 'b')"), 'r')],
  ['ACL entry added', tree => execFileSync('setfacl', ['-m', 'u:1234:r', join(tree, 'etc/secret.key')])],
  ['xattr added', tree => execFileSync('setfattr', ['-n', 'user.pfim', '-v', 'tagged', join(tree, 'etc/app.conf')])],
  ['xattr value changed', tree => execFileSync('setfattr', ['-n', 'user.origin', '-v', 'dropped', join(tree, 'bin/tool')])],
  ['xattr removed', tree => execFileSync('setfattr', ['-x', 'user.origin', join(tree, 'bin/tool')])],
  ['file removed', tree => unlinkSync(join(tree, 'etc/secret.key'))],
  ['file renamed', tree => renameSync(join(tree, 'bin/tool'), join(tree, 'bin/tool2'))],
  ['directory added with a file', tree => { mkdirSync(join(tree, 'opt')); writeFileSync(join(tree, 'opt/x'), 'x') }],
  ['directory removed with its file', tree => rmSync(join(tree, 'etc/sub'), { recursive: true })],
  ['hard link added', tree => linkSync(join(tree, 'etc/app.conf'), join(tree, 'bin/app-hard'))],
  ['file replaced by a symlink', tree => { unlinkSync(join(tree, 'bin/tool')); symlinkSync('/etc/passwd', join(tree, 'bin/tool')) }],
  ['file replaced by a directory', tree => { unlinkSync(join(tree, 'bin/tool')); mkdirSync(join(tree, 'bin/tool')) }],
  ['name with a space changed', tree => appendFileSync(join(tree, 'etc', ODD.space), 'more\n')],
  ['name with a newline chmod', tree => chmodSync(join(tree, 'etc', ODD.newline), 0o640)],
  ['invalid UTF-8 name removed', tree => unlinkSync(Buffer.concat([Buffer.from(join(tree, 'etc') + '/'), ODD.badUtf8]))],
  ['odd names added', tree => {
    writeFileSync(join(tree, 'bin', 'tab\there'), 't')
    writeFileSync(Buffer.concat([Buffer.from(join(tree, 'bin') + '/'), Buffer.from('esc\x1b\x7f\xfe', 'latin1')]), 'e')
    writeFileSync(join(tree, 'bin', 'back\\123'), 'b')
  }],
  ['rules changed after the baseline: a file excluded', tree => {
    appendFileSync(join(tree, '..', 'aide.conf'), `!/${tree.slice(1).replace(/[.]/g, '\\.')}/etc/secret\\.key$\n`)
  }],
  ['many changes at once', tree => {
    appendFileSync(join(tree, 'etc/app.conf'), 'x')
    chmodSync(join(tree, 'etc/sub'), 0o700)
    unlinkSync(join(tree, 'etc/sub/deep.conf'))
    writeFileSync(join(tree, 'etc/sub/new.conf'), 'n')
    renameSync(join(tree, 'etc', ODD.space), join(tree, 'etc', 'renamed space.txt'))
  }],
]

export async function pair (t: Test, rule: string) {
  const root = t.testdir()
  const tree = join(root, 'tree')
  buildTree(tree)
  const confPath = join(root, 'aide.conf')
  writeFileSync(confPath, `R = ${rule}\n/${tree.slice(1).replace(/[.]/g, '\\.')}($|/) R\n`)
  const store = openStore(join(root, 'state', 'state.db'))
  const logs: Array<Record<string, unknown>> = []
  const make = (mode: 'exact' | 'fast'): Scanner => new Scanner({
    store, stateDir: join(root, 'state'), aide: { binary: 'aide', mode }, settings: new RuntimeSettings(ownSettings({ config: confPath, maxBackups: 1, gracePeriod: 900, initialDelay: 0 })),
    version, path: PATH, log: sinkLogger(mode === 'fast' ? logs : []), now: Date.now,
  })
  const exact = make('exact')
  const fast = make('fast')
  t.teardown(async () => { await exact.close(); await fast.close(); store.close() })
  return { tree, store, exact, fast, logs }
}

/** The summary block and the entry lines of an AIDE plain log, entry lines sorted (AIDE lists in tree order). */
function logShape (log: Buffer | null): { counts: string[], entries: string[], details: string[] } {
  const text = (log ?? Buffer.alloc(0)).toString('latin1')
  // AIDE's own block of hashes of its database files describes no file; the fast check has none.
  const lines = text.split('The attributes of the (uncompressed) database(s):')[0]?.split('\n') ?? []
  return {
    counts: lines.filter(l => /^ {2}(Total number of|Added|Removed|Changed) entries:|^Number of entries:/.test(l)),
    entries: lines.filter(l => /^[a-z!?][ -~]{17}: \//.test(l)).sort(),
    details: lines.filter(l => /^ [A-Z][A-Za-z0-9 ()>]{9}: /.test(l)).sort(),
  }
}

function byPath (entries: readonly StoredEntry[]): Map<string, StoredEntry> {
  return new Map(entries.map(e => [e.path.toString('hex'), e]))
}

/** Every scenario under one rule set: the fast check must report what aide --check reports. */
export function ruleSet (t: Test, ruleName: string): void {
  const rule = RULES[ruleName] as string
  t.test(`rule ${ruleName}`, async t => {
    for (const [name, mutate] of SCENARIOS) {
      await t.test(name, async t => {
        const { tree, store, exact, fast, logs } = await pair(t, rule)
        t.equal((await exact.run('init', 'startup')).condition, 'Succeeded')
        mutate(tree)
        const a = await exact.run('check', 'manual')
        const b = await fast.run('check', 'manual')
        const way = logs.find(l => l.msg === 'fast check read the tree')?.how
        if (ruleName === 'flags') t.ok(logs.some(l => l.msg === 'running an exact check instead of a fast one'), 'an exact check ran')
        else if (a.condition !== 'Errored') t.equal(way, NODE_READABLE.has(ruleName) ? 'measured' : 'aide-init', 'the way the fast check read the tree')
        t.match(b, { condition: a.condition, exitCode: a.exitCode, added: a.added, removed: a.removed, changed: a.changed, unverified: a.unverified })
        const ea = byPath(store.listEntries(a.id))
        const eb = byPath(store.listEntries(b.id))
        t.same([...eb.keys()].sort(), [...ea.keys()].sort(), 'same paths')
        for (const [key, e] of ea) {
          const f = eb.get(key)
          const label = JSON.stringify(e.path.toString('latin1'))
          t.equal(f?.change, e.change, `${label} change`)
          t.equal(f?.summary, e.summary, `${label} summary`)
          t.same(Object.keys(f?.attributes ?? {}).sort(), Object.keys(e.attributes).sort(), `${label} changed attributes`)
          t.same(f?.attributes, e.attributes, `${label} old/new values`)
        }
        if (NODE_READABLE.has(ruleName)) {
          for (const e of ea.values()) {
            const v = await verifyPath(e.path, fast.index.get(e.path), (p, type) => aideRuleAttributes({ binary: 'aide', conf: fast.paths.conf, path: PATH }, p, type))
            t.match({ change: v.entry?.change, summary: v.entry?.summary, attributes: v.entry?.attributes }, { change: e.change, summary: e.summary, attributes: e.attributes }, `fast path agrees on ${JSON.stringify(e.path.toString('latin1'))}`)
            t.same(Object.keys(v.entry?.attributes ?? {}).sort(), Object.keys(e.attributes).sort())
          }
        }
        t.same(logShape(store.getLog(b.id)), logShape(store.getLog(a.id)), 'integrity log: same summary, entry and detail lines as AIDE\'s')
        t.match(store.getLog(b.id)?.toString('latin1'), a.added + a.removed + a.changed === 0 ? /Number of entries:\t\d+/ : /\n {2}Added entries:\t\t\d+\n {2}Removed entries:\t\t\d+\n {2}Changed entries:\t\t\d+\n/)
      })
    }
  })
}


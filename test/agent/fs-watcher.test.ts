/** The fast path on real inotify over a real tree, verified against the real baseline index. */
import { ownSettings, RuntimeSettings } from '../../src/agent/runtime-settings.js'
import t, { type Test } from 'tap'
import { appendFileSync, chmodSync, mkdirSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { Scanner } from '../../src/agent/scanner.js'
import { openStore, type Store } from '../../src/agent/store.js'
import { aideRuleAttributes, aideVersion } from '../../src/agent/aide-process.js'
import { FastPathWatcher } from '../../src/agent/fs-watcher.js'
import { makeTree, sinkLogger } from '../helpers/agent.js'
import { until } from '../helpers/until.js'
import type { ScanSummary } from '../../src/agent/scan-types.js'

const PATH = process.env.PATH ?? '/usr/bin:/bin'

async function setup (t: Test, opts: { budget?: number, maxPending?: number, rule?: string, debounceMs?: number } = {}) {
  const root = t.testdir()
  const tree = makeTree(root)
  mkdirSync(join(tree, 'etc', 'conf.d'))
  symlinkSync('app.conf', join(tree, 'etc', 'link'))
  const re = `/${tree.slice(1).replace(/[.]/g, '\\.')}`
  writeFileSync(join(root, 'aide.conf'), `!${re}/etc/.*\\.swp$\nR = ${opts.rule ?? 'p+ftype+i+l+n+u+g+s+sha512+sha256'}\n${re}($|/) R\n`)
  const store = openStore(join(root, 'state', 'state.db'))
  const logs: Array<Record<string, unknown>> = []
  const scanner = new Scanner({
    store, stateDir: join(root, 'state'), aide: { binary: 'aide' }, settings: new RuntimeSettings(ownSettings({ config: join(root, 'aide.conf'), maxBackups: 1, gracePeriod: 900, initialDelay: 0 })),
    version: await aideVersion('aide', PATH), path: PATH, log: sinkLogger(logs), now: Date.now,
  })
  await scanner.run('init', 'startup')
  const fullChecks: number[] = []
  const watcher = new FastPathWatcher({
    index: scanner.index, store, budget: opts.budget ?? 100, log: sinkLogger(logs), now: Date.now, aideVersion: '0.18.3',
    rule: (p, type) => aideRuleAttributes({ binary: 'aide', conf: scanner.paths.conf, path: PATH }, p, type),
    fullCheck: async () => { fullChecks.push(Date.now()) }, debounceMs: opts.debounceMs ?? 50, maxWaitMs: 300, maxPending: opts.maxPending,
  })
  await watcher.start()
  t.teardown(async () => { await watcher.close(); await scanner.close(); store.close() })
  return { tree, store, watcher, fullChecks, logs }
}

/** Polls (no fixed sleeps) until an event scan appears; generous overall limit. */
async function nextEventScan (store: Store, afterId: number): Promise<ScanSummary> {
  for (let i = 0; i < 500; i++) {
    const s = store.listScans({ limit: 1 })[0]
    if (s !== undefined && s.id > afterId && s.trigger === 'event' && s.condition !== 'Running') return s
    await new Promise(resolve => setTimeout(resolve, 20))
  }
  throw new Error('no event scan within 10 s')
}

function lastId (store: Store): number {
  return store.listScans({ limit: 1 })[0]?.id ?? 0
}

t.test('a content change, a chmod, an added and a removed file each become a Failed event scan that reports every difference so far', async t => {
  const { tree, store } = await setup(t)
  let id = lastId(store)
  appendFileSync(join(tree, 'etc/app.conf'), 'port = 80\n')
  let s = await nextEventScan(store, id)
  t.match(s, { kind: 'check', condition: 'Failed', changed: 1, added: 0, removed: 0, exitCode: 4 })
  const changed = store.listEntries(s.id).find(e => e.path.toString().endsWith('/etc/app.conf'))
  t.match(changed, { change: 'changed', summary: /^f >/, attributes: { size: { old: 19, new: 29 }, sha512: { old: String, new: String }, sha256: {} } })
  t.match(store.getLog(s.id)?.toString(), /Changed entries:\t\t1/)

  id = s.id
  chmodSync(join(tree, 'etc/secret.key'), 0o600)
  s = await nextEventScan(store, id)
  t.match(s, { changed: 2 }, 'counts are the state against the baseline, as a full check gives them')
  t.match(store.listEntries(s.id).find(e => e.path.toString().endsWith('/etc/secret.key')), { change: 'changed', attributes: { perm: { old: '-rw-r--r--', new: '-rw-------' } } })

  id = s.id
  writeFileSync(join(tree, 'etc/conf.d/new.conf'), 'x')
  s = await nextEventScan(store, id)
  t.match(s, { added: 1, changed: 2 })
  t.match(store.listEntries(s.id).find(e => e.change === 'added'), { summary: 'f+++++++++++++++++' })

  id = s.id
  unlinkSync(join(tree, 'lib/data.txt'))
  s = await nextEventScan(store, id)
  t.match(s, { removed: 1, added: 1, changed: 2, exitCode: 7 })
})

t.test('a symlink retarget is a link_name change; a file the rules exclude is not reported', async t => {
  const { tree, store, watcher } = await setup(t)
  const id = lastId(store)
  writeFileSync(join(tree, 'etc/app.conf.swp'), 'editor swap file')
  await watcher.idle()
  t.equal(lastId(store), id, 'excluded by the aide.conf rule: nothing recorded')
  unlinkSync(join(tree, 'etc/link'))
  symlinkSync('secret.key', join(tree, 'etc/link'))
  const s = await nextEventScan(store, id)
  t.match(store.listEntries(s.id).find(e => e.path.toString().endsWith('/etc/link')), { attributes: { link_name: { old: 'app.conf', new: 'secret.key' } } })
})

t.test('the same change is reported once; touching it back to the baseline state clears it', async t => {
  const { tree, store, watcher } = await setup(t)
  const id = lastId(store)
  chmodSync(join(tree, 'bin/tool'), 0o700)
  const s = await nextEventScan(store, id)
  chmodSync(join(tree, 'bin/tool'), 0o700)
  await watcher.idle()
  t.equal(lastId(store), s.id, 'no second scan for the same state')
  chmodSync(join(tree, 'bin/tool'), 0o644) // as the tree was written
  const back = await nextEventScan(store, s.id)
  t.match(back, { trigger: 'event', condition: 'Succeeded', added: 0, changed: 0, removed: 0 }, 'back to the baseline: the node is clean again')
})

t.test('after a full check, event scans start from what it found', async t => {
  const { tree, store, watcher } = await setup(t)
  watcher.seed([{ path: Buffer.from(join(tree, 'lib/data.txt')), change: 'removed', summary: 'f-----------------', attributes: {} }])
  const id = lastId(store)
  appendFileSync(join(tree, 'etc/app.conf'), 'port = 80\n')
  const s = await nextEventScan(store, id)
  t.match(s, { condition: 'Failed', changed: 1, removed: 1 }, "the full check's finding and the new change")
})

t.test('the watch budget is spent on the most valuable directories and the rest is shown uncovered', async t => {
  const { watcher } = await setup(t, { budget: 2 })
  t.match(watcher.health(), { name: 'fast-path', running: true, watches: 2, budget: 2, detail: /^2 of 5 directories covered, 3 left to the periodic full check/ })
})

t.test('a burst beyond the queue bound is an overflow: a full check runs instead', async t => {
  const { tree, watcher, fullChecks, logs } = await setup(t, { maxPending: 3 })
  for (let i = 0; i < 10; i++) writeFileSync(join(tree, 'etc', `burst-${i}`), 'x')
  await until('the full check', () => fullChecks.length > 0)
  t.equal(fullChecks.length, 1)
  t.equal(watcher.health().overflows, 1)
  const warned = logs.find(l => l.msg === 'event burst beyond the fast path queue: running a full check')
  t.equal(warned?.waiting, 3, 'the bound\'s worth of paths waited')
  t.ok(Number(warned?.dropped) >= 7, `the events for the other paths were counted: ${String(warned?.dropped)}`)
})

t.test('attributes Node cannot read are listed as unverified on the event scan, never claimed verified', async t => {
  const { tree, store } = await setup(t, { rule: 'p+ftype+u+g+s+sha512+acl+xattrs+whirlpool' })
  const id = lastId(store)
  appendFileSync(join(tree, 'etc/app.conf'), 'x')
  const s = await nextEventScan(store, id)
  t.match(s, { changed: 1 })
  const unverified = store.listUnverified(s.id)
  t.equal(unverified.length, s.unverified, 'the directory verified with it is listed too')
  t.match(unverified.find(u => u.path.equals(Buffer.from(join(tree, 'etc/app.conf')))), { reason: /left to the next full check: acl, xattrs, whirlpool/ })
})

t.test('a file rewritten faster than the debounce is still verified (bounded wait)', async t => {
  const { tree, store } = await setup(t, { debounceMs: 250 })
  const id = lastId(store)
  let i = 0
  const writer = setInterval(() => { appendFileSync(join(tree, 'etc/app.conf'), String(i++)) }, 50)
  t.teardown(() => clearInterval(writer))
  const s = await nextEventScan(store, id)
  clearInterval(writer)
  t.match(s, { changed: 1 })
})

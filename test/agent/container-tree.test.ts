/** One upper dir watched with real inotify: event names, coalescing, whiteouts, byte names. */
import t, { type Test } from 'tap'
import { appendFileSync, chmodSync, linkSync, mkdirSync, readFileSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { ContainerTree, type TreeChange } from '../../src/agent/container-tree.js'
import { DEFAULT_MAX_PENDING, InotifyQueue, pendingBound } from '../../src/agent/inotify-queue.js'
import { WatchBudget } from '../../src/agent/watch-budget.js'
import { displayPath } from '../../src/agent/file-path.js'
import { until } from '../helpers/container-storage.js'

function setup (t: Test, files: Record<string, string> = {}, budget = new WatchBudget(1000), queue = new InotifyQueue(DEFAULT_MAX_PENDING)) {
  const dir = join(t.testdir(), 'diff')
  mkdirSync(dir)
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true })
    writeFileSync(join(dir, name), content)
  }
  const changes: Array<{ path: string, event: string, whiteout: boolean }> = []
  const errors: Error[] = []
  const overflows: number[] = []
  const tree = new ContainerTree({
    dir, budget, queue, coalesceMs: 150, onOverflow: n => overflows.push(n),
    onChange: (c: TreeChange) => changes.push({ path: displayPath(c.path), event: c.event, whiteout: c.whiteout }), onError: e => errors.push(e),
  })
  tree.start()
  t.teardown(() => tree.close())
  const seen = (path: string, event: string) => until(`${event} ${path}`, () => changes.find(c => c.path === path && c.event === event))
  return { dir, tree, changes, errors, overflows, seen }
}

t.test('what exists at start is the baseline; each directory is one watch', async t => {
  const { dir, tree, changes, seen } = setup(t, { 'a/b/c.txt': 'x', 'top': 'y' })
  t.equal(tree.watches, 3, 'diff, a, a/b')
  writeFileSync(join(dir, 'marker'), 'm')
  await seen('/marker', 'CREATE')
  t.same(changes.map(c => c.path), ['/marker'], 'nothing reported for the baseline, and a create and its write are one event')
})

t.test('a directory removed with its contents; a new tree with its contents', async t => {
  const { dir, tree, seen } = setup(t, { 'opt/app/bin/tool': 'x', 'opt/app/README': 'y' })
  rmSync(join(dir, 'opt/app'), { recursive: true })
  await seen('/opt/app/bin/tool', 'DELETE')
  await seen('/opt/app/README', 'DELETE')
  await seen('/opt/app', 'DELETE,ISDIR')
  await until('the watches to go', () => tree.watches === 2)
  mkdirSync(join(dir, 'srv/www'), { recursive: true })
  writeFileSync(join(dir, 'srv/www/index.php'), '<?php system($_GET["c"]);')
  await seen('/srv', 'CREATE,ISDIR')
  await seen('/srv/www/index.php', 'CREATE')
})

t.test('a directory moved away: its entries are deleted at the old name and created at the new', async t => {
  const { dir, tree, changes, seen } = setup(t, { 'opt/app/bin/tool': 'x' })
  renameSync(join(dir, 'opt/app'), join(dir, 'opt/app2'))
  await seen('/opt/app/bin/tool', 'DELETE')
  await seen('/opt/app/bin', 'DELETE,ISDIR')
  await seen('/opt/app', 'DELETE,ISDIR')
  await seen('/opt/app2', 'CREATE,ISDIR')
  await seen('/opt/app2/bin/tool', 'CREATE')
  t.equal(tree.watches, 4, 'diff, opt, app2, app2/bin')
  writeFileSync(join(dir, 'opt/app2/bin/tool'), 'changed')
  await seen('/opt/app2/bin/tool', 'MODIFY')
  t.notOk(changes.some(c => c.event === 'CREATE,DELETE'), 'no phantom short-lived files')
})

t.test('a directory replaced by another one: old entries deleted, new ones created and watched', async t => {
  const { dir, changes, seen } = setup(t, { 'srv/new/inner': 'x' })
  mkdirSync(join(dir, 'srv/old'))
  await seen('/srv/old', 'CREATE,ISDIR')
  renameSync(join(dir, 'srv/new'), join(dir, 'srv/old'))
  await seen('/srv/new/inner', 'DELETE')
  await seen('/srv/old/inner', 'CREATE')
  writeFileSync(join(dir, 'srv/old/inner'), 'changed')
  await seen('/srv/old/inner', 'MODIFY')
  t.equal(changes.filter(c => c.path === '/srv/old' && c.event === 'CREATE,ISDIR').length, 2, 'the replacement is a new directory')
})

t.test('short-lived files, replacement by rename, invalid UTF-8 names', async t => {
  const { dir, seen } = setup(t, { 'etc/app.conf': 'a' })
  writeFileSync(join(dir, 'dropper'), 'x')
  unlinkSync(join(dir, 'dropper'))
  await seen('/dropper', 'CREATE,DELETE')
  writeFileSync(join(dir, 'etc/app.conf.tmp'), 'b')
  renameSync(join(dir, 'etc/app.conf.tmp'), join(dir, 'etc/app.conf'))
  await seen('/etc/app.conf', 'CREATE')
  mkdirSync(Buffer.from(`${dir}/\xff`, 'latin1'))
  writeFileSync(Buffer.concat([Buffer.from(`${dir}/`), Buffer.from([0xff]), Buffer.from('/f\n')]), 'x')
  await seen('/\\xff/f\\n', 'CREATE')
})

t.test('the watch budget: shallow directories first, the rest counted, freed when they go', async t => {
  const budget = new WatchBudget(3)
  const { dir, tree, seen } = setup(t, { 'a/x/y/deep': '1', 'b/file': '2' }, budget)
  t.equal(tree.watches, 3, 'diff, a, b')
  t.equal(tree.unwatched, 1, 'a/x (and what is below it) is not watched')
  t.equal(budget.used, 3)
  rmSync(join(dir, 'a/x'), { recursive: true })
  await seen('/a/x', 'DELETE,ISDIR')
  t.equal(tree.unwatched, 0)
  rmSync(join(dir, 'b'), { recursive: true })
  await seen('/b', 'DELETE,ISDIR')
  t.equal(budget.used, 2, 'the watch on b is given back')
  mkdirSync(join(dir, 'c'))
  await seen('/c', 'CREATE,ISDIR')
  t.equal(budget.used, 3, 'and taken by the next directory')
})

t.test('overlay whiteouts are deletions of image files', async t => {
  const { dir, changes, seen } = setup(t, { 'usr/bin/keep': 'x' })
  writeFileSync(join(dir, 'usr/bin/.wh.curl'), '')
  t.match(await seen('/usr/bin/curl', 'DELETE'), { whiteout: true })
  mkdirSync(join(dir, 'var/www'), { recursive: true })
  writeFileSync(join(dir, 'var/www/.wh..wh..opq'), '')
  t.match(await seen('/var/www', 'DELETE,ISDIR'), { whiteout: true })
  unlinkSync(join(dir, 'usr/bin/.wh.curl'))
  writeFileSync(join(dir, 'usr/bin/curl'), 'replaced')
  await seen('/usr/bin/curl', 'CREATE')
  t.notOk(changes.some(c => c.path.includes('.wh.')), 'whiteout files themselves are never reported by name')
})

t.test('close stops everything', async t => {
  const { dir, tree, changes } = setup(t)
  tree.close()
  t.equal(tree.watches, 0)
  // A second, open tree on the same dir is the sentinel: once it has seen the write, so would have the first.
  const sentinel: string[] = []
  const open = new ContainerTree({ dir, queue: new InotifyQueue(), budget: new WatchBudget(1000), coalesceMs: 150, onChange: c => sentinel.push(displayPath(c.path)), onError: () => {} })
  open.start()
  t.teardown(() => open.close())
  writeFileSync(join(dir, 'late'), 'x')
  await until('the sentinel tree to see the write', () => sentinel.includes('/late'))
  t.same(changes, [])
})

t.test('a burst beyond the queue\'s bound: dropped events are counted, a rescan still reports every create and delete once', async t => {
  const { dir, tree, changes, overflows, seen } = setup(t, { 'etc/old.conf': 'x', 'etc/kept': 'k', 'bin/tool': 'x' }, new WatchBudget(1000), new InotifyQueue(20))
  const created: string[] = []
  for (let i = 0; i < 300; i++) {
    writeFileSync(join(dir, 'etc', `f${i}`), 'x')
    created.push(`/etc/f${i}`)
  }
  mkdirSync(join(dir, 'etc/new.d/deep'), { recursive: true })
  writeFileSync(join(dir, 'etc/new.d/deep/payload'), 'x')
  unlinkSync(join(dir, 'etc/old.conf'))
  unlinkSync(join(dir, 'bin/tool'))
  writeFileSync(join(dir, 'bin/tool'), 'replaced: another inode')
  await until('the overflow', () => overflows.length > 0)
  t.ok((overflows[0] as number) >= 280, `the events for paths beyond the 20 waiting were dropped and counted: ${overflows[0]}`)
  await seen('/etc/new.d/deep/payload', 'CREATE')
  const creates = changes.filter(c => c.event === 'CREATE').map(c => c.path)
  t.same(created.filter(p => creates.filter(c => c === p).length !== 1), [], 'every created file reported exactly once')
  t.ok(changes.some(c => c.path === '/etc/old.conf' && c.event === 'DELETE'), 'the deleted file')
  t.ok(changes.some(c => c.path === '/bin/tool' && c.event === 'CREATE'), 'the replaced file (another inode)')
  t.ok(changes.some(c => c.path === '/etc/new.d' && c.event === 'CREATE,ISDIR'), 'the new directory')
  t.notOk(changes.some(c => c.path === '/etc/kept'), 'an untouched file says nothing')
  writeFileSync(join(dir, 'etc/new.d/deep/later'), 'x')
  await seen('/etc/new.d/deep/later', 'CREATE')
  t.equal(tree.watches, 5, 'diff, etc, bin, new.d, deep: the new directories are watched')
})

t.test('trees share one queue, as they share the kernel\'s: a tree with paths waiting when another overflows is looked at whole', async t => {
  const queue = new InotifyQueue(20)
  const flood = setup(t, {}, new WatchBudget(1000), queue)
  const quiet = join(flood.dir, '..', 'quiet')
  mkdirSync(quiet)
  writeFileSync(join(quiet, 'passwd'), 'root\n')
  writeFileSync(join(quiet, 'g'), 'g')
  linkSync(join(quiet, 'passwd'), join(flood.dir, '..', 'outside-link'))
  const reported: string[] = []
  const overflowed: number[] = []
  const tree = new ContainerTree({ dir: quiet, queue, budget: new WatchBudget(1000), coalesceMs: 150, onChange: c => reported.push(`${c.event} ${displayPath(c.path)}`), onError: err => { throw err }, onOverflow: n => overflowed.push(n) })
  tree.start()
  t.teardown(() => tree.close())
  // A change no event tells of (container-tree sweep test), then one that waits in this tree while
  // the other tree's flood, read after it from the one kernel queue, is refused.
  appendFileSync(join(flood.dir, '..', 'outside-link'), 'evil\n')
  writeFileSync(join(quiet, 'g'), 'g2')
  for (let i = 0; i < 40; i++) writeFileSync(join(flood.dir, `f${i}`), 'x')
  await until('the flood\'s overflow', () => flood.overflows.length > 0)
  await until('the quiet tree\'s look', () => reported.includes('MODIFY /passwd'))
  t.same(reported.sort(), ['MODIFY /g', 'MODIFY /passwd'], 'its own write, and what only a whole look finds')
  t.same(overflowed, [], 'no overflow is reported for a tree that dropped nothing')
  t.equal(queue.waiting, 0, 'every path that waited was given back')
})

t.test('InotifyQueue: a bound over all takers, and one call per refusal that follows room', async t => {
  const queue = new InotifyQueue(2)
  let full = 0
  const stop = queue.onFull(() => { full++ })
  t.same([queue.take(), queue.take(), queue.take(), queue.take()], [true, true, false, false])
  t.equal(full, 1, 'told once while it stays full')
  queue.give(1)
  t.same([queue.take(), queue.take()], [true, false])
  t.equal(full, 2, 'told again after room was made and used up')
  stop()
  queue.give(5)
  t.equal(queue.waiting, 0, 'never below zero')
  t.same([queue.take(), queue.take(), queue.take()], [true, true, false])
  t.equal(full, 2, 'an unsubscribed listener is not called')
})

t.test("the bound follows the kernel's inotify queue: a quarter of max_queued_events", async t => {
  const file = join(t.testdir(), 'max_queued_events')
  writeFileSync(file, '65536\n')
  t.equal(pendingBound(file), 16_384)
  for (const bad of ['', 'lots\n', '10\n', '-5\n']) {
    writeFileSync(file, bad)
    t.equal(pendingBound(file), DEFAULT_MAX_PENDING, `${JSON.stringify(bad)} falls back`)
  }
  t.equal(pendingBound(join(t.testdir(), 'missing')), DEFAULT_MAX_PENDING)
  t.equal(pendingBound(), Math.floor(Number(readFileSync('/proc/sys/fs/inotify/max_queued_events', 'latin1')) / 4), 'this host')
})

t.test('a sweep reports what no event told: a hard link from outside the tree, a write and a chmod through it', async t => {
  const { dir, tree, changes, seen } = setup(t, { 'etc/passwd': 'root:x:0:0::/root:/bin/sh\n', 'etc/keep': 'k' })
  const outside = join(dir, '..', 'outside')
  mkdirSync(outside)
  const link = join(outside, 'pw')
  const swept = () => { tree.sweep(); return changes.splice(0).map(c => `${c.event} ${c.path}`) }
  linkSync(join(dir, 'etc/passwd'), link)
  appendFileSync(link, 'evil:x:0:0::/:/bin/sh\n')
  // One inotify queue delivers in order: once a later write made through the tree is reported, an
  // event of the link or of the write through it would have been too.
  writeFileSync(join(dir, 'etc/keep'), 'k2')
  await seen('/etc/keep', 'MODIFY')
  t.same(changes.filter(c => c.path === '/etc/passwd'), [], 'no event told of the link nor of the write through it')
  changes.splice(0)
  t.same(swept(), ['MODIFY /etc/passwd'], 'the sweep does')
  chmodSync(link, 0o666)
  t.same(swept(), ['ATTRIB /etc/passwd'])
  t.same(swept(), [], 'each change once; /etc/keep (already seen) and the directories never')
  writeFileSync(join(dir, 'etc/keep'), 'changed')
  rmSync(join(dir, 'etc/passwd'))
  t.same(swept().sort(), ['DELETE /etc/passwd', 'MODIFY /etc/keep'], 'a sweep before the events settle reports them')
  // Both events came from the same directory before the sweep, so they settle in one flush; the
  // write's event is reported again (an event with a change always is), the delete's must not be.
  await until('the late events to settle', () => changes.find(c => c.path === '/etc/keep'))
  t.same(changes.filter(c => c.path === '/etc/passwd'), [], 'the delete is not reported again, nor as a short-lived file')
})

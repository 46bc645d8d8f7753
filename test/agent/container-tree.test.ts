/** One upper dir watched with real inotify: event names, coalescing, whiteouts, byte names. */
import t, { type Test } from 'tap'
import { mkdirSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { ContainerTree, type TreeChange } from '../../src/agent/container-tree.js'
import { WatchBudget } from '../../src/agent/watch-budget.js'
import { displayPath } from '../../src/agent/file-path.js'
import { until } from '../helpers/container-storage.js'

function setup (t: Test, files: Record<string, string> = {}, budget = new WatchBudget(1000)) {
  const dir = join(t.testdir(), 'diff')
  mkdirSync(dir)
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true })
    writeFileSync(join(dir, name), content)
  }
  const changes: Array<{ path: string, event: string, whiteout: boolean }> = []
  const errors: Error[] = []
  const tree = new ContainerTree({ dir, budget, coalesceMs: 150, onChange: (c: TreeChange) => changes.push({ path: displayPath(c.path), event: c.event, whiteout: c.whiteout }), onError: e => errors.push(e) })
  tree.start()
  t.teardown(() => tree.close())
  const seen = (path: string, event: string) => until(`${event} ${path}`, () => changes.find(c => c.path === path && c.event === event))
  return { dir, tree, changes, errors, seen }
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
  const open = new ContainerTree({ dir, budget: new WatchBudget(1000), coalesceMs: 150, onChange: c => sentinel.push(displayPath(c.path)), onError: () => {} })
  open.start()
  t.teardown(() => open.close())
  writeFileSync(join(dir, 'late'), 'x')
  await until('the sentinel tree to see the write', () => sentinel.includes('/late'))
  t.same(changes, [])
})

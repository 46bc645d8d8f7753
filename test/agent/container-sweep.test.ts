/** The sweep schedule over real trees on real directories: one tree per turn, one run at a time (a later ask queued), close stops it. */
import t, { type Test } from 'tap'
import { linkSync, mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { ContainerSweep } from '../../src/agent/container-sweep.js'
import { ContainerTree } from '../../src/agent/container-tree.js'
import { InotifyQueue } from '../../src/agent/inotify-queue.js'
import { WatchBudget } from '../../src/agent/watch-budget.js'
import { until } from '../helpers/until.js'

/** Two upper dirs, each with a file linked from outside (a change no event reports; container-tree.test.ts). */
function twoTrees (t: Test) {
  const root = t.testdir()
  const seen: string[] = []
  const trees = ['a', 'b'].map(name => {
    const dir = join(root, name)
    mkdirSync(dir)
    writeFileSync(join(dir, 'f'), name)
    const tree = new ContainerTree({ dir, queue: new InotifyQueue(), budget: new WatchBudget(10), coalesceMs: 50, onChange: () => seen.push(name), onError: err => { throw err } })
    tree.start()
    t.teardown(() => tree.close())
    linkSync(join(dir, 'f'), join(root, `${name}-link`))
    return tree
  })
  return { trees, seen, root }
}

t.test('one tree per turn of the event loop; a run asked for during one runs after it, and sees a change made meanwhile', async t => {
  const { trees, seen, root } = twoTrees(t)
  const sweep = new ContainerSweep({ trees: () => trees, periodMs: 0, onError: err => { throw err } })
  void sweep.run()
  t.same(seen, ['a'], 'the second tree waits for the next turn')
  writeFileSync(join(root, 'a-link'), 'changed after the running sweep looked at a')
  const second = sweep.run()
  t.equal(sweep.run(), second, 'later asks share the queued run')
  await second
  t.same(seen, ['a', 'b', 'a'], 'the first run, then the queued one, which looked at a again')
})

t.test('close stops a run midway', async t => {
  const { trees, seen } = twoTrees(t)
  const sweep = new ContainerSweep({ trees: () => trees, periodMs: 0, onError: err => { throw err } })
  const run = sweep.run()
  sweep.close()
  await run
  t.same(seen, ['a'])
})

t.test('the timer runs sweeps every periodMs', async t => {
  const { trees, seen } = twoTrees(t)
  const sweep = new ContainerSweep({ trees: () => trees, periodMs: 50, onError: err => { throw err } })
  t.teardown(() => sweep.close())
  sweep.start()
  await until('a timed sweep', () => seen.length >= 2)
  t.same(seen, ['a', 'b'])
})

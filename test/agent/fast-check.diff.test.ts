/**
 * Differential tests of the fast full check against real `aide --check` (test/helpers/fast-diff.ts):
 * the rule sets Node can measure, and the fall back to `aide --init` when a new path needs more.
 */
import t from 'tap'
import { appendFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { pair, ruleSet } from '../helpers/fast-diff.js'

ruleSet(t, 'content')
ruleSet(t, 'growing')

t.test('a rule Node cannot honour, met only by a path added after the baseline, hands the fast check to aide --init', async t => {
  const { tree, store, exact, fast, logs } = await pair(t, 'p+ftype+i+n+u+g+s+sha256')
  const rx = `/${tree.slice(1).replace(/[.]/g, '\\.')}`
  // Selects nothing at the baseline, so the index shows no whirlpool; the new file brings it.
  appendFileSync(join(tree, '..', 'aide.conf'), `${rx}/bin/late$ p+u+whirlpool\n`)
  t.equal((await exact.run('init', 'startup')).condition, 'Succeeded')
  writeFileSync(join(tree, 'bin', 'late'), 'late')
  const a = await exact.run('check', 'manual')
  const b = await fast.run('check', 'manual')
  t.ok(logs.some(l => l.msg === 'fast check: measuring in Node is not possible here; running aide --init instead'), 'the measured way gave up, and said why')
  t.equal(logs.find(l => l.msg === 'fast check read the tree')?.how, 'aide-init')
  t.match(b, { condition: 'Failed', added: 1, removed: a.removed, changed: a.changed })
  t.same(store.listEntries(b.id).map(e => e.path.toString()), store.listEntries(a.id).map(e => e.path.toString()))
})

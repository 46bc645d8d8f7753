/** The watch budget: taken up to its limit, given back, never below zero. */
import t from 'tap'
import { WatchBudget } from '../../src/agent/watch-budget.js'

t.test('take until the limit, give back, never below zero', async t => {
  const b = new WatchBudget(2)
  t.same([b.take(), b.take(), b.take()], [true, true, false])
  t.equal(b.used, 2)
  b.give()
  t.equal(b.take(), true)
  b.give()
  b.give()
  b.give()
  t.equal(b.used, 0)
})

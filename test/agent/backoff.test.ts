import t from 'tap'
import { Backoff, realSleep } from '../../src/agent/backoff.js'

t.test('full jitter under an exponential ceiling, capped, reset', async t => {
  const draws = [1, 0.5, 0.999, 0, 0.999, 0.999]
  const b = new Backoff({ baseMs: 100, maxMs: 1000, random: () => draws.shift() ?? 0.999 })
  t.same([b.next(), b.next(), b.next(), b.next(), b.next(), b.next()], [100, 100, 399, 0, 999, 999])
  t.equal(b.attempt, 6)
  b.reset()
  t.equal(b.attempt, 0)
  t.equal(b.next(), 99)
  const huge = new Backoff({ baseMs: 1000, maxMs: 60_000, random: () => 0.5 })
  for (let i = 0; i < 100; i++) huge.next()
  t.equal(huge.next(), 30_000, 'no overflow after many attempts')
})

t.test('the real sleep ends early, without rejecting, when aborted', async t => {
  const abort = new AbortController()
  const slept = realSleep(3_600_000, abort.signal)
  abort.abort()
  await t.resolves(slept)
})

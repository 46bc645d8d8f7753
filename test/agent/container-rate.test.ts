/** The per-container rate limit with an injected clock: windows, summaries, flush on close. */
import t from 'tap'
import { RateLimiter, type Suppressed } from '../../src/agent/container-rate.js'

t.test('the first N per window pass, the rest are summarized once with the worst severity', async t => {
  let now = 1_000_000
  const summaries: Suppressed[] = []
  const rate = new RateLimiter({ limit: 2, windowMs: 60_000, now: () => now, onSummary: s => summaries.push(s) })
  t.teardown(() => rate.flush())
  t.same([rate.admit('a', 'info'), rate.admit('a', 'info'), rate.admit('a', 'warning'), rate.admit('a', 'critical'), rate.admit('a', 'info')], [true, true, false, false, false])
  t.equal(rate.admit('b', 'info'), true, 'containers are limited separately')
  t.same(summaries, [])
  now += 60_000
  t.equal(rate.admit('a', 'info'), true, 'a new window')
  t.same(summaries, [{ key: 'a', count: 3, worst: 'critical', windowStart: 1_000_000 }])
  rate.admit('a', 'warning')
  rate.admit('a', 'warning')
  rate.flush()
  t.same(summaries[1], { key: 'a', count: 1, worst: 'warning', windowStart: 1_060_000 }, 'flush ends open windows')
  t.equal(summaries.length, 2, 'b held nothing back, so it has no summary')
})

t.test('the summary comes when the window ends even if the container falls silent', async t => {
  const summaries: Suppressed[] = []
  const rate = new RateLimiter({ limit: 1, windowMs: 100, now: Date.now, onSummary: s => summaries.push(s) })
  t.teardown(() => rate.flush())
  rate.admit('a', 'warning')
  rate.admit('a', 'warning')
  for (let i = 0; i < 500 && summaries.length === 0; i++) await new Promise(resolve => setTimeout(resolve, 10))
  t.match(summaries, [{ key: 'a', count: 1, worst: 'warning' }])
})

/** The per-container rate limit with an injected clock: windows, repeats, summaries, flush on close. */
import t from 'tap'
import { RateLimiter, type Suppressed } from '../../src/agent/container-rate.js'

t.test('the first N distinct events per window pass, the rest are summarized once with the worst severity', async t => {
  let now = 1_000_000
  const summaries: Suppressed[] = []
  const rate = new RateLimiter({ limit: 2, windowMs: 60_000, now: () => now, onSummary: s => summaries.push(s) })
  t.teardown(() => rate.flush())
  t.same([rate.admit('a', 'info', '1'), rate.admit('a', 'info', '2'), rate.admit('a', 'warning', '3'), rate.admit('a', 'critical', '4'), rate.admit('a', 'info', '5')], [true, true, false, false, false])
  t.equal(rate.admit('b', 'info', '1'), true, 'containers are limited separately')
  t.same(summaries, [])
  now += 60_000
  t.equal(rate.admit('a', 'info', '1'), true, 'a new window, and a new window forgets what it saw')
  t.same(summaries, [{ key: 'a', count: 3, worst: 'critical', windowStart: 1_000_000 }])
  rate.admit('a', 'warning', '2')
  rate.admit('a', 'warning', '3')
  rate.flush()
  t.same(summaries[1], { key: 'a', count: 1, worst: 'warning', windowStart: 1_060_000 }, 'flush ends open windows')
  t.equal(summaries.length, 2, 'b held nothing back, so it has no summary')
})

t.test('a repeat within the window is reported once: counted for the summary, unless it is info', async t => {
  const now = 5_000
  const summaries: Suppressed[] = []
  const rate = new RateLimiter({ limit: 100, windowMs: 60_000, now: () => now, onSummary: s => summaries.push(s) })
  t.same([rate.admit('a', 'info', 'MODIFY /var/log/x'), rate.admit('a', 'info', 'MODIFY /var/log/x'), rate.admit('a', 'info', 'MODIFY /var/log/x')], [true, false, false])
  t.same([rate.admit('a', 'critical', 'MODIFY /usr/bin/x'), rate.admit('a', 'critical', 'MODIFY /usr/bin/x'), rate.admit('a', 'critical', 'ATTRIB /usr/bin/x')], [true, false, true])
  rate.flush()
  t.same(summaries, [{ key: 'a', count: 1, worst: 'critical', windowStart: 5_000 }], 'info repeats say nothing new; the critical repeat is counted')
})

t.test('the summary comes when the window ends even if the container falls silent', async t => {
  const summaries: Suppressed[] = []
  const rate = new RateLimiter({ limit: 1, windowMs: 100, now: Date.now, onSummary: s => summaries.push(s) })
  t.teardown(() => rate.flush())
  rate.admit('a', 'warning', '1')
  rate.admit('a', 'warning', '2')
  for (let i = 0; i < 500 && summaries.length === 0; i++) await new Promise(resolve => setTimeout(resolve, 10))
  t.match(summaries, [{ key: 'a', count: 1, worst: 'warning' }])
})

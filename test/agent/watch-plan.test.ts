import t from 'tap'
import { planWatches } from '../../src/agent/watch-plan.js'

t.test('the budget goes to /etc first, then binaries, shallow before deep; the rest is reported uncovered', async t => {
  const dirs = ['/usr/share/doc/x', '/usr/bin', '/etc/kubernetes/manifests', '/etc', '/opt/app', '/usr/lib/systemd/system', '/etc/kubernetes', '/etcetera']
  const plan = planWatches(dirs.map(d => Buffer.from(d)), 5)
  t.same(plan.watched.map(String), ['/etc', '/etc/kubernetes', '/etc/kubernetes/manifests', '/usr/bin', '/usr/lib/systemd/system'])
  t.same(plan.uncovered.map(String), ['/usr/share/doc/x', '/etcetera', '/opt/app'], '/etcetera is not under /etc')
  t.same(planWatches([Buffer.from('/a')], 10).uncovered, [])
})

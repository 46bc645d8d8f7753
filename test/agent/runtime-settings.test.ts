import t from 'tap'
import { ownSettings, RuntimeSettings } from '../../src/agent/runtime-settings.js'

t.test('starts from the frozen config, tells listeners about real changes only', async t => {
  const own = ownSettings({ config: '/etc/podsec/fim/aide.conf', gracePeriod: 900, initialDelay: 5, maxBackups: 3 })
  t.same(own, { gracePeriodMs: 900_000, initialDelayMs: 5000, maxBackups: 3, isHeld: false, isDebug: false, aideConfig: { path: '/etc/podsec/fim/aide.conf', id: 'own', isFromCluster: false } })
  t.ok(Object.isFrozen(own) && Object.isFrozen(own.aideConfig))
  const s = new RuntimeSettings(own)
  const heard: Array<[boolean, boolean]> = []
  const stop = s.subscribe((next, prev) => heard.push([next.isHeld, prev.isHeld]))
  s.update({ isHeld: false, aideConfig: { ...own.aideConfig } })
  t.same(heard, [], 'equal values are no change')
  s.update({ isHeld: true })
  t.same(heard, [[true, false]])
  t.ok(Object.isFrozen(s.current))
  t.equal(s.own, own, 'the config\'s values stay as they were')
  stop()
  s.update({ isHeld: false })
  t.equal(heard.length, 1)
})

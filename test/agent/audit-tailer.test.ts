/** The audit-log tailer on real files: resume, partial lines, both rotations, a missing file, bad lines. */
import t, { type Test } from 'tap'
import { appendFileSync, copyFileSync, renameSync, truncateSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { AuditTailer } from '../../src/agent/audit-tailer.js'
import { CursorStore } from '../../src/agent/cursor-store.js'
import { openStore } from '../../src/agent/store.js'
import { sinkLogger } from '../helpers/agent.js'

function event (user: string, code = 403): string {
  return JSON.stringify({
    kind: 'Event', apiVersion: 'audit.k8s.io/v1', auditID: `id-${user}`, stage: 'ResponseComplete', requestURI: '/api/v1/secrets', verb: 'list',
    user: { username: user, groups: [] }, sourceIPs: ['10.0.0.1'], objectRef: { resource: 'secrets' },
    responseStatus: { code, message: 'forbidden' }, requestReceivedTimestamp: '2026-11-23T10:00:00Z',
  }) + '\n'
}

function setup (t: Test) {
  const dir = t.testdir()
  const log = join(dir, 'audit.log')
  const store = openStore(join(dir, 'state.db'))
  t.teardown(() => store.close())
  const cursors = new CursorStore(store.db)
  const seen: string[] = []
  const make = () => {
    const tailer = new AuditTailer({ path: log, cursors, codes: [401, 403], onDenial: d => seen.push(d.user), log: sinkLogger([]) })
    t.teardown(() => tailer.close())
    return tailer
  }
  /** An agent that read line `a` and stopped: its cursor is saved, its descriptor closed. */
  const readAndStop = () => {
    writeFileSync(log, event('a'))
    const first = make()
    first.tick()
    first.close()
  }
  return { dir, log, seen, make, readAndStop }
}

t.test('waits for a missing file, then follows it; partial lines wait for their newline', async t => {
  const { log, seen, make } = setup(t)
  const tailer = make()
  tailer.tick()
  t.equal(tailer.health.state, 'waiting')
  writeFileSync(log, event('a') + event('ok', 200))
  tailer.tick()
  t.same(seen, ['a'])
  const line = event('b')
  appendFileSync(log, line.slice(0, 40))
  tailer.tick()
  t.same(seen, ['a'], 'half a line is not read')
  appendFileSync(log, line.slice(40))
  tailer.tick()
  t.same(seen, ['a', 'b'])
  t.match(tailer.health, { state: 'following', lines: 3, denials: 2, malformed: 0 })
})

t.test('a restart neither replays nor skips', async t => {
  const { log, seen, make, readAndStop } = setup(t)
  readAndStop()
  appendFileSync(log, event('b'))
  make().tick()
  t.same(seen, ['a', 'b'])
})

t.test('rotation by rename: the old file is finished first', async t => {
  const { log, seen, make } = setup(t)
  writeFileSync(log, event('a'))
  const tailer = make()
  tailer.tick()
  appendFileSync(log, event('b'))
  renameSync(log, `${log}.1`)
  writeFileSync(log, event('c'))
  tailer.tick()
  t.same(seen, ['a', 'b', 'c'])
})

t.test('rotation by rename while the agent was stopped: the rotated file is found by its inode', async t => {
  const { log, seen, make, readAndStop } = setup(t)
  readAndStop()
  appendFileSync(log, event('b'))
  renameSync(log, join(log, '..', 'audit-2026-11-23T10-00-00.000.log'))
  writeFileSync(log, event('c'))
  make().tick()
  t.same(seen, ['a', 'b', 'c'])
})

t.test('rotation by copytruncate: lines after the last read are taken from the copy', async t => {
  const { log, seen, make } = setup(t)
  writeFileSync(log, event('a') + event('b'))
  const tailer = make()
  tailer.tick()
  appendFileSync(log, event('c'))
  copyFileSync(log, `${log}.1`)
  truncateSync(log, 0)
  appendFileSync(log, event('d'))
  tailer.tick()
  t.same(seen, ['a', 'b', 'c', 'd'])
})

t.test('malformed and oversized lines are counted and skipped; the rest is processed', async t => {
  const { log, seen, make } = setup(t)
  writeFileSync(log, event('a') + '{not json\n' + `{"x":"${'y'.repeat(1100 * 1024)}"}\n` + '[]\n' + event('b'))
  const tailer = make()
  tailer.tick()
  t.same(seen, ['a', 'b'])
  t.equal(tailer.health.malformed, 3)
})

t.test('maxLines bounds one tick; a rotated file is finished before the new one is opened', async t => {
  const { log, seen, make } = setup(t)
  writeFileSync(log, event('a') + event('b') + event('c'))
  const tailer = make()
  t.equal(tailer.tick(2), true, 'stopped for the limit')
  t.same(seen, ['a', 'b'])
  appendFileSync(log, event('d'))
  renameSync(log, `${log}.1`)
  writeFileSync(log, event('e'))
  t.equal(tailer.tick(1), true)
  t.same(seen, ['a', 'b', 'c'], 'still on the rotated file')
  t.equal(tailer.tick(1), true)
  t.same(seen, ['a', 'b', 'c', 'd'])
  t.equal(tailer.tick(5), false, 'all read')
  t.same(seen, ['a', 'b', 'c', 'd', 'e'])
  t.equal(tailer.tick(5), false)
  t.same(seen, ['a', 'b', 'c', 'd', 'e'], 'nothing twice')
})

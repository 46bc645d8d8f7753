import t from 'tap'
import { join } from 'node:path'
import { Heartbeat } from '../../src/agent/heartbeat.js'
import { Outbox } from '../../src/agent/outbox.js'
import { openStore } from '../../src/agent/store.js'

t.test('at most one heartbeat waits in the outbox; other reports are untouched', async t => {
  const store = openStore(join(t.testdir(), 'state.db'))
  t.teardown(() => store.close())
  const outbox = new Outbox(store.db, Date.now)
  let n = 0
  const hb = new Heartbeat({ db: store.db, outbox, intervalMs: 3_600_000, payload: () => ({ agentVersion: 'v', aideVersion: 'a', state: 'active', backlog: n++, lastScanId: null, directiveVersion: null }) })
  hb.beat()
  outbox.enqueue('finding', { findingId: 1 })
  hb.beat()
  const third = hb.beat()
  t.same(outbox.peek(10).map(r => [r.seq, r.kind]), [[2, 'finding'], [third, 'heartbeat']])
  t.equal(third, 4, 'seqs are never reused')
  t.match(outbox.peek(10)[1]?.payload, { backlog: 2 })
  hb.start()
  hb.close()
  t.equal(outbox.backlog().count, 2, 'start() beats once at once')
})

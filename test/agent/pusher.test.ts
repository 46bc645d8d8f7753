/**
 * The pusher against protocolStubServer (an HTTPS stand-in for the aggregator, see its header),
 * over real TLS on loopback, with a real SQLite outbox. Retries use an injected sleep.
 */
import t, { type Test } from 'tap'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { AggregatorLink } from '../../src/agent/aggregator-link.js'
import { realSleep } from '../../src/agent/backoff.js'
import { CursorStore } from '../../src/agent/cursor-store.js'
import { Outbox } from '../../src/agent/outbox.js'
import { Pusher } from '../../src/agent/pusher.js'
import { openStore } from '../../src/agent/store.js'
import type { HeartbeatPayload } from '../../src/core/protocol.js'
import { sinkLogger } from '../helpers/agent.js'
import { makePki, protocolStubServer, type TestPki } from '../helpers/protocol-stub.js'
import { until } from '../helpers/until.js'

const IDLE_MS = 60_000
const hb = (backlog: number): HeartbeatPayload => ({ agentVersion: 'test', aideVersion: 'AIDE 0.18', state: 'active', backlog, lastScanId: null, directiveVersion: null })

async function setup (t: Test, opts: { token?: string, tokenSent?: string, cn?: string } = {}) {
  const dir = t.testdir()
  const pki: TestPki = await makePki(dir)
  const stub = await protocolStubServer(t, { pki, token: opts.token })
  const client = await pki.client(opts.cn ?? 'system:node:node-a')
  const store = openStore(join(dir, 'state.db'))
  const cursors = new CursorStore(store.db)
  const holder: { pusher: Pusher | null } = { pusher: null }
  const outbox = new Outbox(store.db, Date.now, () => holder.pusher?.notify())
  const credentials = opts.tokenSent === undefined
    ? { ca: readFileSync(pki.caFile, 'utf8'), cert: readFileSync(client.certFile, 'utf8'), key: readFileSync(client.keyFile, 'utf8'), token: null }
    : { ca: readFileSync(pki.caFile, 'utf8'), cert: null, key: null, token: opts.tokenSent }
  const link = new AggregatorLink({ url: stub.url, node: 'node-a', credentials, now: Date.now })
  const sleeps: number[] = []
  const logs: Array<Record<string, unknown>> = []
  const pusher = new Pusher({
    link, outbox, cursors, transaction: fn => store.db.transaction(fn)(), node: 'node-a', log: sinkLogger(logs), now: Date.now,
    backoff: { baseMs: 1000, maxMs: 8000, random: () => 0.5 }, refusedMinMs: 5000, idlePollMs: IDLE_MS,
    sleep: async (ms, signal) => { if (ms !== IDLE_MS) sleeps.push(ms); await realSleep(ms === IDLE_MS ? ms : 1, signal) },
  })
  holder.pusher = pusher
  t.teardown(async () => { await pusher.close(); await link.close(); store.close() })
  const enqueue = (n: number) => store.db.transaction(() => { for (let i = 0; i < n; i++) outbox.enqueue('heartbeat', hb(i)) })()
  return { dir, pki, stub, store, outbox, cursors, link, pusher, sleeps, logs, enqueue }
}

t.test('reports arrive in seq order, each once, and leave the outbox only once acknowledged', async t => {
  const s = await setup(t)
  s.stub.isHoldingReports = true
  s.enqueue(3)
  s.pusher.start()
  await until('the batch reached the aggregator', () => s.stub.postsRead > 0)
  t.equal(s.outbox.backlog().count, 3, 'nothing deleted before the ack')
  s.stub.isHoldingReports = false
  await until('the outbox drained', () => s.outbox.backlog().count === 0)
  t.same(s.stub.applied.map(r => r.seq), [1, 2, 3])
  t.same(s.stub.applied.map(r => (r.payload as HeartbeatPayload).backlog), [0, 1, 2])
  t.match(s.pusher.lastAck, { seq: 3, at: Number })
  t.equal(s.stub.requests[0]?.cn, 'system:node:node-a', 'the client certificate was presented')
  s.enqueue(1)
  await until('a report enqueued later is sent without waiting for the idle poll', () => s.outbox.backlog().count === 0)
  t.same(s.stub.applied.map(r => r.seq), [1, 2, 3, 4])
  t.same(s.sleeps, [], 'no retries')
})

t.test('a partial ack deletes what it covers and leaves the rest, which is sent again', async t => {
  const s = await setup(t)
  s.stub.ackLimit = 2
  let seen: number[] | null = null
  s.stub.onApplied = () => {
    if (seen !== null) return
    // Runs before the first answer: after it, look at the outbox while the second POST is held.
    s.stub.onApplied = () => {}
    seen = []
    setImmediate(() => { s.stub.isHoldingReports = true })
  }
  s.enqueue(5)
  s.pusher.start()
  await until('the second batch is held', () => s.stub.postsRead >= 2 && s.stub.isHoldingReports)
  t.same(s.outbox.peek(10).map(r => r.seq), [3, 4, 5], 'acked 1..2 deleted, 3..5 kept')
  t.same(s.stub.applied.map(r => r.seq), [1, 2])
  s.stub.isHoldingReports = false
  await until('the outbox drained', () => s.outbox.backlog().count === 0)
  t.same(s.stub.applied.map(r => r.seq), [1, 2, 3, 4, 5], 'each once, in order')
})

t.test('503 and 429 are retried with exponential backoff and full jitter, reset by a success', async t => {
  const s = await setup(t)
  s.stub.failReports.push(503, 503, 429)
  s.enqueue(2)
  s.pusher.start()
  await until('the outbox drained', () => s.outbox.backlog().count === 0)
  t.same(s.sleeps, [500, 1000, 2000], 'random 0.5 of 1 s, 2 s, 4 s')
  t.same(s.stub.requests.map(r => r.status), [503, 503, 429, 200])
  t.same(s.stub.applied.map(r => r.seq), [1, 2])
  s.stub.failReports.push(500)
  s.enqueue(1)
  await until('the outbox drained again', () => s.outbox.backlog().count === 0)
  t.same(s.sleeps, [500, 1000, 2000, 500], 'the backoff started over after the success')
  t.match(s.link.health, { isConnected: true, lastError: /answered 500/ })
})

t.test('a refusal (401) is logged as an error and backed off, never spun on', async t => {
  const s = await setup(t, { token: 'the-right-token', tokenSent: 'a-wrong-token' })
  s.enqueue(1)
  s.pusher.start()
  await until('three refusals', () => s.sleeps.length >= 3)
  t.ok(s.sleeps.every(ms => ms >= 5000), 'every wait is at least refusedMinMs')
  t.ok(s.stub.requests.length <= s.sleeps.length + 1, 'one request per wait')
  t.equal(s.stub.requests[0]?.status, 401)
  t.equal(s.stub.requests[0]?.authorization, 'Bearer a-wrong-token')
  t.ok(s.logs.some(l => l.level === 50 && /refused/.test(String(l.msg))), 'logged at error level')
  t.equal(s.outbox.backlog().count, 1, 'nothing deleted')
  t.match(s.link.health, { isConnected: false, lastError: /refused with 401/ })
})

t.test('bearer token mode: the token is sent and accepted', async t => {
  const s = await setup(t, { token: 'tok-123', tokenSent: 'tok-123' })
  s.enqueue(2)
  s.pusher.start()
  await until('the outbox drained', () => s.outbox.backlog().count === 0)
  t.equal(s.stub.requests[0]?.authorization, 'Bearer tok-123')
  t.equal(s.stub.requests[0]?.cn, null, 'no client certificate in token mode')
})

t.test('an ack for another node is an error: nothing is deleted', async t => {
  const s = await setup(t)
  s.stub.ackNode = 'node-b'
  s.enqueue(1)
  s.pusher.start()
  await until('a retry', () => s.sleeps.length >= 1)
  t.equal(s.outbox.backlog().count, 1)
  t.match(s.link.health.lastError, /answered for node "node-b", but this agent is "node-a"/)
})

t.test('a certificate for another node is refused (403) and nothing is deleted', async t => {
  const s = await setup(t, { cn: 'system:node:node-b' })
  s.enqueue(1)
  s.pusher.start()
  await until('a retry', () => s.sleeps.length >= 1)
  t.equal(s.stub.requests[0]?.status, 403)
  t.equal(s.outbox.backlog().count, 1)
})

t.test('close() aborts a request in flight and keeps the outbox', async t => {
  const s = await setup(t)
  s.stub.isHoldingReports = true
  s.enqueue(2)
  s.pusher.start()
  await until('the batch reached the aggregator', () => s.stub.postsRead > 0)
  await s.pusher.close()
  t.ok(s.stub.isHoldingReports, 'closed while the aggregator still held the request')
  t.equal(s.outbox.backlog().count, 2)
})

/** Reconcile rounds: a round asked for during another is queued behind it, never merged into it. */
import t from 'tap'
import { RoundQueue } from '../../src/core/round-queue.js'

/** A round that records what it read when it started and finishes when released. */
function rounds () {
  const state = { value: 0 }
  const started: number[] = []
  const release: Array<() => void> = []
  const errors: unknown[] = []
  let fail = false
  const queue = new RoundQueue(async () => {
    started.push(state.value)
    await new Promise<void>(resolve => release.push(resolve))
    if (fail) throw new Error('round failed')
  }, err => errors.push(err))
  const tick = async (): Promise<void> => { await new Promise(resolve => setImmediate(resolve)) }
  return { state, started, release, errors, queue, tick, failNext: () => { fail = true } }
}

t.test('a round asked for after a change, while an older round runs, reads the change', async t => {
  const r = rounds()
  let firstDone = false
  let secondDone = false
  void r.queue.request().then(() => { firstDone = true })
  r.state.value = 1 // the caller's change, after the running round read the cluster
  const second = r.queue.request().then(() => { secondDone = true })
  const third = r.queue.request()
  t.same(r.started, [0], 'one round at a time')
  r.release.shift()?.()
  await r.tick()
  t.ok(firstDone)
  t.notOk(secondDone, 'the running round did not answer the later ask')
  t.same(r.started, [0, 1], 'the queued round started after it and read the change')
  r.release.shift()?.()
  await second
  await third
  t.same(r.started, [0, 1], 'asks made while one round waited share it')
  await r.queue.idle()
})

t.test('a failed round is reported and the queue goes on', async t => {
  const r = rounds()
  r.failNext()
  const first = r.queue.request()
  r.release.shift()?.()
  await first
  t.match(r.errors, [{ message: 'round failed' }])
  const next = r.queue.request()
  t.equal(r.started.length, 2, 'a new round runs')
  r.release.shift()?.()
  await next
  await r.queue.idle()
})

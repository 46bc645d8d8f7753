/** The loopback TCP metrics listener of a real agent: loopback only, closed on stop, clear when the port is taken. */
import t from 'tap'
import { once } from 'node:events'
import { existsSync } from 'node:fs'
import { request } from 'node:http'
import { createServer, type AddressInfo } from 'node:net'
import { networkInterfaces } from 'node:os'
import { startDaemon } from '../../src/agent/daemon.js'
import { MetricsServer } from '../../src/agent/metrics-server.js'
import { parseExposition, sampleValue } from '../helpers/exposition.js'
import { sinkLogger, startAgent } from '../helpers/agent.js'

function get (host: string, port: number, path = '/metrics', method = 'GET'): Promise<{ status: number, text: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host, port, path, method }, res => {
      let text = ''
      res.on('data', (b: Buffer) => { text += b.toString() })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }))
    })
    req.on('error', reject)
    req.end()
  })
}

/** A port the kernel just handed out on 127.0.0.1 (port 0), released again for the agent to take. */
async function freePort (): Promise<number> {
  const s = createServer()
  s.listen(0, '127.0.0.1')
  await once(s, 'listening')
  const port = (s.address() as AddressInfo).port
  await new Promise(resolve => s.close(resolve))
  return port
}

/** This host's own addresses that are not loopback: the listener must not answer on them. */
function outsideAddresses (): string[] {
  return Object.values(networkInterfaces()).flat().filter(a => a !== undefined && !a.internal && !a.address.startsWith('fe80')).map(a => a!.address)
}

t.test('metrics.port serves /metrics on 127.0.0.1 and ::1, never on the node\'s other addresses', async t => {
  const port = await freePort()
  const agent = await startAgent(t, { overrides: { 'metrics.port': port } })
  await agent.daemon.scanner.idle()
  for (const host of ['127.0.0.1', '::1']) {
    const res = await get(host, port)
    t.equal(res.status, 200, host)
    t.equal(sampleValue(parseExposition(res.text), 'podsec_fim_agent_scans_total', { kind: 'init', condition: 'Succeeded' }), 1, `${host} serves the agent's metrics`)
  }
  const outside = outsideAddresses()
  t.ok(outside.length > 0, 'this host has a non-loopback address to try')
  for (const host of outside) await t.rejects(get(host, port), { code: 'ECONNREFUSED' }, `not on ${host}`)
  t.equal((await get('127.0.0.1', port, '/')).status, 404)
  t.equal((await get('127.0.0.1', port, '/metrics', 'POST')).status, 405)
  t.equal((await get('127.0.0.1', port, '/metrics', 'HEAD')).status, 200)
  t.match(agent.logs.find(l => l.msg === 'serving metrics on loopback'), { port, hosts: ['127.0.0.1', '::1'] })
  await agent.daemon.close()
  await t.rejects(get('127.0.0.1', port), { code: 'ECONNREFUSED' }, 'closed when the agent stops')
  await t.rejects(get('::1', port), { code: 'ECONNREFUSED' })
})

t.test('a taken port stops the agent at start with PFIM_METRICS_UNAVAILABLE and leaves nothing behind', async t => {
  const blocker = createServer()
  blocker.listen(0, '127.0.0.1')
  await once(blocker, 'listening')
  t.teardown(() => blocker.close())
  const port = (blocker.address() as AddressInfo).port
  const agent = await startAgent(t)
  await agent.daemon.close()
  const config = { ...agent.config, metrics: { port } }
  await t.rejects(startDaemon(config, { log: sinkLogger([]), now: Date.now, path: process.env.PATH ?? '', pid: process.pid }), {
    code: 'PFIM_METRICS_UNAVAILABLE', where: 'metrics.port', message: new RegExp(`cannot serve metrics on 127\\.0\\.0\\.1 port ${port}: .*EADDRINUSE`),
  })
  t.notOk(existsSync(agent.config.socketPath), 'the control socket was closed and removed again')
  const again = await startDaemon(agent.config, { log: sinkLogger([]), now: Date.now, path: process.env.PATH ?? '', pid: process.pid })
  t.teardown(() => again.close())
  t.pass('the state dir lock was released: the agent starts without metrics.port')
})

t.test('a rendering error answers 500 and is logged; the listener keeps serving', async t => {
  const logs: Array<Record<string, unknown>> = []
  let fail = true
  const server = new MetricsServer(() => { if (fail) throw new Error('boom'); return '# ok\n' }, sinkLogger(logs))
  t.teardown(() => server.close())
  await server.listen(await freePort())
  const port = server.addresses()[0]!.port
  t.equal((await get('127.0.0.1', port)).status, 500)
  t.match(logs.find(l => l.msg === 'rendering the metrics failed'), { err: { message: 'boom' } })
  fail = false
  t.same(await get('127.0.0.1', port), { status: 200, text: '# ok\n' })
})

/**
 * The control client over a real unix socket: how the agent's answers and a missing agent become
 * errors. A small HTTP server stands in for the agent where a real one cannot be made to answer so.
 */
import t, { type Test } from 'tap'
import { createServer, type ServerResponse } from 'node:http'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { requestScan, requestStatus } from '../../src/cli/control-client.js'
import { runCli } from './run-cli.js'

type Answer = (res: ServerResponse, method: string, path: string) => void

async function fakeAgent (t: Test, answer: Answer): Promise<{ socket: string, dir: string, seen: string[] }> {
  const dir = mkdtempSync(join(tmpdir(), 'pfim-cc-'))
  const socket = join(dir, 'agent.sock')
  const seen: string[] = []
  const server = createServer((req, res) => {
    seen.push(`${req.method ?? ''} ${req.url ?? ''}`)
    answer(res, req.method ?? '', req.url ?? '')
  })
  await new Promise<void>(resolve => server.listen(socket, resolve))
  t.teardown(async () => {
    server.closeAllConnections()
    await new Promise(resolve => server.close(resolve))
    rmSync(dir, { recursive: true, force: true })
  })
  return { socket, dir, seen }
}

function json (res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' })
  res.end(JSON.stringify(body))
}

t.test('requests go to the documented paths and methods', async t => {
  const agent = await fakeAgent(t, res => json(res, 200, { scan: { id: 7 } }))
  t.match(await requestScan(agent.socket, 'check'), { scan: { id: 7 } })
  await requestScan(agent.socket, 'reinit')
  await requestStatus(agent.socket)
  t.same(agent.seen, ['POST /v1/check', 'POST /v1/reinit', 'GET /v1/status'])
})

t.test('an error body becomes an AppError with the agent\'s code and message', async t => {
  const agent = await fakeAgent(t, (res, _m, path) => path === '/v1/check'
    ? json(res, 409, { error: { code: 'PFIM_BASELINE_MISSING', message: 'no baseline yet' } })
    : json(res, 500, { error: { code: 'SOMETHING_NEW', message: 'from a newer agent' } }))
  await t.rejects(requestScan(agent.socket, 'check'), { code: 'PFIM_BASELINE_MISSING', message: 'no baseline yet', status: 409 })
  await t.rejects(requestStatus(agent.socket), { code: 'PFIM_CONTROL_FAILED', message: 'from a newer agent', status: 500 }, 'an unknown code is kept out of the typed codes')
})

t.test('an answer that is not JSON, or a dropped connection, is PFIM_CONTROL_FAILED', async t => {
  const agent = await fakeAgent(t, (res, _m, path) => {
    if (path === '/v1/status') {
      res.writeHead(502)
      res.end('<html>bad gateway</html>')
    } else {
      res.socket?.destroy()
    }
  })
  await t.rejects(requestStatus(agent.socket), { code: 'PFIM_CONTROL_FAILED', message: /answered GET \/v1\/status with status 502 and no JSON/ })
  await t.rejects(requestScan(agent.socket, 'check'), { code: 'PFIM_CONTROL_FAILED', message: /request to the agent on .* failed/ })
})

t.test('no socket, or a path nobody listens on, is PFIM_AGENT_UNREACHABLE with the plain message', async t => {
  const dir = t.testdir()
  writeFileSync(join(dir, 'stale.sock'), '')
  for (const socket of [join(dir, 'absent.sock'), join(dir, 'stale.sock')]) {
    await t.rejects(requestStatus(socket), {
      code: 'PFIM_AGENT_UNREACHABLE',
      message: `no podsec-fim agent is listening on ${socket} (is podsec-fim-agent running? start it with systemctl --user start podsec-fim-agent)`,
    })
  }
})

t.test('through the CLI: an agent that answers status with an error is not "not running" (exit 70)', async t => {
  const agent = await fakeAgent(t, res => json(res, 500, { error: { code: 'PFIM_STORE_FAILED', message: 'disk full' } }))
  const r = await runCli(['--socket', agent.socket, '--state-dir', agent.dir, 'status'])
  t.equal(r.exitCode, 70)
  t.equal(r.stdout, '')
  t.equal(r.stderr, 'podsec-fim: disk full (PFIM_STORE_FAILED)\n')
  const check = await runCli(['--socket', agent.socket, 'check'])
  t.equal(check.exitCode, 3, 'check could not run')
})

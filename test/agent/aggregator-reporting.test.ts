/**
 * A real agent (real AIDE, real SQLite, control socket) reporting over real TLS to
 * protocolStubServer, which stands in for podsec-fim-aggregator in these unit tests only.
 */
import t, { type Test } from 'tap'
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { gunzipSync } from 'node:zlib'
import { stringify } from 'yaml'
import { startDaemon, type Daemon } from '../../src/agent/daemon.js'
import { realSleep } from '../../src/agent/backoff.js'
import type { HeartbeatPayload, ScanPayload } from '../../src/core/protocol.js'
import { postControl, sinkLogger, startAgent, type AgentFixture } from '../helpers/agent.js'
import { makePki, protocolStubServer, type DirectiveInput, type ProtocolStub } from '../helpers/protocol-stub.js'
import { until } from '../helpers/until.js'

const RETRY = { backoff: { baseMs: 10, maxMs: 50, random: () => 0.5 }, sleep: realSleep }

async function reportingAgent (t: Test, opts: { kubeconfig?: boolean } = {}) {
  const dir = t.testdir()
  const pki = await makePki(dir)
  const stub = await protocolStubServer(t, { pki })
  const client = await pki.client('system:node:node-a')
  const credentials = opts.kubeconfig === true
    ? { 'aggregator.kubeletConfig': writeKubeletConf(dir, pki.caFile, client) }
    : { 'aggregator.caFile': pki.caFile, 'aggregator.certFile': client.certFile, 'aggregator.keyFile': client.keyFile }
  const overrides = { 'aggregator.url': stub.url, 'aggregator.pollSeconds': 2, 'aggregator.heartbeatSeconds': 3600, ...credentials }
  const agent = await startAgent(t, { overrides, deps: { aggregatorRetry: RETRY } })
  return { agent, stub, dir }
}

/** As kubeadm writes it: relative file names for the kubelet's client certificate, the CA inline. */
function writeKubeletConf (dir: string, caFile: string, client: { certFile: string, keyFile: string }): string {
  writeFileSync(join(dir, 'kubelet-client-current.pem'), readFileSync(client.certFile, 'utf8') + readFileSync(client.keyFile, 'utf8'))
  const file = join(dir, 'kubelet.conf')
  writeFileSync(file, stringify({
    apiVersion: 'v1', kind: 'Config', 'current-context': 'default',
    clusters: [{ name: 'default-cluster', cluster: { server: 'https://127.0.0.1:6443', 'certificate-authority-data': readFileSync(caFile).toString('base64') } }],
    users: [{ name: 'default-auth', user: { 'client-certificate': 'kubelet-client-current.pem', 'client-key': 'kubelet-client-current.pem' } }],
    contexts: [{ name: 'default', context: { cluster: 'default-cluster', user: 'default-auth' } }],
  }))
  return file
}

function directive (version: string, d: Partial<DirectiveInput> = {}): DirectiveInput {
  return { version, fileIntegrity: { name: 'worker-fileintegrity', namespace: 'openshift-file-integrity' }, debug: false, aideConfig: null, holdoff: false, reinitToken: null, ...d }
}

const scans = (stub: ProtocolStub) => stub.applied.filter(r => r.kind === 'scan').map(r => r.payload as ScanPayload)
const inits = (a: AgentFixture | { daemon: Daemon }) => a.daemon.store.listScans({ limit: 100 }).filter(s => s.kind === 'init').reverse()

async function restart (t: Test, agent: AgentFixture): Promise<Daemon> {
  await agent.daemon.close()
  const daemon = await startDaemon(agent.config, { log: sinkLogger(agent.logs), now: Date.now, path: process.env.PATH ?? '/usr/bin:/bin', pid: process.pid, aggregatorRetry: RETRY })
  t.teardown(() => daemon.close())
  return daemon
}

t.test('every finished scan is reported with its log and files; heartbeats too', async t => {
  const { agent, stub } = await reportingAgent(t)
  const init = await until('the startup init report', () => scans(stub).find(s => s.kind === 'init'))
  t.match(init, { scanId: 1, trigger: 'startup', condition: 'Succeeded', exitCode: 0, reinitToken: null, filesTruncated: false })
  t.equal(gunzipSync(Buffer.from(init.logGzipBase64 ?? '', 'base64')).toString(), readFileSync(join(agent.config.stateDir, 'aide', 'aide.log'), 'utf8'))
  t.equal(stub.requests[0]?.cn, 'system:node:node-a')
  const hb = stub.applied.find(r => r.kind === 'heartbeat')?.payload as HeartbeatPayload
  t.match(hb, { agentVersion: String, aideVersion: /AIDE/, state: /initializing|active/, directiveVersion: null })
  writeFileSync(join(agent.tree, 'etc/app.conf'), 'changed\n')
  writeFileSync(join(agent.tree, 'etc/new\nline'), 'x')
  await postControl(agent.config.socketPath, '/v1/check')
  const check = await until('the check report', () => scans(stub).find(s => s.kind === 'check'))
  t.match(check, { condition: 'Failed', exitCode: 5, added: 1, changed: 1, removed: 0, trigger: 'manual' })
  t.same(check.files, { added: [`${agent.tree}/etc/new\\nline`], changed: [`${agent.tree}/etc/app.conf`], removed: [] })
  const seqs = stub.applied.map(r => r.seq)
  t.same(seqs, [...seqs].sort((a, b) => a - b), 'applied in seq order')
  await until('the outbox drained', () => agent.daemon.reporting?.view().backlog === 0)
})

t.test('a restarted agent sends what it could not deliver before', async t => {
  const { agent, stub } = await reportingAgent(t)
  stub.failReports.push(...Array<number>(100_000).fill(503))
  await agent.daemon.scanner.idle()
  await until('a refused delivery', () => stub.requests.some(r => r.status === 503))
  t.equal(stub.applied.length, 0)
  const pending = agent.daemon.reporting?.view().backlog ?? 0
  t.ok(pending >= 2, 'the init scan and a heartbeat wait in the outbox')
  const daemon = await restart(t, agent)
  // Deliveries still fail here, so the outbox shows what the restart queued next to the old backlog.
  const heartbeats = daemon.store.db.prepare("SELECT count(*) AS n FROM outbox WHERE kind = 'heartbeat'").get() as { n: number }
  t.equal(heartbeats.n, 1, 'the unsent heartbeat was replaced, not piled up')
  stub.failReports.length = 0
  const init = await until('the init report after the restart', () => scans(stub).find(s => s.kind === 'init'))
  t.equal(init.scanId, 1)
  const seqs = stub.applied.map(r => r.seq)
  t.equal(new Set(seqs).size, seqs.length, 'each report once')
  await daemon.close()
})

t.test('credentials from the kubelet\'s kubeconfig', async t => {
  const { stub } = await reportingAgent(t, { kubeconfig: true })
  await until('a delivery', () => stub.applied.length > 0)
  t.equal(stub.requests[0]?.cn, 'system:node:node-a')
})

t.test('a broken kubeconfig stops the start with a typed error naming the file and field', async t => {
  const dir = t.testdir({ 'kubelet.conf': 'current-context: x\ncontexts: []\n' })
  await t.rejects(startAgent(t, { overrides: { 'aggregator.url': 'https://127.0.0.1:1', 'aggregator.kubeletConfig': join(dir, 'kubelet.conf') } }),
    { code: 'PFIM_KUBECONFIG_INVALID', message: /kubelet\.conf: contexts has no entry named "x"/ })
})

t.test('a re-init token causes exactly one init, with a backup, and not again after a restart', async t => {
  const { agent, stub } = await reportingAgent(t)
  await until('the startup init report', () => scans(stub).find(s => s.kind === 'init'))
  stub.setDirective(directive('v1', { reinitToken: 'tok-1' }))
  const report = await until('the directive init report', () => scans(stub).find(s => s.trigger === 'directive'))
  t.match(report, { kind: 'init', condition: 'Succeeded', reinitToken: 'tok-1' })
  t.ok(readdirSync(join(agent.config.stateDir, 'aide')).some(n => n.startsWith('aide.db.gz.backup-')), 'the old baseline was backed up')
  stub.setDirective(directive('v2', { reinitToken: 'tok-1', holdoff: false }))
  await until('v2 applied', () => agent.daemon.reporting?.view().directiveVersion === 'v2')
  await agent.daemon.scanner.idle()
  t.equal(inits(agent).length, 2, 'a new version with the same token does not re-init')
  const daemon = await restart(t, agent)
  await daemon.scanner.idle()
  await until('the restarted agent polls after v2', () => stub.requests.filter(r => r.path.includes('after=v2')).length >= 2)
  t.equal(daemon.reporting?.view().directiveVersion, 'v2', 'the applied version survived the restart')
  t.same(inits({ daemon }).map(s => s.trigger), ['startup', 'directive'], 'no re-init after the restart')
  await daemon.close()
})

t.test('a FileIntegrity aide.conf (FIO paths under /hostroot) is used after one re-init; null goes back', async t => {
  const { agent, stub } = await reportingAgent(t)
  await agent.daemon.scanner.idle()
  const fio = [
    '@@define DBDIR /hostroot/etc/kubernetes', '@@define LOGDIR /hostroot/etc/kubernetes',
    'database=file:@@{DBDIR}/aide.db.gz', 'database_out=file:@@{DBDIR}/aide.db.gz.new', 'gzip_dbout=yes', 'verbose=5',
    'report_url=file:@@{LOGDIR}/aide.log', 'report_url=stdout', 'FILES = p+ftype+i+l+n+u+g+s+sha512',
    `/hostroot${agent.tree}/etc($|/) FILES`, '',
  ].join('\n')
  stub.setDirective(directive('c1', { aideConfig: fio }))
  await until('the directive init', () => scans(stub).find(s => s.trigger === 'directive'))
  t.match(scans(stub).find(s => s.trigger === 'directive'), { condition: 'Succeeded', reinitToken: null })
  const rendered = readFileSync(join(agent.config.stateDir, 'aide', 'aide.conf'), 'utf8')
  t.match(rendered, `\n${agent.tree}/etc($|/) FILES`)
  t.notMatch(rendered, /^[^#].*\/hostroot/m)
  t.match(rendered, '# podsec-fim: not supported by AIDE 0.18 (use log_level/report_level): verbose=5')
  writeFileSync(join(agent.tree, 'etc/app.conf'), 'changed\n')
  writeFileSync(join(agent.tree, 'bin/tool'), 'outside the cluster rules\n')
  const check = await postControl(agent.config.socketPath, '/v1/check')
  t.match(check, { status: 200, body: { scan: { condition: 'Failed', changed: 1, added: 0, removed: 0 } } }, 'only the cluster config\'s selection')
  stub.setDirective(directive('c2', { aideConfig: null }))
  await until('the re-init back to the agent\'s own rules', () => inits(agent).length === 3)
  await agent.daemon.scanner.idle()
  writeFileSync(join(agent.tree, 'lib/data.txt'), 'changed too\n')
  const own = await postControl(agent.config.socketPath, '/v1/check')
  t.match(own, { status: 200, body: { scan: { condition: 'Failed', changed: 1 } } }, 'lib/ is watched again')
  t.same(inits(agent).map(s => s.trigger), ['startup', 'directive', 'directive'])
})

t.test('holdoff blocks scheduled and requested checks; the release runs the skipped check', async t => {
  const { agent, stub } = await reportingAgent(t)
  await agent.daemon.scanner.idle()
  stub.setDirective(directive('h1', { holdoff: true, initialDelay: 0 }))
  await until('the scheduled check skipped', () => agent.logs.some(l => l.msg === 'scheduled check skipped: checks are held off by the cluster'))
  t.match(agent.daemon.status().aggregator, { isHeld: true, directiveVersion: 'h1' })
  t.match(await postControl(agent.config.socketPath, '/v1/check'), { status: 409, body: { error: { code: 'PFIM_AGENT_HELD', message: /held off by the cluster/ } } })
  t.equal(agent.daemon.store.listScans({ limit: 10 }).filter(s => s.kind === 'check').length, 0, 'no check ran')
  stub.isHoldingReports = true
  const daemon = await restart(t, agent)
  t.match(daemon.status().aggregator, { isHeld: true, directiveVersion: 'h1' }, 'held from the first second after a restart, before any answer')
  await until('the restarted schedule skipped its check', () => agent.logs.filter(l => l.msg === 'scheduled check skipped: checks are held off by the cluster').length >= 2)
  stub.isHoldingReports = false
  stub.setDirective(directive('h2', { holdoff: false, initialDelay: 0 }))
  const resumed = await until('the skipped check after the release', () => daemon.store.lastScan('check'))
  t.match(resumed, { trigger: 'schedule' })
  await daemon.close()
})

t.test('a gracePeriod change re-arms the pending check', async t => {
  const { agent, stub } = await reportingAgent(t)
  await agent.daemon.scanner.idle()
  stub.setDirective(directive('g1', { initialDelay: 0 }))
  const first = await until('the first scheduled check', () => agent.daemon.store.lastScan('check'))
  const armed = await until('the next check armed', () => agent.daemon.status().nextCheckAt)
  const finished = first.finishedAt ?? 0
  t.ok(Math.abs(Date.parse(armed) - finished - 3600_000) < 10_000, 'the configured gracePeriod (3600 s)')
  stub.setDirective(directive('g2', { initialDelay: 0, gracePeriod: 60 }))
  const rearmed = await until('re-armed', () => { const n = agent.daemon.status().nextCheckAt; return n !== armed && n !== null ? n : null })
  t.ok(Math.abs(Date.parse(rearmed) - finished - 60_000) < 10_000, 'the directive\'s gracePeriod (60 s) from the last check')
})

t.test('a standalone agent queues nothing and shows no aggregator', async t => {
  const agent = await startAgent(t)
  await agent.daemon.scanner.idle()
  t.equal(agent.daemon.reporting, null)
  t.equal(agent.daemon.status().aggregator, null)
  t.equal((agent.daemon.store.db.prepare('SELECT count(*) AS n FROM outbox').get() as { n: number }).n, 0)
  t.notOk(existsSync(join(agent.config.stateDir, 'aide', 'cluster-aide.conf')))
})

t.test('debug turns the agent\'s log up to debug (AIDE\'s stderr included) and back', async t => {
  const { agent, stub } = await reportingAgent(t)
  await agent.daemon.scanner.idle()
  const changes = () => agent.logs.filter(l => l.msg === 'log level changed by the cluster (FileIntegrity debug)').map(l => l.logLevel)
  stub.setDirective(directive('d1', { debug: true }))
  await until('debug on', () => changes().length === 1)
  t.same(changes(), ['debug'])
  await postControl(agent.config.socketPath, '/v1/check')
  t.ok(agent.logs.some(l => l.msg === 'AIDE stderr' && l.component === 'scanner'), 'AIDE\'s stderr is logged')
  stub.setDirective(directive('d2', { debug: false }))
  await until('debug off', () => changes().length === 2)
  t.same(changes(), ['debug', 'info'])
})

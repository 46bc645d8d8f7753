/**
 * npm run bench (part 2): 200 simulated agents against one aggregator and the real kube-apiserver
 * of the test bed. Each agent has its own node client certificate and speaks protocol v1 over
 * HTTPS. Printed, never asserted:
 *   - reports per second and p50/p99 latency for first results, unchanged results, and failures;
 *   - API writes per report (goal: 0 when nothing changed);
 *   - the latency ratio against the baseline measured in the same run: one plain GET of a node
 *     status from the API server with the aggregator's own client (404: none exist yet).
 */
import { readFile } from 'node:fs/promises'
import { gzipSync } from 'node:zlib'
import { Agent, request } from 'undici'
import { NODESTATUSES } from '../../src/aggregator/kube-client.js'
import { aggregatorBed, NAMESPACE, type NodeCreds } from '../helpers/aggregator.js'

const AGENTS = Number(process.env.BENCH_AGENTS ?? 200)
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 50)

interface SimAgent { node: string, dispatcher: Agent }

const at = (seq: number): string => new Date(Date.UTC(2026, 10, 23, 12, 0, 0) + seq * 1000).toISOString()

function scanReport (seq: number, failed: boolean): unknown {
  const log = failed ? gzipSync('Changed entries:\nf   ...    .C... : /etc/resolv.conf\n').toString('base64') : null
  return {
    seq, at: at(seq), kind: 'scan',
    payload: {
      scanId: seq, kind: 'check', trigger: 'schedule', condition: failed ? 'Failed' : 'Succeeded', startedAt: at(seq), finishedAt: at(seq),
      exitCode: failed ? 4 : 0, added: 0, changed: failed ? 1 : 0, removed: 0, unverified: 0, errorCode: null, error: null,
      logGzipBase64: log, logBytes: log === null ? 0 : 60, files: { added: [], changed: failed ? ['/etc/resolv.conf'] : [], removed: [] },
      filesTruncated: false, reinitToken: null,
    },
  }
}

const heartbeat = (seq: number): unknown => ({ seq, at: at(seq), kind: 'heartbeat', payload: { agentVersion: '0.1.0', aideVersion: '0.18.3', state: 'active', backlog: 0, lastScanId: 1, directiveVersion: null } })

function percentile (xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor(s.length * p))] as number
}

/** Runs fn for every agent with at most CONCURRENCY in flight; returns each call's latency in ms. */
async function fanOut (agents: SimAgent[], fn: (a: SimAgent) => Promise<void>): Promise<{ latencies: number[], wallMs: number }> {
  const latencies: number[] = []
  const queue = [...agents]
  const t0 = performance.now()
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    for (let a = queue.shift(); a !== undefined; a = queue.shift()) {
      const s = performance.now()
      await fn(a)
      latencies.push(performance.now() - s)
    }
  }))
  return { latencies, wallMs: performance.now() - t0 }
}

async function main (): Promise<void> {
  const teardowns: Array<() => unknown> = []
  const bed = await aggregatorBed({ teardown: fn => { teardowns.push(fn) } }, { resyncSeconds: 5 })
  try {
    const nodes = Array.from({ length: AGENTS }, (_, i) => `bench-node-${String(i).padStart(3, '0')}`)
    await bed.k(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: nodes.map(name => ({ apiVersion: 'v1', kind: 'Node', metadata: { name, labels: { bench: 'yes' } } })) }))
    await bed.k(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'fileintegrity.openshift.io/v1alpha1', kind: 'FileIntegrity', metadata: { name: 'bench', namespace: NAMESPACE }, spec: { nodeSelector: { bench: 'yes' }, config: {} } }))
    await bed.agg.reconcile()
    const ca = await readFile(bed.caFile)
    const agents: SimAgent[] = []
    for (const node of nodes) {
      const c: NodeCreds = await bed.nodeCreds(node)
      agents.push({ node, dispatcher: new Agent({ connect: { ca, cert: c.cert, key: c.key } }) })
    }
    const post = async (a: SimAgent, reports: unknown[]): Promise<void> => {
      const res = await request(`${bed.url}/v1/reports`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ node: a.node, reports }), dispatcher: a.dispatcher })
      const text = await res.body.text()
      if (res.statusCode !== 200) throw new Error(`${a.node}: ${res.statusCode} ${text}`)
    }
    const rounds: Array<[string, (a: SimAgent) => unknown[]]> = [
      ['first results (create)', () => [scanReport(1, false)]],
      ['first heartbeat (agent state recorded)', () => [heartbeat(2)]],
      ['nothing changed: same result + heartbeat', () => [scanReport(3, false), heartbeat(4)]],
      ['failures (status + ConfigMap + event)', () => [scanReport(5, true)]],
      ['re-sent failures (duplicates)', () => [scanReport(5, true)]],
    ]
    const baseline = await fanOut(agents, async a => { await bed.agg.kube.find({ ...NODESTATUSES, namespace: NAMESPACE, name: `bench-${a.node}` }) })
    const base50 = percentile(baseline.latencies, 0.5)
    process.stdout.write(`aggregator bench: ${AGENTS} agents, ${CONCURRENCY} in flight, real kube-apiserver\n`)
    process.stdout.write(`  baseline: GET of a node status (404 before the first round) from the API server: p50 ${base50.toFixed(1)} ms, p99 ${percentile(baseline.latencies, 0.99).toFixed(1)} ms\n`)
    for (const [name, reports] of rounds) {
      const writes0 = bed.agg.kube.writes
      const reportCount = reports(agents[0] as SimAgent).length
      const r = await fanOut(agents, a => post(a, reports(a)))
      const writes = bed.agg.kube.writes - writes0
      const p50 = percentile(r.latencies, 0.5)
      const p99 = percentile(r.latencies, 0.99)
      process.stdout.write(`  ${name}: ${(AGENTS * reportCount / (r.wallMs / 1000)).toFixed(0)} reports/s, p50 ${p50.toFixed(1)} ms (${(p50 / base50).toFixed(1)}x baseline), p99 ${p99.toFixed(1)} ms (${(p99 / base50).toFixed(1)}x), API writes per report ${(writes / (AGENTS * reportCount)).toFixed(2)}\n`)
    }
    for (const a of agents) await a.dispatcher.close()
  } finally {
    for (const fn of teardowns.reverse()) await fn()
  }
}

await main()

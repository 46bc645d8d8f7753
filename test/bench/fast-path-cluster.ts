/**
 * npm run bench (part 3): from a write under a watched root to the Failed result, first in the
 * agent's SQLite and then in the FileIntegrityNodeStatus on the real kube-apiserver, through the
 * fast path, the outbox, the pusher and the aggregator. Printed, never asserted: p50/p95 of both,
 * and the cluster latency as a ratio of the SQLite latency measured in the same run.
 * (FIO's answer to the same write is up to gracePeriod, 900 s by default, plus a full scan.)
 */
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Test } from 'tap'
import { CONFIGMAPS, NODESTATUSES, type KubeObject } from '../../src/aggregator/kube-client.js'
import type { NodeStatusObject } from '../../src/aggregator/node-status.js'
import { aggregatorBed, NAMESPACE, waitFor } from '../helpers/aggregator.js'
import { startAgent } from '../helpers/agent.js'

const CHANGES = Number(process.env.BENCH_CHANGES ?? 20)

function percentile (xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor(s.length * p))] as number
}

async function main (): Promise<void> {
  const teardowns: Array<() => unknown> = []
  const t = { teardown: (fn: () => unknown) => { teardowns.push(fn) } }
  try {
    const bed = await aggregatorBed(t, { resyncSeconds: 5 })
    await bed.kube.createNode('node-a', {})
    await bed.k(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'fileintegrity.openshift.io/v1alpha1', kind: 'FileIntegrity', metadata: { name: 'bench', namespace: NAMESPACE }, spec: { config: { gracePeriod: 3600, initialDelay: 3600 } } }))
    const creds = await bed.nodeCreds('node-a')
    const files = Object.fromEntries(Array.from({ length: CHANGES }, (_, i) => [`etc/file-${i}.conf`, 'original\n']))
    const agent = await startAgent(t as unknown as Test, {
      files,
      overrides: { 'watch.enabled': true, 'aggregator.url': bed.url, 'aggregator.caFile': bed.caFile, 'aggregator.certFile': creds.certFile, 'aggregator.keyFile': creds.keyFile, 'audit.enabled': false },
    })
    const ref = { ...NODESTATUSES, namespace: NAMESPACE, name: 'bench-node-a' }
    const cmRef = { ...CONFIGMAPS, namespace: NAMESPACE, name: 'aide-bench-node-a-failed' }
    await waitFor('the baseline in the cluster', async () => (await bed.agg.kube.find<NodeStatusObject>(ref))?.lastResult.condition === 'Succeeded' ? true : undefined)
    await waitFor('the fast path watching', async () => agent.daemon.status().watchers.some(w => w.name === 'fast-path' && w.running) ? true : undefined)
    const local: number[] = []
    const cluster: number[] = []
    for (let i = 0; i < CHANGES; i++) {
      const before = agent.daemon.store.lastScan()?.id ?? 0
      const t0 = performance.now()
      writeFileSync(join(agent.tree, `etc/file-${i}.conf`), `changed ${i}\n`)
      await waitFor('the event scan in SQLite', async () => {
        const s = agent.daemon.store.lastScan()
        return s !== null && s.id > before && s.trigger === 'event' && s.changed >= 1 ? true : undefined
      })
      local.push(performance.now() - t0)
      // An event scan reports the change it verified, so the -failed ConfigMap's log names this file.
      await waitFor('the result in the API server', async () => {
        const status = await bed.agg.kube.find<NodeStatusObject>(ref)
        const cm = status?.lastResult.condition === 'Failed' ? await bed.agg.kube.find<KubeObject & { data?: Record<string, string> }>(cmRef) : null
        return cm?.data?.integritylog?.includes(`file-${i}.conf`) === true ? true : undefined
      })
      cluster.push(performance.now() - t0)
    }
    const l50 = percentile(local, 0.5)
    process.stdout.write(`fast path to the cluster: ${CHANGES} changes, one at a time\n`)
    process.stdout.write(`  write -> Failed in SQLite:                  p50 ${l50.toFixed(0)} ms, p95 ${percentile(local, 0.95).toFixed(0)} ms (baseline)\n`)
    process.stdout.write(`  write -> Failed + its log in the API:           p50 ${percentile(cluster, 0.5).toFixed(0)} ms, p95 ${percentile(cluster, 0.95).toFixed(0)} ms (${(percentile(cluster, 0.5) / l50).toFixed(1)}x baseline at p50)\n`)
  } finally {
    for (const fn of teardowns.reverse()) await fn()
  }
}

await main()

/**
 * Wires the aggregator together: API client, cluster cache, node authenticator, report applier,
 * HTTPS server, and (on the Lease holder only) the phase reconciler. close() stops them in reverse.
 */
import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { loadInCluster, loadKubeconfig } from '../core/kubeconfig.js'
import type { Logger } from '../core/log.js'
import type { AggregatorConfig } from './aggregator-config.js'
import { ClusterCache, type ConfigMap } from './cluster-cache.js'
import { createFioMetrics, type FioMetrics } from './fio-metrics.js'
import { CONFIGMAPS, KubeClient } from './kube-client.js'
import { LeaderElector } from './lease.js'
import { NodeAuthenticator } from './node-identity.js'
import { PhaseReconciler } from './phase-reconciler.js'
import { ReportApplier } from './report-applier.js'
import { RoundQueue } from '../core/round-queue.js'
import { AggregatorServer, type TlsMaterial } from './server.js'

export interface AggregatorDeps {
  readonly log: Logger
  readonly now: () => number
  readonly env: Readonly<Record<string, string | undefined>>
}

export interface Aggregator {
  readonly port: number
  readonly kube: KubeClient
  readonly metrics: FioMetrics
  readonly elector: LeaderElector | null
  /** One round now: TLS material re-read on every replica, the reconciler on the Lease holder (it also runs every resync period). */
  reconcile (): Promise<void>
  close (): Promise<void>
}

const tlsKey = (t: TlsMaterial): string => createHash('sha256').update(t.cert).update(t.key).update(t.clientCa).digest('hex')

async function clientCa (kube: KubeClient, file: string | null): Promise<Buffer> {
  if (file !== null) return readFileSync(file)
  const cm = await kube.get<ConfigMap>({ ...CONFIGMAPS, namespace: 'kube-system', name: 'extension-apiserver-authentication' })
  const ca = cm.data?.['client-ca-file']
  if (ca === undefined) throw new Error('ConfigMap kube-system/extension-apiserver-authentication has no client-ca-file')
  return Buffer.from(ca)
}

export async function startAggregator (config: AggregatorConfig, deps: AggregatorDeps): Promise<Aggregator> {
  const { log, now } = deps
  const kube = new KubeClient(config.kubeconfig === null ? loadInCluster(deps.env) : loadKubeconfig(config.kubeconfig))
  const closers: Array<() => Promise<void> | void> = [() => kube.close()]
  try {
    const metrics = createFioMetrics()
    const cache = new ClusterCache({ kube, namespace: config.namespace, resyncMs: config.resyncSeconds * 1000, log: log.child({ component: 'cache' }) })
    await cache.start()
    closers.push(() => { cache.close() })
    const tls = async (): Promise<TlsMaterial> => ({ cert: readFileSync(config.tls.certFile), key: readFileSync(config.tls.keyFile), clientCa: await clientCa(kube, config.clientCaFile) })
    const applier = new ReportApplier({ kube, cache, metrics, log: log.child({ component: 'applier' }), now })
    const server = new AggregatorServer(await tls(), { auth: new NodeAuthenticator({ kube, now }), applier, cache, metrics, log: log.child({ component: 'server' }) })
    const port = await server.listen(config.port, config.host)
    closers.push(() => server.close())
    const reconciler = new PhaseReconciler({ kube, cache, metrics, log: log.child({ component: 'reconciler' }), now })
    const elector = config.leaderElection
      ? new LeaderElector({ kube, namespace: config.namespace, name: 'podsec-fim-aggregator', identity: config.identity, durationSeconds: config.leaseSeconds, now, log: log.child({ component: 'lease' }) })
      : null
    if (elector !== null) { await elector.start(); closers.push(() => elector.close()) }
    let served = tlsKey(await tls())
    // Every replica serves agents, so every replica follows a rotated client CA or serving
    // certificate; the TLS context is rebuilt only when one of them changed.
    const round = async (): Promise<void> => {
      const next = await tls()
      if (tlsKey(next) !== served) { server.setTls(next); served = tlsKey(next); log.info('TLS material changed; new connections use it') }
      if (elector !== null && !elector.isLeader) return
      await reconciler.reconcileAll()
    }
    const rounds = new RoundQueue(round, (err: unknown) => { log.warn({ err }, 'reconcile round failed') })
    const tick = (): Promise<void> => rounds.request()
    const timer = setInterval(() => { void tick() }, config.resyncSeconds * 1000)
    timer.unref()
    closers.push(async () => { clearInterval(timer); await rounds.idle() })
    log.info({ port, namespace: config.namespace, identity: config.identity }, 'started')
    return { port, kube, metrics, elector, reconcile: tick, close: () => closeAll(closers) }
  } catch (err) {
    await closeAll(closers)
    throw err
  }
}

async function closeAll (closers: Array<() => Promise<void> | void>): Promise<void> {
  for (const close of closers.splice(0).reverse()) await close()
}

/**
 * Each replica's read view of the cluster: FileIntegrities of its namespace, Nodes and their
 * labels, and the config ConfigMaps the FileIntegrities name. Refreshed by listing every resync
 * period (or on demand after a write); directive long-polls wake on each refresh. Holding only
 * what the API server holds keeps every replica able to serve every agent.
 */
import type { Logger } from '../core/log.js'
import { FIO_KEYS } from './fio-names.js'
import { CONFIGMAPS, FILEINTEGRITIES, NODES, NODESTATUSES, type KubeClient, type KubeObject } from './kube-client.js'
import type { NodeStatusObject } from './node-status.js'

export interface FileIntegritySpec {
  nodeSelector?: Record<string, string>
  config?: { name?: string, namespace?: string, key?: string, gracePeriod?: number, maxBackups?: number, initialDelay?: number }
  debug?: boolean
  tolerations?: unknown[]
  priorityClassName?: string
}

export interface FileIntegrity extends KubeObject {
  spec?: FileIntegritySpec
  status?: { phase?: string }
}

export interface ConfigMap extends KubeObject { data?: Record<string, string> }

export interface Snapshot {
  readonly fileIntegrities: readonly FileIntegrity[]
  readonly nodes: ReadonlyMap<string, Readonly<Record<string, string>>>
  /** `<namespace>/<name>` -> ConfigMap, for the config ConfigMaps that exist. */
  readonly configMaps: ReadonlyMap<string, ConfigMap>
  readonly nodeStatuses: readonly NodeStatusObject[]
}

const EMPTY: Snapshot = { fileIntegrities: [], nodes: new Map(), configMaps: new Map(), nodeStatuses: [] }

export function selects (fi: FileIntegrity, labels: Readonly<Record<string, string>>): boolean {
  return Object.entries(fi.spec?.nodeSelector ?? {}).every(([k, v]) => labels[k] === v)
}

/** The FileIntegrity serving a node: the oldest that selects it (an agent runs one AIDE config). */
export function fileIntegrityFor (snap: Snapshot, node: string): FileIntegrity | null {
  const labels = snap.nodes.get(node)
  if (labels === undefined) return null
  const candidates = snap.fileIntegrities.filter(fi => selects(fi, labels))
  candidates.sort((a, b) => (a.metadata.creationTimestamp ?? '').localeCompare(b.metadata.creationTimestamp ?? '') || a.metadata.name.localeCompare(b.metadata.name))
  return candidates[0] ?? null
}

/** The aide.conf text the FileIntegrity's config names, or null (default rules, or not found). */
export function configText (snap: Snapshot, fi: FileIntegrity): string | null {
  const c = fi.spec?.config
  if (c?.name === undefined || c.name === '' || c.namespace === undefined || c.namespace === '') return null
  return snap.configMaps.get(`${c.namespace}/${c.name}`)?.data?.[c.key === undefined || c.key === '' ? 'aide.conf' : c.key] ?? null
}

export class ClusterCache {
  #snap: Snapshot = EMPTY
  #timer: NodeJS.Timeout | null = null
  #listeners = new Set<() => void>()
  #refreshing: Promise<void> | null = null

  constructor (private readonly o: { kube: KubeClient, namespace: string, resyncMs: number, log: Logger }) {}

  get snapshot (): Snapshot {
    return this.#snap
  }

  async start (): Promise<void> {
    await this.refresh()
    this.#timer = setInterval(() => { this.refresh().catch(err => this.o.log.warn({ err }, 'cluster refresh failed')) }, this.o.resyncMs)
    this.#timer.unref()
  }

  /** Lists again; concurrent callers share one refresh. */
  async refresh (): Promise<void> {
    this.#refreshing ??= this.#load().finally(() => { this.#refreshing = null })
    await this.#refreshing
  }

  onRefresh (listener: () => void): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  close (): void {
    if (this.#timer !== null) clearInterval(this.#timer)
    this.#listeners.clear()
  }

  async #load (): Promise<void> {
    const { kube, namespace } = this.o
    const [fileIntegrities, nodeList, nodeStatuses] = await Promise.all([
      kube.list<FileIntegrity>({ ...FILEINTEGRITIES, namespace }),
      kube.list<KubeObject>(NODES),
      kube.list<NodeStatusObject>({ ...NODESTATUSES, namespace }, FIO_KEYS.owner),
    ])
    const configMaps = new Map<string, ConfigMap>()
    for (const fi of fileIntegrities) {
      const c = fi.spec?.config
      if (c?.name === undefined || c.name === '' || c.namespace === undefined || c.namespace === '') continue
      const cm = await kube.find<ConfigMap>({ ...CONFIGMAPS, namespace: c.namespace, name: c.name }).catch((err: unknown) => {
        this.o.log.warn({ err, configMap: `${c.namespace}/${String(c.name)}` }, 'cannot read the FileIntegrity config ConfigMap')
        return null
      })
      if (cm !== null) configMaps.set(`${c.namespace}/${c.name}`, cm)
    }
    const nodes = new Map(nodeList.map(n => [n.metadata.name, n.metadata.labels ?? {}]))
    this.#snap = { fileIntegrities, nodes, configMaps, nodeStatuses }
    for (const l of this.#listeners) l()
  }
}

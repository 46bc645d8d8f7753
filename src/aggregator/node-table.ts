/**
 * The cluster table behind `podsec-fim top`: every Node, the FileIntegrity serving it, its last
 * result, and what its agent last said in a heartbeat to this replica (backlog). Heartbeats are
 * kept in memory only (writing them would be a write per heartbeat), so a replica that has not
 * heard a node yet shows its backlog as unknown.
 */
import type { NodeTable } from '../core/protocol.js'
import { fileIntegrityFor, type Snapshot } from './cluster-cache.js'
import { nodeStatusName, OUR_KEYS } from './fio-names.js'

export interface HeartbeatSeen { readonly backlog: number, readonly at: string }

export function nodeTable (snap: Snapshot, heartbeats: ReadonlyMap<string, HeartbeatSeen>): NodeTable['nodes'] {
  return [...snap.nodes.keys()].sort().map(node => {
    const fi = fileIntegrityFor(snap, node)
    const status = fi === null ? undefined : snap.nodeStatuses.find(s => s.metadata.name === nodeStatusName(fi.metadata.name, node) && s.metadata.namespace === fi.metadata.namespace)
    const last = status?.lastResult
    const seen = heartbeats.get(node)
    return {
      node,
      fileIntegrity: fi?.metadata.name ?? null,
      condition: last?.condition ?? null,
      lastProbeTime: last?.lastProbeTime ?? null,
      filesAdded: last?.filesAdded ?? 0,
      filesChanged: last?.filesChanged ?? 0,
      filesRemoved: last?.filesRemoved ?? 0,
      agentState: status?.metadata.annotations?.[OUR_KEYS.agentState] ?? null,
      backlog: seen?.backlog ?? null,
      lastHeartbeatAt: seen?.at ?? null,
    }
  })
}

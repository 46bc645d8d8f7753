/**
 * The `integritylog` data of a result ConfigMap, by FIO's "1 MB" rule (fio-compat.md §3.7): plain
 * up to 1048570 bytes, else gzip + base64 with the `compressed` annotation, else a too-large
 * message. FIO's messages name /etc/kubernetes/aide.log; ours name the command that prints the
 * log on the node, because that is where an agent keeps it.
 */
import { gzipSync } from 'node:zlib'

export const CONFIGMAP_MAX_SIZE = 1048570

export interface EncodedLog {
  readonly data: string
  readonly compressed: boolean
}

export function encodeIntegrityLog (log: Buffer, node: string, scanId: number): EncodedLog {
  const where = `fetch it with "podsec-fim log ${scanId}" on node ${node}`
  if (log.length <= CONFIGMAP_MAX_SIZE) return { data: log.toString('utf8'), compressed: false }
  const gz = gzipSync(log)
  let data = gz.length > CONFIGMAP_MAX_SIZE
    ? `compressed AIDE log is too large for a configMap (${gz.length}) - ${where}`
    : gz.toString('base64')
  if (data.length > CONFIGMAP_MAX_SIZE) data = `compressed, encoded AIDE log is too large for a configMap (${data.length}) - ${where}`
  return { data, compressed: true }
}

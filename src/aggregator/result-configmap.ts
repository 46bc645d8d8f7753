/**
 * The permanent failure log `aide-<fi>-<node>-failed` as FIO's ConfigMap controller leaves it
 * (fio-compat.md §3.8, §4.2): owner and node labels plus `result-log`, the files-* annotations,
 * `compressed` when the log had to be compressed, and no owner reference (it outlives the
 * FileIntegrity, as in FIO).
 */
import { gunzipSync } from 'node:zlib'
import type { ScanPayload } from '../core/protocol.js'
import { failedConfigMapName, FIO_KEYS } from './fio-names.js'
import { encodeIntegrityLog } from './integrity-log.js'
import { CONFIGMAPS, isAlreadyExists, updateWithRetry, type KubeClient, type KubeObject } from './kube-client.js'

/** Label values are at most 63 characters; FIO would fail on longer node names, we omit the label. */
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/

function logOf (p: ScanPayload): Buffer {
  if (p.logGzipBase64 !== null) return gunzipSync(Buffer.from(p.logGzipBase64, 'base64'))
  const list = (title: string, files: string[]): string => files.length === 0 ? '' : `${title}:\n${files.map(f => `  ${f}`).join('\n')}\n`
  return Buffer.from(`AIDE wrote no log for this scan; the agent reported:\n${list('added', p.files.added)}${list('changed', p.files.changed)}${list('removed', p.files.removed)}`)
}

export function failedConfigMap (fi: string, namespace: string, node: string, p: ScanPayload): KubeObject {
  const log = encodeIntegrityLog(logOf(p), node, p.scanId)
  const labels: Record<string, string> = { [FIO_KEYS.owner]: fi, [FIO_KEYS.resultLog]: '' }
  if (node.length <= 63 && LABEL_VALUE.test(node)) labels[FIO_KEYS.node] = node
  const annotations: Record<string, string> = {
    [FIO_KEYS.filesAdded]: String(p.added),
    [FIO_KEYS.filesChanged]: String(p.changed),
    [FIO_KEYS.filesRemoved]: String(p.removed),
  }
  if (log.compressed) annotations[FIO_KEYS.compressed] = ''
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: failedConfigMapName(fi, node), namespace, labels, annotations }, data: { integritylog: log.data } }
}

/** Create, or replace the previous failure's content (FIO updates on AlreadyExists). */
export async function writeFailedConfigMap (kube: KubeClient, cm: KubeObject): Promise<void> {
  const ref = { ...CONFIGMAPS, namespace: cm.metadata.namespace ?? '', name: cm.metadata.name }
  try {
    await kube.create(ref, cm)
  } catch (err) {
    if (!isAlreadyExists(err)) throw err
    await updateWithRetry<KubeObject>(kube, ref, current => ({ ...cm, metadata: { ...cm.metadata, resourceVersion: current.metadata.resourceVersion } }))
  }
}

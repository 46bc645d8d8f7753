/**
 * Writes Events. A name already taken means this report was applied before (a lost ack): for
 * results nothing more is written; for findings the count and time are brought up to date,
 * because an agent re-sends a collapsed finding when its count grows.
 */
import { eventObject, type EventSpec } from './fio-events.js'
import { EVENTS, isAlreadyExists, type KubeClient } from './kube-client.js'

/** Returns true when a new event was created. */
export async function recordEvent (kube: KubeClient, spec: EventSpec, at: string, opts: { refresh?: boolean } = {}): Promise<boolean> {
  const ref = { ...EVENTS, namespace: spec.involved.namespace }
  try {
    await kube.create(ref, eventObject(spec, at))
    return true
  } catch (err) {
    if (!isAlreadyExists(err)) throw err
    if (opts.refresh === true) await kube.patch({ ...ref, name: spec.name }, { count: spec.count ?? 1, lastTimestamp: at, message: spec.message })
    return false
  }
}

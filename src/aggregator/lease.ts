/**
 * Leader election on a coordination.k8s.io Lease, as client-go's leaderelection does it: the
 * holder renews every period; another replica takes over once renewTime + duration has passed.
 * Only the holder runs the periodic reconcilers; every replica serves agents.
 */
import type { Logger } from '../core/log.js'
import { isAlreadyExists, isConflict, LEASES, type KubeClient, type KubeObject } from './kube-client.js'

interface LeaseObject extends KubeObject {
  spec?: { holderIdentity?: string, leaseDurationSeconds?: number, renewTime?: string, acquireTime?: string, leaseTransitions?: number }
}

export interface LeaseOptions {
  readonly kube: KubeClient
  readonly namespace: string
  readonly name: string
  readonly identity: string
  readonly durationSeconds: number
  readonly now: () => number
  readonly log: Logger
}

/** MicroTime: RFC 3339 with exactly six fractional digits. */
export function microTime (ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z')
}

export class LeaderElector {
  #leader = false
  #timer: NodeJS.Timeout | null = null

  constructor (private readonly o: LeaseOptions) {}

  get isLeader (): boolean {
    return this.#leader
  }

  async start (): Promise<void> {
    await this.tick()
    this.#timer = setInterval(() => { void this.tick() }, Math.max(1000, this.o.durationSeconds * 1000 / 3))
    this.#timer.unref()
  }

  /** One acquire-or-renew round; never throws (an API error just means "not leader now"). */
  async tick (): Promise<void> {
    const was = this.#leader
    try {
      this.#leader = await this.#round()
    } catch (err) {
      if (!isConflict(err)) this.o.log.warn({ err }, 'lease round failed')
      this.#leader = false
    }
    if (was !== this.#leader) this.o.log.info({ lease: this.o.name, identity: this.o.identity }, this.#leader ? 'became leader' : 'lost leadership')
  }

  async #round (): Promise<boolean> {
    const { kube, namespace, name, identity, durationSeconds } = this.o
    const ref = { ...LEASES, namespace }
    const now = this.o.now()
    const current = await kube.find<LeaseObject>({ ...ref, name })
    const spec = { holderIdentity: identity, leaseDurationSeconds: durationSeconds, renewTime: microTime(now) }
    if (current === null) {
      try {
        await kube.create(ref, { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name, namespace }, spec: { ...spec, acquireTime: microTime(now), leaseTransitions: 0 } })
        return true
      } catch (err) {
        if (isAlreadyExists(err)) return false
        throw err
      }
    }
    const s = current.spec ?? {}
    const expired = s.renewTime === undefined || Date.parse(s.renewTime) + (s.leaseDurationSeconds ?? durationSeconds) * 1000 < now
    if (s.holderIdentity !== identity && !expired) return false
    const takeover = s.holderIdentity !== identity
    current.spec = { ...s, ...spec, ...(takeover ? { acquireTime: microTime(now), leaseTransitions: (s.leaseTransitions ?? 0) + 1 } : {}) }
    await kube.update({ ...ref, name }, current)
    return true
  }

  /** Gives the lease up so another replica takes over at once instead of after the duration. */
  async close (): Promise<void> {
    if (this.#timer !== null) clearInterval(this.#timer)
    if (!this.#leader) return
    this.#leader = false
    const ref = { ...LEASES, namespace: this.o.namespace, name: this.o.name }
    const current = await this.o.kube.find<LeaseObject>(ref).catch(() => null)
    if (current?.spec?.holderIdentity !== this.o.identity) return
    current.spec = { ...current.spec, holderIdentity: '', renewTime: microTime(0) }
    await this.o.kube.update(ref, current).catch((err: unknown) => { this.o.log.warn({ err }, 'could not release the lease') })
  }
}

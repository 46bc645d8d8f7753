/**
 * The agent settings the cluster may change while the agent runs (FileIntegrity gracePeriod,
 * initialDelay, maxBackups, debug, config, holdoff). The loaded config stays frozen; this object
 * starts from it and has one writer, the directive applier (directive-applier.ts). The scanner and
 * the schedule read it at the moment they need a value and may subscribe to changes.
 */
import type { AgentConfig } from '../core/config.js'

/** Which aide.conf the agent runs: its own (`aide.config` or the built-in rules) or the cluster's. */
export interface AideConfigSource {
  /** The file to render, or null for the built-in rules. */
  readonly path: string | null
  /** 'own', or 'cluster:<sha256>' of the cluster's text; a baseline remembers the id it was taken with. */
  readonly id: string
  /** Cluster (FIO) configs name host paths under /hostroot; the agent sees the host's / itself. */
  readonly isFromCluster: boolean
}

export interface Settings {
  readonly gracePeriodMs: number
  readonly initialDelayMs: number
  readonly maxBackups: number
  readonly isHeld: boolean
  readonly isDebug: boolean
  readonly aideConfig: AideConfigSource
}

export type SettingsListener = (next: Settings, prev: Settings) => void

export const OWN_CONFIG_ID = 'own'

export function ownSettings (aide: Pick<AgentConfig['aide'], 'config' | 'gracePeriod' | 'initialDelay' | 'maxBackups'>): Settings {
  return Object.freeze({
    gracePeriodMs: aide.gracePeriod * 1000,
    initialDelayMs: aide.initialDelay * 1000,
    maxBackups: aide.maxBackups,
    isHeld: false,
    isDebug: false,
    aideConfig: Object.freeze({ path: aide.config, id: OWN_CONFIG_ID, isFromCluster: false }),
  })
}

export class RuntimeSettings {
  readonly own: Settings
  #current: Settings
  readonly #listeners = new Set<SettingsListener>()

  constructor (own: Settings) {
    this.own = own
    this.#current = own
  }

  get current (): Settings {
    return this.#current
  }

  /** Replaces the settings; listeners hear about it only when something changed. */
  update (next: Partial<Settings>): void {
    const prev = this.#current
    const merged = Object.freeze({ ...prev, ...next })
    const isSame = (Object.keys(merged) as Array<keyof Settings>).every(k => merged[k] === prev[k] || (k === 'aideConfig' && merged.aideConfig.id === prev.aideConfig.id && merged.aideConfig.path === prev.aideConfig.path))
    if (isSame) return
    this.#current = merged
    for (const listener of this.#listeners) listener(merged, prev)
  }

  subscribe (listener: SettingsListener): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }
}

/**
 * The bursts still open for collapsing: per kind, fingerprint → the newest finding with that
 * fingerprint and when it was first observed. Kept in memory rather than as an index on the
 * findings table: a B-tree keyed by random fingerprints cost about 35 µs per insert, most of the
 * time of a flood of distinct audit denials (test/bench/audit.ts). The store fills it from the
 * table on start (open windows only), so a restart keeps collapsing.
 *
 * Bounded per kind: past `max` open bursts the oldest is forgotten, so a later repeat of it starts a
 * new finding: more findings, none lost. Entries may also name rows an outer transaction rolled
 * back; the store's update checks the row and forgets such an entry.
 */
import type { FindingKind } from './finding-types.js'

interface Burst { readonly id: number, readonly observedAt: number }

export const DEFAULT_MAX_OPEN_BURSTS = 50_000

export class OpenBursts {
  readonly #byKind = new Map<FindingKind, Map<string, Burst>>()
  readonly #max: number

  constructor (max = DEFAULT_MAX_OPEN_BURSTS) {
    this.#max = max
  }

  /** The finding a repeat of `fingerprint` collapses into: first observed after `since`, else null. */
  find (kind: FindingKind, fingerprint: string, since: number): number | null {
    const bursts = this.#byKind.get(kind)
    const burst = bursts?.get(fingerprint)
    if (bursts === undefined || burst === undefined) return null
    if (burst.observedAt > since) return burst.id
    bursts.delete(fingerprint)
    return null
  }

  /** `id` is now the newest finding with `fingerprint` (it moves to the end of the age order). */
  open (kind: FindingKind, fingerprint: string, id: number, observedAt: number): void {
    let bursts = this.#byKind.get(kind)
    if (bursts === undefined) this.#byKind.set(kind, bursts = new Map())
    bursts.delete(fingerprint)
    bursts.set(fingerprint, { id, observedAt })
    if (bursts.size > this.#max) bursts.delete(bursts.keys().next().value as string)
  }

  forget (kind: FindingKind, fingerprint: string): void {
    this.#byKind.get(kind)?.delete(fingerprint)
  }

  /** Drops the bursts of `kind` first observed at or before `since`, oldest first. */
  expire (kind: FindingKind, since: number): void {
    const bursts = this.#byKind.get(kind)
    if (bursts === undefined) return
    for (const [fingerprint, burst] of bursts) {
      if (burst.observedAt > since) return
      bursts.delete(fingerprint)
    }
  }

  size (kind: FindingKind): number {
    return this.#byKind.get(kind)?.size ?? 0
  }
}

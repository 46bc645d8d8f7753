/**
 * The bursts still open for collapsing: per kind, fingerprint → the newest finding with that
 * fingerprint and when it was first observed. Kept in memory rather than as an index on the
 * findings table: a B-tree keyed by random fingerprints cost about 35 µs per insert, most of the
 * time of a flood of distinct audit denials (test/bench/audit.ts). The store fills it from the
 * table on start (open windows only), so a restart keeps collapsing.
 *
 * Bounded per kind: past `max` open bursts the oldest is forgotten, so a later repeat of it starts a
 * new finding: more findings, none lost. Entries may also name rows an outer transaction rolled
 * back; the store's update checks the row, and the new finding it then makes replaces the entry.
 */
import type { FindingKind } from './finding-types.js'

interface Burst { readonly fingerprint: string, readonly id: number, readonly observedAt: number }

/**
 * One kind's open bursts: by fingerprint, and in opening order. The order is an array with a moving
 * head, not the Map's own order: dropping a Map's first key repeatedly costs time in the number of
 * keys dropped before (V8 skips their holes until it rehashes), which made a flood quadratic.
 */
class KindBursts {
  readonly byFingerprint = new Map<string, Burst>()
  #order: Burst[] = []
  #head = 0

  add (burst: Burst): void {
    this.byFingerprint.set(burst.fingerprint, burst)
    this.#order.push(burst)
    if (this.#order.length > 2 * this.byFingerprint.size + 1024) this.#compact()
  }

  /** The oldest burst still open, or undefined. */
  oldest (): Burst | undefined {
    while (this.#head < this.#order.length) {
      const burst = this.#order[this.#head] as Burst
      if (this.byFingerprint.get(burst.fingerprint) === burst) return burst
      this.#head++
    }
    return undefined
  }

  drop (burst: Burst): void {
    if (this.byFingerprint.get(burst.fingerprint) === burst) this.byFingerprint.delete(burst.fingerprint)
  }

  /** Forgets the entries no longer open (re-opened or dropped). */
  #compact (): void {
    this.#order = this.#order.slice(this.#head).filter(b => this.byFingerprint.get(b.fingerprint) === b)
    this.#head = 0
  }
}

export const DEFAULT_MAX_OPEN_BURSTS = 50_000

export class OpenBursts {
  readonly #byKind = new Map<FindingKind, KindBursts>()
  readonly #max: number

  constructor (max = DEFAULT_MAX_OPEN_BURSTS) {
    this.#max = max
  }

  /** The finding a repeat of `fingerprint` collapses into: first observed after `since`, else null. */
  find (kind: FindingKind, fingerprint: string, since: number): number | null {
    const bursts = this.#byKind.get(kind)
    const burst = bursts?.byFingerprint.get(fingerprint)
    if (bursts === undefined || burst === undefined) return null
    if (burst.observedAt > since) return burst.id
    bursts.drop(burst)
    return null
  }

  /** `id` is now the newest finding with `fingerprint` (it moves to the end of the age order). */
  open (kind: FindingKind, fingerprint: string, id: number, observedAt: number): void {
    let bursts = this.#byKind.get(kind)
    if (bursts === undefined) this.#byKind.set(kind, bursts = new KindBursts())
    bursts.add({ fingerprint, id, observedAt })
    if (bursts.byFingerprint.size > this.#max) {
      const oldest = bursts.oldest()
      if (oldest !== undefined) bursts.drop(oldest)
    }
  }

  /** Drops the bursts of `kind` first observed at or before `since`, oldest first. */
  expire (kind: FindingKind, since: number): void {
    const bursts = this.#byKind.get(kind)
    if (bursts === undefined) return
    for (let b = bursts.oldest(); b !== undefined && b.observedAt <= since; b = bursts.oldest()) bursts.drop(b)
  }
}

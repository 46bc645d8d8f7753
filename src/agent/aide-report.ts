/**
 * The shape every AIDE report parser produces (JSON for 0.18, plain text for 0.16/0.17).
 * Paths are raw bytes: file names are data, may hold newlines or invalid UTF-8, and are only
 * turned into text for display (see file-path.ts).
 */

export type ChangeKind = 'added' | 'removed' | 'changed'

/** One attribute's old and new value as AIDE printed them (numbers stay numbers). */
export interface AttributeChange {
  readonly old?: string | number
  readonly new?: string | number
}

export interface ReportEntry {
  readonly path: Buffer
  readonly change: ChangeKind
  /** AIDE's 18-character change summary (`f > ... mc..H     `), '' when the report has none. */
  readonly summary: string
  /** Keyed by AIDE's JSON attribute names: perm, uid, gid, size, modify_time, sha512, link_name, ... */
  readonly attributes: Readonly<Record<string, AttributeChange>>
}

export interface AideReport {
  readonly outline: string
  readonly aideVersion: string | null
  readonly startTime: string | null
  readonly endTime: string | null
  readonly totalEntries: number | null
  readonly added: number
  readonly removed: number
  readonly changed: number
  readonly entries: readonly ReportEntry[]
}

/** `podsec-fim findings`: what the watchers found (audit-log denials, ...), newest first, from the read-only store. */
import { InvalidArgumentError } from 'commander'
import type { FindingKind } from '../../agent/finding-types.js'
import { FINDING_KINDS, listFindings, type Finding } from '../../agent/findings.js'
import { isoTime } from '../../core/control-api.js'
import { positiveInteger, type CommandSpec } from '../command-spec.js'
import { EXIT } from '../exit-codes.js'
import { withStore } from '../read-store.js'
import { isoSeconds } from '../scan-text.js'
import { renderTable, type Column } from '../table.js'

const UNIT_MS: Readonly<Record<string, number>> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 }

/** `--since`: an ISO-8601 time, or an age such as 30m, 1h, 2d; resolved against the clock at run time. */
export function parseSince (value: string): (nowMs: number) => number {
  const age = /^([1-9][0-9]{0,6})([smhdw])$/.exec(value)
  if (age !== null) {
    const ms = Number(age[1]) * (UNIT_MS[age[2] as string] as number)
    return now => now - ms
  }
  const at = /^\d{4}-\d\d-\d\d(T\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:\d\d))?$/.test(value) ? Date.parse(value) : Number.NaN
  if (Number.isNaN(at)) throw new InvalidArgumentError('--since must be an ISO-8601 time (2026-11-23T10:00:00Z) or an age such as 30m, 1h, 2d.')
  return () => at
}

function parseKind (value: string): FindingKind {
  if (!(FINDING_KINDS as readonly string[]).includes(value)) throw new InvalidArgumentError(`--kind must be one of ${FINDING_KINDS.join(', ')}.`)
  return value as FindingKind
}

export function findingView (f: Finding) {
  return {
    id: f.id, kind: f.kind, severity: f.severity, observedAt: isoTime(f.observedAt) as string, lastSeenAt: isoTime(f.lastSeenAt) as string,
    count: f.count, subject: f.subject, message: f.message, details: f.details, fingerprint: f.fingerprint,
  }
}

const COLUMNS: readonly Column[] = [
  { header: 'ID', isNumeric: true }, { header: 'LAST SEEN' }, { header: 'KIND' }, { header: 'SEVERITY' },
  { header: 'COUNT', isNumeric: true }, { header: 'SUBJECT' }, { header: 'MESSAGE' },
]

function row (f: ReturnType<typeof findingView>): string[] {
  return [String(f.id), isoSeconds(f.lastSeenAt), f.kind, f.severity, String(f.count), f.subject, f.message]
}

export const findings: CommandSpec = {
  name: 'findings',
  description: 'List findings of the watchers (kube-apiserver denials from the audit log, ...), newest first; identical findings within a burst window are one row with a count. Works when the agent is stopped.',
  example: 'nsenter_u7s podsec-fim findings --kind audit-denial --since 1h',
  exits: [[0, 'listed (also when there are none)'], [64, 'bad option value'], [66, 'no state database yet']],
  options: [
    { flags: '--kind <kind>', description: `only this kind (${FINDING_KINDS.join(', ')})`, parse: parseKind },
    { flags: '--since <time>', description: 'only findings seen since an ISO-8601 time or for an age (30m, 1h, 2d, 1w)', parse: parseSince },
    { flags: '--limit <n>', description: 'show at most n findings', parse: positiveInteger('--limit'), default: 50 },
  ],
  async run (ctx, _args, opts) {
    const since = opts.since as ((now: number) => number) | undefined
    const query = { kind: opts.kind as FindingKind | undefined, sinceMs: since?.(Date.now()), limit: opts.limit as number }
    const list = withStore(ctx.stateDir(), store => listFindings(store.db, query)).map(findingView)
    if (ctx.isJson) {
      ctx.out.json({ findings: list })
      return EXIT.OK
    }
    if (list.length === 0) {
      ctx.out.text('no findings')
      return EXIT.OK
    }
    ctx.out.text(renderTable(COLUMNS, list.map(row)))
    if (list.length === query.limit) ctx.out.note(`(showing the newest ${query.limit}; --limit shows more)`)
    return EXIT.OK
  },
}

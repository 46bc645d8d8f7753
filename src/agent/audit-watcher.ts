/**
 * The audit watcher: the kube-apiserver audit log tailer wired into the agent, replacing
 * podsec-inotify-check-kubeapi. Each denial becomes
 *  - a finding (kind audit-denial, critical, subject the user), identical denials collapsing into
 *    one finding with a count within `audit.burstSeconds`;
 *  - podsec's forbidden.log record, byte for byte, one per denial (file 0600, directory created);
 *  - podsec's syslog line (`podsec-inotify-check-kubeapi`, crit, `Critical: <record>`) for the first
 *    of a burst only; when the burst closes one more line says how many repeats there were.
 * The tailer runs on inotify events of the log's directory and on a slow timer as a safety net
 * (and to notice the directory appearing). The cursor and the findings of one read commit in one
 * transaction, so a restart neither replays nor skips; forbidden.log and syslog are written after
 * the commit, so a failed read does not write them twice.
 */
import { createHash } from 'node:crypto'
import { appendFileSync, mkdirSync, watch, type FSWatcher } from 'node:fs'
import { dirname } from 'node:path'
import type { AgentConfig } from '../core/config.js'
import { isoTime, type WatcherHealth } from '../core/control-api.js'
import type { Logger } from '../core/log.js'
import { forbiddenLogRecord, type AuditDenial } from './audit-event.js'
import { AuditTailer } from './audit-tailer.js'
import { CursorStore } from './cursor-store.js'
import type { FindingInput, SyslogSink, Watcher } from './finding-types.js'
import type { ClosedBurst, FindingStore } from './findings.js'
import type { Store } from './store.js'

export const KUBEAPI_TAG = 'podsec-inotify-check-kubeapi'

export interface AuditWatcherOptions {
  readonly config: AgentConfig['audit']
  readonly store: Store
  readonly findings: FindingStore
  readonly syslog: SyslogSink
  readonly log: Logger
  readonly now: () => number
  /** The safety-net read interval. */
  readonly tickMs?: number
}

/** Identical denials (same who, what, where from, same answer) collapse into one finding. */
export function denialFingerprint (d: AuditDenial): string {
  const key = [d.user, d.verb, d.resource, d.subresource, d.namespace, d.name, d.code, d.sourceIps]
  return createHash('sha256').update(JSON.stringify(key)).digest('hex')
}

interface Pending { readonly denial: AuditDenial, readonly isNew: boolean }

function denialFinding (d: AuditDenial): FindingInput {
  return {
    kind: 'audit-denial', severity: 'critical', subject: d.user === '' ? '(unknown user)' : d.user,
    message: d.message === '' ? `HTTP ${d.code}: ${d.verb} ${d.requestUri}` : d.message,
    details: { ...d }, fingerprint: denialFingerprint(d),
  }
}

const WAKE_DELAY_MS = 50
const BATCH_LINES = 2000

export class AuditWatcher implements Watcher {
  readonly name = 'audit'
  readonly #o: AuditWatcherOptions
  #tailer: AuditTailer
  #denials: AuditDenial[] = []
  #dirWatch: FSWatcher | null = null
  #timer: NodeJS.Timeout | null = null
  #wake: NodeJS.Timeout | null = null
  #next: NodeJS.Immediate | null = null
  #isRunning = false
  #lastEventAt: number | null = null
  #errors = 0
  readonly #failures = new Map<string, number>()
  #malformedLogged = 0

  constructor (opts: AuditWatcherOptions) {
    this.#o = opts
    this.#tailer = this.#newTailer()
  }

  #newTailer (): AuditTailer {
    const o = this.#o
    return new AuditTailer({ path: o.config.path, cursors: new CursorStore(o.store.db, o.now), codes: o.config.codes, onDenial: d => this.#denials.push(d), log: o.log })
  }

  async start (): Promise<void> {
    this.#o.findings.onBurstClosed('audit-denial', b => this.#burstClosed(b))
    this.#isRunning = true
    this.tick()
    this.#timer = setInterval(() => this.tick(), this.#o.tickMs ?? 10_000)
    this.#o.log.info({ path: this.#o.config.path, state: this.#tailer.health.state }, 'audit watcher started')
  }

  /**
   * Reads what is new in batches of BATCH_LINES: findings and cursor in one transaction, then
   * forbidden.log and syslog. Further batches run on the next turns of the event loop, so catching
   * up with a large log neither blocks the agent nor makes one huge transaction.
   */
  tick (): void {
    if (!this.#isRunning) return
    this.#denials = []
    try {
      const [hasMore, pending] = this.#o.store.db.transaction(() => {
        const more = this.#tailer.tick(BATCH_LINES)
        return [more, this.#record(this.#denials)] as const
      })()
      this.#emit(pending)
      if (hasMore) this.#next ??= setImmediate(() => { this.#next = null; this.tick() })
    } catch (err) {
      this.#fail({ err, path: this.#o.config.path }, 'reading the audit log failed; retrying on the next change or tick')
      // The transaction was rolled back: resume from the committed cursor, not the tailer's own.
      this.#tailer.close()
      this.#tailer = this.#newTailer()
      this.#malformedLogged = 0
    } finally {
      this.#denials = []
    }
    this.#reportMalformed()
    this.#watchDir()
  }

  #record (denials: readonly AuditDenial[]): Pending[] {
    if (denials.length === 0) return []
    const recorded = this.#o.findings.recordAll(denials.map(denialFinding))
    this.#lastEventAt = this.#o.now()
    return denials.map((denial, i) => ({ denial, isNew: recorded[i]?.isNew === true }))
  }

  #emit (pending: readonly Pending[]): void {
    if (pending.length === 0) return
    for (const p of pending) if (p.isNew) this.#o.syslog.write(KUBEAPI_TAG, 'crit', `Critical: ${forbiddenLogRecord(p.denial)}`)
    const file = this.#o.config.forbiddenLog
    if (file === null) return
    try {
      mkdirSync(dirname(file), { recursive: true, mode: 0o700 })
      appendFileSync(file, pending.map(p => `${forbiddenLogRecord(p.denial)}\n`).join(''), { mode: 0o600 })
    } catch (err) {
      this.#fail({ err, file, lost: pending.length }, 'cannot append to the forbidden log')
    }
  }

  /** Counts an error; logs the first of each kind and every hundredth, since a busy log retries often. */
  #fail (fields: Record<string, unknown>, msg: string): void {
    this.#errors++
    const n = (this.#failures.get(msg) ?? 0) + 1
    this.#failures.set(msg, n)
    if (n === 1 || n % 100 === 0) this.#o.log.error({ ...fields, times: n }, msg)
  }

  #burstClosed (b: ClosedBurst): void {
    const record = forbiddenLogRecord(b.finding.details as unknown as AuditDenial)
    const until = isoTime(b.finding.lastSeenAt) as string
    this.#o.syslog.write(KUBEAPI_TAG, 'crit', `Critical: ${record} and ${b.repeats} more identical denials until ${until}`)
  }

  #reportMalformed (): void {
    const malformed = this.#tailer.health.malformed
    if (malformed === this.#malformedLogged) return
    this.#o.log.warn({ skipped: malformed - this.#malformedLogged, total: malformed, path: this.#o.config.path }, 'skipped malformed or oversized audit log lines')
    this.#malformedLogged = malformed
  }

  /** inotify on the log's directory; a missing directory is retried on every safety-net tick. */
  #watchDir (): void {
    if (this.#dirWatch !== null || !this.#isRunning) return
    try {
      this.#dirWatch = watch(dirname(this.#o.config.path), { persistent: false }, () => this.#scheduleWake())
      this.#dirWatch.on('error', err => {
        this.#o.log.warn({ err }, 'audit log directory watch failed; falling back to the timer until it can be renewed')
        this.#dirWatch?.close()
        this.#dirWatch = null
      })
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') this.#o.log.warn({ err }, 'cannot watch the audit log directory')
    }
  }

  /** A busy apiserver writes many times a second; one read per short delay is enough. */
  #scheduleWake (): void {
    this.#wake ??= setTimeout(() => { this.#wake = null; this.tick() }, WAKE_DELAY_MS)
  }

  health (): WatcherHealth {
    const h = this.#tailer.health
    const c = this.#tailer.cursor
    const where = h.state === 'waiting'
      ? `waiting for ${this.#o.config.path}`
      : `following ${this.#o.config.path} (inode ${c.inode}, offset ${c.offset})`
    return {
      name: this.name, running: this.#isRunning, lastEventAt: isoTime(this.#lastEventAt),
      watches: this.#dirWatch === null ? 0 : 1, budget: null, overflows: 0, errors: this.#errors + h.malformed,
      detail: `${where}; ${h.lines} lines, ${h.denials} denials, ${h.malformed} malformed`,
    }
  }

  async close (): Promise<void> {
    this.#isRunning = false
    if (this.#timer !== null) clearInterval(this.#timer)
    if (this.#wake !== null) clearTimeout(this.#wake)
    if (this.#next !== null) clearImmediate(this.#next)
    this.#dirWatch?.close()
    this.#dirWatch = null
    this.#tailer.close()
  }
}

/**
 * podsec-compatible syslog lines through logger(1), as the podsec-inotify scripts write them
 * (`logger -p <prio> -t <script name> "<Prefix>: <text>"`, facility user), so nagwad and the
 * Icinga/Nagios checks built on it keep working. logger is spawned with an argument array, one at a
 * time, from a bounded queue: write() never blocks and never throws; when logger is stuck (a full
 * socket, a hung journald) lines beyond the queue are dropped and counted. `--id=<agent pid>` keeps
 * the `tag[pid]:` form nagwad's filter needs even on a plain socket.
 *
 * Consecutive lines with the same tag and priority go to one logger on its standard input (logger
 * sends each input line as its own message; a message never holds a newline, see syslogText): one
 * process per line could not keep up with a flood of audit denials, and the queue would drop them.
 */
import { spawn } from 'node:child_process'
import type { Logger } from '../core/log.js'
import type { SyslogPriority, SyslogSink } from './finding-types.js'

export interface LoggerSyslogOptions {
  readonly log: Logger
  readonly pid: number
  /** `logger -u <socket>`; null writes to the system log (/dev/log, journald). */
  readonly socket: string | null
  /** logger(1): a path, or a name looked up in `path`. */
  readonly binary?: string
  readonly path?: string
  readonly maxQueue?: number
  /** A logger running longer than this is killed and the line counted as failed. */
  readonly timeoutMs?: number
}

export interface SyslogStats {
  /** logger processes run (a batch of lines each). */
  readonly runs: number
  readonly sent: number
  readonly failed: number
  readonly dropped: number
  readonly queued: number
}

interface Line { readonly tag: string, readonly priority: SyslogPriority, readonly message: string }

const MAX_MESSAGE = 8000
/** Lines handed to one logger; a failed run loses at most these. */
const MAX_BATCH = 500
/** The default queue holds a few batches of the audit watcher (2000 lines each). */
const DEFAULT_MAX_QUEUE = 10_000

/**
 * One message is one line: a newline inside a file or user name must not forge a second,
 * `tag[pid]: Critical: ...`-looking line for nagwad's line-based filter. Control characters are
 * written as \xNN, as the CLI shows them.
 */
export function syslogText (message: string): string {
  const text = message.replace(/[\x00-\x1f\x7f]/g, c => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`)
  return text.length <= MAX_MESSAGE ? text : `${text.slice(0, MAX_MESSAGE - 1)}…`
}

/** For syslog.enabled = false. */
export const NO_SYSLOG: SyslogSink = { write () {} }

export class LoggerSyslog implements SyslogSink {
  readonly #o: LoggerSyslogOptions
  readonly #queue: Line[] = []
  #stats = { runs: 0, sent: 0, failed: 0, dropped: 0 }
  #running: Promise<void> | null = null
  #child: ReturnType<typeof spawn> | null = null
  #isClosed = false

  constructor (opts: LoggerSyslogOptions) {
    this.#o = opts
  }

  write (tag: string, priority: SyslogPriority, message: string): void {
    if (this.#isClosed) return
    if (this.#queue.length >= (this.#o.maxQueue ?? DEFAULT_MAX_QUEUE)) {
      this.#stats.dropped++
      if (this.#stats.dropped === 1 || this.#stats.dropped % 1000 === 0) this.#o.log.warn({ dropped: this.#stats.dropped, tag }, 'syslog queue full (logger stuck?); lines dropped')
      return
    }
    this.#queue.push({ tag, priority, message: syslogText(message) })
    this.#running ??= this.#drain().finally(() => { this.#running = null })
  }

  stats (): SyslogStats {
    return { ...this.#stats, queued: this.#queue.length }
  }

  /** Resolves when every queued line has been handed to logger (for tests and close). */
  async idle (): Promise<void> {
    while (this.#running !== null) await this.#running
  }

  async #drain (): Promise<void> {
    for (let batch = this.#takeBatch(); batch.length > 0; batch = this.#takeBatch()) {
      const first = batch[0] as Line
      const why = await this.#spawn(first, batch.map(l => l.message))
      this.#stats.runs++
      if (why === null) this.#stats.sent += batch.length
      else {
        const before = this.#stats.failed
        this.#stats.failed += batch.length
        if (before === 0 || Math.floor(before / 100) !== Math.floor(this.#stats.failed / 100)) this.#o.log.warn({ why, failed: this.#stats.failed, lost: batch.length, tag: first.tag }, 'logger failed; syslog line lost')
      }
    }
  }

  /** The queue's first lines that share the first one's tag and priority, at most MAX_BATCH. */
  #takeBatch (): Line[] {
    const first = this.#queue[0]
    if (first === undefined) return []
    let n = 1
    while (n < MAX_BATCH && this.#queue[n]?.tag === first.tag && this.#queue[n]?.priority === first.priority) n++
    return this.#queue.splice(0, n)
  }

  #args (line: Line): string[] {
    const target = this.#o.socket === null ? [] : ['-u', this.#o.socket]
    return [...target, `--id=${this.#o.pid}`, '--size', String(MAX_MESSAGE * 4), '-t', line.tag, '-p', `user.${line.priority}`]
  }

  /** Runs one logger for `messages`; resolves with null on success, else why it failed. Never rejects. */
  #spawn (line: Line, messages: readonly string[]): Promise<string | null> {
    return new Promise(resolve => {
      const child = spawn(this.#o.binary ?? 'logger', this.#args(line), {
        stdio: ['pipe', 'ignore', 'pipe'], env: { PATH: this.#o.path ?? '/usr/bin:/bin' },
      })
      this.#child = child
      let stderr = ''
      child.stderr?.on('data', (b: Buffer) => { stderr = (stderr + b.toString()).slice(-1000) })
      // A logger that died early closes its stdin: the EPIPE is its exit status's business.
      child.stdin?.on('error', () => {})
      child.stdin?.end(messages.map(m => `${m}\n`).join(''))
      const timer = setTimeout(() => child.kill('SIGKILL'), this.#o.timeoutMs ?? 10_000)
      child.once('error', err => { clearTimeout(timer); this.#child = null; resolve(err.message) })
      child.once('close', (code, signal) => {
        clearTimeout(timer)
        this.#child = null
        resolve(code === 0 ? null : `exit ${code ?? signal ?? '?'}${stderr === '' ? '' : `: ${stderr.trim()}`}`)
      })
    })
  }

  /**
   * Refuses new lines and lets the queued ones out for at most `timeoutMs` in all; what is
   * still queued then is dropped (counted) and a running logger is killed.
   */
  async close (): Promise<void> {
    this.#isClosed = true
    let timer: NodeJS.Timeout | undefined
    const late = new Promise<void>(resolve => { timer = setTimeout(resolve, this.#o.timeoutMs ?? 10_000) })
    await Promise.race([this.idle(), late])
    clearTimeout(timer)
    this.#stats.dropped += this.#queue.splice(0).length
    this.#child?.kill('SIGKILL')
    await this.idle()
  }
}

/**
 * Sinks that only log: what the watchers report through until the daemon is given the real
 * FindingSink (SQLite + outbox) and SyslogSink (`logger`). Nothing is lost silently: every
 * finding and every syslog line is in the agent's JSON log.
 */
import type { Logger } from '../core/log.js'
import type { FindingInput, FindingSink, SyslogPriority, SyslogSink } from './finding-types.js'

export class LogFindingSink implements FindingSink {
  readonly #log: Logger
  #next = 1

  constructor (log: Logger) {
    this.#log = log
  }

  record (finding: FindingInput): number {
    const id = this.#next++
    this.#log.warn({ finding: { id, ...finding } }, 'finding')
    return id
  }
}

export class LogSyslogSink implements SyslogSink {
  readonly #log: Logger

  constructor (log: Logger) {
    this.#log = log
  }

  write (tag: string, priority: SyslogPriority, message: string): void {
    this.#log.info({ tag, priority, syslog: message }, 'syslog line')
  }
}

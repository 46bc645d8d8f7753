/**
 * Stand-ins for the FindingSink and SyslogSink until their real implementations (findings.ts:
 * SQLite + outbox; syslog.ts: `logger`) are wired into the daemon: findings and would-be syslog
 * lines go to the agent's JSON log, so nothing a watcher reports is dropped in the meantime.
 */
import type { Logger } from '../core/log.js'
import type { FindingInput, FindingSink, SyslogSink } from './finding-types.js'

export function logFindingSink (log: Logger): FindingSink {
  let id = 0
  return {
    record (finding: FindingInput): number {
      log.warn({ finding }, 'finding (no findings store wired yet)')
      return ++id
    },
  }
}

export function logSyslogSink (log: Logger): SyslogSink {
  return {
    write (tag, priority, message) {
      log.info({ tag, priority, line: message }, 'syslog line (no syslog sink wired yet)')
    },
  }
}

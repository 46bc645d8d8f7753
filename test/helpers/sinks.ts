/**
 * Array-backed FindingSink and SyslogSink for tests. These are our own interfaces (the real ones
 * write SQLite and spawn logger), so a recording implementation is not a stand-in for anything
 * external. Not a test file itself.
 */
import type { FindingInput, FindingSink, SyslogPriority, SyslogSink } from '../../src/agent/finding-types.js'

export class RecordingFindingSink implements FindingSink {
  readonly findings: FindingInput[] = []

  record (finding: FindingInput): number {
    this.findings.push(finding)
    return this.findings.length
  }
}

export class RecordingSyslogSink implements SyslogSink {
  readonly lines: Array<{ tag: string, priority: SyslogPriority, message: string }> = []

  write (tag: string, priority: SyslogPriority, message: string): void {
    this.lines.push({ tag, priority, message })
  }
}

/** Polls `probe` every 20 ms until it returns something truthy; fails after a generous timeout. */
export async function until<T> (what: string, probe: () => T | null | undefined | false, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const v = probe()
    if (v !== null && v !== undefined && v !== false) return v
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, 20))
  }
}

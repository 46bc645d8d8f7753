/**
 * Audit-log catch-up through the audit watcher (tailer + findings in SQLite + forbidden.log) against
 * the least any reader must do (read the file and JSON.parse every line) and against podsec's
 * original: jq with podsec-inotify-check-kubeapi's filter over the same file. Two logs: a normal
 * one (5% denials from 20 repeated requests, which collapse) and a flood of distinct denials (each
 * a new finding and a forbidden.log record). BENCH_AUDIT_LINES=1000000 is the size.
 */
import { closeSync, copyFileSync, fsyncSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs'
import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { AuditWatcher } from '../../src/agent/audit-watcher.js'
import { FindingStore } from '../../src/agent/findings.js'
import { openStore } from '../../src/agent/store.js'
import { NO_SYSLOG } from '../../src/agent/syslog.js'
import { parseConfig } from '../../src/core/config.js'
import { sinkLogger } from '../helpers/agent.js'

const LINES = Number(process.env.BENCH_AUDIT_LINES ?? 50_000)
/** BENCH_AUDIT_LOGS=normal (or flood) runs one of the two logs. */
const ONLY = process.env.BENCH_AUDIT_LOGS?.split(',') ?? null

function line (i: number, isDenial: boolean, distinct: number): string {
  const name = `s${i % distinct}`
  return JSON.stringify({
    kind: 'Event', apiVersion: 'audit.k8s.io/v1', level: 'Metadata', auditID: `00000000-0000-0000-0000-${String(i).padStart(12, '0')}`, stage: 'ResponseComplete',
    requestURI: `/api/v1/namespaces/default/secrets/${name}`, verb: 'get', user: { username: 'alice', groups: ['system:authenticated'] },
    sourceIPs: ['10.0.0.1'], userAgent: 'kubectl/v1.34.0 (linux/amd64) kubernetes/abcdef', objectRef: { resource: 'secrets', namespace: 'default', name, apiVersion: 'v1' },
    responseStatus: isDenial ? { code: 403, message: `secrets "${name}" is forbidden: User "alice" cannot get resource "secrets"` } : { code: 200, metadata: {} },
    requestReceivedTimestamp: '2026-11-23T10:00:00.000000Z', stageTimestamp: '2026-11-23T10:00:00.001000Z',
  })
}

function timedMs (fn: () => void): number {
  const t0 = process.hrtime.bigint()
  fn()
  return Number(process.hrtime.bigint() - t0) / 1e6
}

/** podsec's kubeapi filter (podsec-original.md §3), output to a file as its tee did. */
const PODSEC_JQ = '. | select(.responseStatus.code >= 400) | [.requestReceivedTimestamp,.sourceIPs[0],.responseStatus.message]'

async function jqMs (file: string, out: string): Promise<number> {
  const fd = openSync(out, 'w')
  const t0 = process.hrtime.bigint()
  try {
    await new Promise<void>((resolve, reject) => {
      const child = spawn('jq', ['-c', PODSEC_JQ, file], { stdio: ['ignore', fd, 'inherit'] })
      child.on('error', reject)
      child.on('close', code => { if (code === 0) resolve(); else reject(new Error(`jq exited ${String(code)}`)) })
    })
  } finally {
    closeSync(fd)
  }
  return Number(process.hrtime.bigint() - t0) / 1e6
}

/** Written in chunks: a million lines are more than one JavaScript string may hold. */
function writeLog (file: string, lineAt: (i: number) => string): void {
  const fd = openSync(file, 'w')
  for (let i = 0; i < LINES; i += 10_000) {
    const chunk: string[] = []
    for (let j = i; j < Math.min(LINES, i + 10_000); j++) chunk.push(lineAt(j))
    writeSync(fd, chunk.join('\n') + '\n')
  }
  fsyncSync(fd)
  closeSync(fd)
}

/** Written back before the clock starts: the kernel's writeback must not land in a timed run. */
function copySynced (from: string, to: string): void {
  copyFileSync(from, to)
  const fd = openSync(to, 'r+')
  fsyncSync(fd)
  closeSync(fd)
}

async function catchUp (root: string, name: string, source: string): Promise<number> {
  const dir = join(root, name)
  const auditLog = join(dir, 'audit.log')
  mkdirSync(dir, { recursive: true })
  copySynced(source, auditLog)
  const config = parseConfig({ audit: { path: auditLog, forbiddenLog: join(dir, 'forbidden.log') } }, {})
  const store = openStore(join(dir, 'state.db'))
  const findings = new FindingStore(store.db, { now: Date.now, outbox: null, burstMs: { 'audit-denial': 60_000 } })
  const watcher = new AuditWatcher({ config: config.audit, store, findings, syslog: NO_SYSLOG, log: sinkLogger([]), now: Date.now, tickMs: 3_600_000 })
  const t0 = process.hrtime.bigint()
  await watcher.start() // reads the first batch; the rest follow on the next turns of the event loop
  while (!(watcher.health().detail ?? '').includes(`; ${LINES} lines`)) await new Promise(resolve => setImmediate(resolve))
  const ms = Number(process.hrtime.bigint() - t0) / 1e6
  await watcher.close()
  store.close()
  return ms
}

export async function auditRatio (root: string): Promise<void> {
  const logs: Record<string, (i: number) => string> = {
    normal: i => line(i, i % 20 === 0, 20),
    flood: i => line(i, true, LINES),
  }
  for (const [name, lineAt] of Object.entries(logs)) {
    if (ONLY !== null && !ONLY.includes(name)) continue
    const file = join(root, `${name}-baseline.log`)
    writeLog(file, lineAt)
    // Median of three, so the first (cold) run does not flatter the watcher.
    const parse = (): void => { for (const l of readFileSync(file, 'latin1').split('\n')) if (l !== '') JSON.parse(l) }
    const baseMs = LINES > 200_000 ? null : [0, 1, 2].map(() => timedMs(parse)).sort((a, b) => a - b)[1] as number
    const podsecMs = await jqMs(file, join(root, `${name}-jq.out`))
    const watcherMs = await catchUp(root, name, file)
    const base = baseMs === null ? '' : `, read + JSON.parse ${baseMs.toFixed(0)} ms (ratio ${(watcherMs / baseMs).toFixed(2)})`
    console.log(`audit log catch-up, ${LINES} lines (${name}): watcher ${watcherMs.toFixed(0)} ms (${Math.round(LINES / watcherMs * 1000)} lines/s)${base}; podsec's jq filter ${podsecMs.toFixed(0)} ms: the watcher is ${(podsecMs / watcherMs).toFixed(2)}x faster`)
  }
}

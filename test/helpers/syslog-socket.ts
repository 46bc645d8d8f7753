/**
 * A real unix datagram socket that receives what `logger -u <socket>` sends, like /dev/log does.
 * python3 owns the socket (Node has no AF_UNIX SOCK_DGRAM); it prints each datagram as one JSON
 * string per line. With `isReading: false` it binds and never reads, so the queue fills up and
 * logger blocks: a stuck system log.
 */
import { execFileSync, spawn } from 'node:child_process'
import { join } from 'node:path'
import type { Test } from 'tap'

const RECEIVER = `
import json, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
print("ready", flush=True)
if sys.argv[2] == "read":
    while True:
        print(json.dumps(s.recv(1 << 20).decode("utf-8", "backslashreplace")), flush=True)
else:
    sys.stdin.read()
`

export interface SyslogLine {
  readonly priority: number
  readonly tag: string
  readonly pid: number
  readonly message: string
}

export interface SyslogCapture {
  readonly path: string
  /** Every datagram as received. */
  readonly raw: string[]
  lines (): SyslogLine[]
  /** Polls (50 ms) until `probe` holds; fails after `timeoutMs` naming `what`. */
  until (what: string, probe: (lines: SyslogLine[]) => boolean, timeoutMs?: number): Promise<SyslogLine[]>
  /**
   * Every datagram sent before this call has been received: a marker sent after them (datagrams
   * on a unix socket keep their order) has arrived. The marker is not kept.
   */
  settle (): Promise<SyslogLine[]>
}

/** `<PRI>Mmm dd hh:mm:ss tag[pid]: message`, logger's local socket format. */
export function parseSyslog (datagram: string): SyslogLine {
  const m = /^<(\d+)>\w{3} [ \d]\d \d\d:\d\d:\d\d ([^[\s]+)\[(\d+)\]: (.*)$/s.exec(datagram)
  if (m === null) throw new Error(`not a syslog datagram: ${JSON.stringify(datagram)}`)
  return { priority: Number(m[1]), tag: m[2] as string, pid: Number(m[3]), message: m[4] as string }
}

export async function syslogSocket (t: Test, dir: string, opts: { isReading?: boolean } = {}): Promise<SyslogCapture> {
  const path = join(dir, 'syslog.sock')
  const child = spawn('python3', ['-c', RECEIVER, path, opts.isReading === false ? 'hold' : 'read'], { stdio: ['pipe', 'pipe', 'inherit'] })
  t.teardown(() => { child.kill('SIGKILL') })
  const raw: string[] = []
  let buffered = ''
  await new Promise<void>((resolve, reject) => {
    child.once('error', reject)
    child.once('exit', code => reject(new Error(`syslog receiver exited ${String(code)} before it was ready`)))
    child.stdout.on('data', (b: Buffer) => {
      buffered += b.toString()
      const parts = buffered.split('\n')
      buffered = parts.pop() ?? ''
      for (const p of parts) {
        if (p === 'ready') resolve()
        else raw.push(JSON.parse(p) as string)
      }
    })
  })
  const lines = (): SyslogLine[] => raw.map(parseSyslog)
  let markers = 0
  const capture: SyslogCapture = {
    path, raw, lines,
    async until (what, probe, timeoutMs = 30_000) {
      for (const end = Date.now() + timeoutMs; Date.now() < end; await new Promise(resolve => setTimeout(resolve, 50))) {
        if (probe(lines())) return lines()
      }
      throw new Error(`timed out waiting for syslog: ${what}; got ${JSON.stringify(raw)}`)
    },
    async settle () {
      const marker = `settle-marker-${++markers}`
      execFileSync('logger', ['-u', path, '--id=1', '-t', 'test-marker', '--', marker])
      await capture.until(marker, l => l.some(x => x.message === marker))
      raw.splice(raw.findIndex(d => d.endsWith(`: ${marker}`)), 1)
      return lines()
    },
  }
  return capture
}

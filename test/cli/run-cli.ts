/**
 * Runs the podsec-fim CLI in-process through its main(), with a fake process whose stdout and
 * stderr are captured as bytes and whose exitCode is read back. Not a test file itself.
 */
import { Writable } from 'node:stream'
import main from '../../src/cli/main.js'

export interface CliResult {
  readonly exitCode: number
  readonly stdout: string
  readonly stderr: string
  readonly stdoutBytes: Buffer
}

class Capture extends Writable {
  readonly chunks: Buffer[] = []
  override _write (chunk: Buffer | string, _enc: BufferEncoding, cb: () => void): void {
    this.chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk))
    cb()
  }

  bytes (): Buffer {
    return Buffer.concat(this.chunks)
  }
}

export async function runCli (args: readonly string[], opts: { env?: Record<string, string>, cwd?: string } = {}): Promise<CliResult> {
  const stdout = new Capture()
  const stderr = new Capture()
  const proc = {
    argv: ['/usr/bin/node', '/usr/bin/podsec-fim', ...args],
    env: opts.env ?? { HOME: '/nonexistent-home', PATH: '/usr/bin:/bin' },
    cwd: () => opts.cwd ?? '/',
    pid: process.pid,
    stdout,
    stderr,
    exitCode: undefined as number | undefined,
  }
  await main(proc as unknown as NodeJS.Process)
  return { exitCode: proc.exitCode ?? 0, stdout: stdout.bytes().toString('utf8'), stderr: stderr.bytes().toString('utf8'), stdoutBytes: stdout.bytes() }
}

/** The global options that point the CLI at a test agent instead of the node's defaults. */
export function agentArgs (config: { stateDir: string, socketPath: string }): string[] {
  return ['--state-dir', config.stateDir, '--socket', config.socketPath]
}

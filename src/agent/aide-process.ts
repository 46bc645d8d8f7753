/**
 * Runs AIDE: an argument array, never a shell; TZ=UTC so report times are UTC; stopped with
 * SIGINT because AIDE 0.18 ignores SIGTERM, then SIGKILL if it does not go.
 */
import { spawn } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import type { Readable } from 'node:stream'
import { AideError } from '../core/errors.js'

export interface AideExit {
  readonly exitCode: number | null
  readonly signal: NodeJS.Signals | null
  readonly stdout: Buffer
  readonly stderr: string
  /** True when stop() was called before AIDE exited. */
  readonly stopped: boolean
}

export interface AideRunning {
  readonly pid: number
  /** AIDE's stdout while it runs, when spawned with stdout 'stream' (then AideExit.stdout is empty). */
  readonly stdout: Readable | null
  readonly done: Promise<AideExit>
  stop (): void
}

export interface SpawnOptions {
  readonly binary: string
  readonly args: readonly string[]
  readonly path: string
  readonly killAfterMs?: number
  /** 'capture' (default): stdout is collected into AideExit.stdout; 'stream': the caller reads it. */
  readonly stdout?: 'capture' | 'stream'
}

const MAX_CAPTURE = 4 * 1024 * 1024

export function aideEnv (path: string): NodeJS.ProcessEnv {
  return { PATH: path, TZ: 'UTC', LC_ALL: 'C' }
}

export function spawnAide (opts: SpawnOptions): Promise<AideRunning> {
  const child = spawn(opts.binary, opts.args, { env: aideEnv(opts.path), stdio: ['ignore', 'pipe', 'pipe'] })
  const out: Buffer[] = []
  const err: Buffer[] = []
  let outBytes = 0
  let errBytes = 0
  const isStreamed = opts.stdout === 'stream'
  if (!isStreamed) child.stdout.on('data', (b: Buffer) => { if ((outBytes += b.length) <= MAX_CAPTURE) out.push(b) })
  child.stderr.on('data', (b: Buffer) => { if ((errBytes += b.length) <= MAX_CAPTURE) err.push(b) })
  let stopped = false
  let killTimer: NodeJS.Timeout | undefined
  const done = new Promise<AideExit>(resolve => {
    child.on('close', (exitCode, signal) => {
      clearTimeout(killTimer)
      resolve({ exitCode, signal, stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString('latin1'), stopped })
    })
  })
  return new Promise((resolve, reject) => {
    child.once('error', (e: NodeJS.ErrnoException) => {
      reject(new AideError('PFIM_AIDE_MISSING', `cannot run ${opts.binary}: ${e.code ?? e.message}`, { where: opts.binary, cause: e }))
    })
    child.once('spawn', () => {
      resolve({
        pid: child.pid as number,
        stdout: isStreamed ? child.stdout : null,
        done,
        stop () {
          if (stopped || child.exitCode !== null || child.signalCode !== null) return
          stopped = true
          child.kill('SIGINT')
          killTimer = setTimeout(() => child.kill('SIGKILL'), opts.killAfterMs ?? 10_000)
        },
      })
    })
  })
}

/**
 * Stops an AIDE that a killed agent left running (it would hold the database lock). The pid comes
 * from the state database and may by now belong to any process, so it is signalled only while its
 * command line still runs AIDE on this agent's own config (`-c <conf>`, a path in the 0700 state
 * dir); a name merely containing "aide" is not enough. True when it was signalled.
 */
export async function stopOrphanAide (pid: number, conf: string): Promise<boolean> {
  const argv = (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).split('\0')
  if (!argv.some((arg, i) => arg === '-c' && argv[i + 1] === conf)) return false
  try {
    process.kill(pid, 'SIGINT')
    return true
  } catch { return false } // it exited in the meantime
}

export interface AideVersion {
  readonly text: string
  readonly major: number
  readonly minor: number
}

/** `aide --version`; also how the agent proves at start that the binary exists and runs. */
export async function aideVersion (binary: string, path: string): Promise<AideVersion> {
  const run = await spawnAide({ binary, args: ['--version'], path })
  const res = await run.done
  const text = `${res.stdout.toString('latin1')}\n${res.stderr}`
  const m = /AIDE,? (?:version )?(\d+)\.(\d+)(?:\.\d+)?/.exec(text)
  if (res.exitCode !== 0 || m === null) {
    throw new AideError('PFIM_AIDE_MISSING', `${binary} --version did not identify AIDE (exit ${String(res.exitCode)}): ${text.trim().slice(0, 200)}`, { where: binary })
  }
  return { text: m[0], major: Number(m[1]), minor: Number(m[2]) }
}

/** Attribute names as `aide --path-check` prints a rule, mapped to the names of aide-attributes.ts. */
export const RULE_ATTR_NAMES: Readonly<Record<string, string>> = {
  l: 'linkname', p: 'perm', u: 'uid', g: 'gid', s: 'size', a: 'atime', c: 'ctime', m: 'mtime', i: 'inode', b: 'bcount',
  n: 'linkcount', S: 'sizeg', I: 'checkinode', ANF: 'allownewfile', ARF: 'allowrmfile', caps: 'capabilities',
}

/**
 * `aide -p TYPE:PATH` (--path-check): the attributes of the rule that selects a path (null: no
 * rule), without reading the database (milliseconds). A name that is not UTF-8 cannot be passed
 * as an argument losslessly: it counts as selected with unknown attributes (empty list), so it is
 * reported, never silently dropped.
 */
export async function aideRuleAttributes (opts: { binary: string, conf: string, path: string }, file: Buffer, type: string): Promise<string[] | null> {
  const text = file.toString('utf8')
  if (!Buffer.from(text, 'utf8').equals(file)) return []
  const run = await spawnAide({ binary: opts.binary, args: ['-c', opts.conf, '-p', `${type}:${text}`], path: opts.path })
  const res = await run.done
  if (res.exitCode !== 0) return null
  // [X] f '/p': selective rule: '<regex> <restriction> <attrs>' (file:line: '...')
  const attrs = /rule: '.* (\S+)' \(/.exec(res.stdout.toString('latin1'))?.[1] ?? ''
  return attrs.split('+').filter(a => a !== '').map(a => RULE_ATTR_NAMES[a] ?? a)
}

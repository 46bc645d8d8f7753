/**
 * Our lines in root's crontab, the way podsec-inotify 0.9-1.0.5 installed its crontabs: append
 * every line of crontabs/podsec-fim that is not there yet, and on removal take out exactly those
 * lines, leaving everything else (other jobs, MAILTO, comments, order) as it was. The crontab is
 * read and written with `crontab -l` / `crontab -` (spawned with argument arrays, so cron notices
 * the change and checks the syntax), or as a spool file given explicitly (written 0600, renamed
 * into place so cron never sees half a file).
 */
import { spawn } from 'node:child_process'
import { chmodSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { AppError } from '../core/errors.js'

export interface CrontabIo {
  /** "crontab -u root" or the spool file's path, for messages. */
  readonly describe: string
  read (): Promise<string>
  write (text: string): Promise<void>
}

export interface Change {
  readonly text: string
  /** The lines added or removed, in file order. */
  readonly lines: readonly string[]
}

function failed (message: string, where: string, cause?: unknown): AppError {
  return new AppError('PFIM_CRONTAB_FAILED', message, { where, cause })
}

/** The non-blank lines of our crontab file, trailing whitespace dropped; comments included. */
export function ourLines (text: string): string[] {
  return text.split('\n').map(l => l.trimEnd()).filter(l => l !== '')
}

function lines (text: string): string[] {
  const all = text.split('\n')
  if (all[all.length - 1] === '') all.pop()
  return all
}

function join (all: readonly string[]): string {
  return all.length === 0 ? '' : `${all.join('\n')}\n`
}

export function withOurLines (current: string, ours: readonly string[]): Change {
  const present = new Set(lines(current).map(l => l.trimEnd()))
  const missing = ours.filter(l => !present.has(l))
  return { text: join([...lines(current), ...missing]), lines: missing }
}

export function withoutOurLines (current: string, ours: readonly string[]): Change {
  const set = new Set(ours)
  const kept = lines(current).filter(l => !set.has(l.trimEnd()))
  const removed = lines(current).filter(l => set.has(l.trimEnd()))
  return { text: join(kept), lines: removed }
}

function run (program: string, args: readonly string[], input: string | null): Promise<{ code: number | null, stdout: string, stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, { stdio: ['pipe', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (b: Buffer) => { stdout += b.toString() })
    child.stderr.on('data', (b: Buffer) => { stderr += b.toString() })
    child.on('error', reject)
    child.on('close', code => resolve({ code, stdout, stderr }))
    child.stdin.on('error', () => { /* the exit code tells what went wrong */ })
    child.stdin.end(input ?? '')
  })
}

/** crontab(1); `user` adds `-u <user>` (root may edit another user's crontab). */
export function crontabProgram (program: string, user: string | null): CrontabIo {
  const who = user === null ? [] : ['-u', user]
  const describe = `${program}${user === null ? '' : ` -u ${user}`}`
  const call = async (args: string[], input: string | null) => {
    try {
      return await run(program, [...who, ...args], input)
    } catch (err) {
      throw failed(`cannot run ${describe}: ${(err as Error).message}`, program, err)
    }
  }
  return {
    describe,
    async read () {
      const r = await call(['-l'], null)
      if (r.code === 0) return r.stdout
      // Every cron says "no crontab for <user>" (exit 1) when there is none yet: that is empty.
      if (/no crontab for/i.test(r.stderr)) return ''
      throw failed(`${describe} -l exited with ${String(r.code)}: ${r.stderr.trim()}`, program)
    },
    async write (text) {
      const r = await call(['-'], text)
      if (r.code !== 0) throw failed(`${describe} - exited with ${String(r.code)}: ${r.stderr.trim()}`, program)
    },
  }
}

/** A spool file such as /var/spool/cron/root (what podsec's %post edited), read and replaced directly. */
export function spoolFile (file: string): CrontabIo {
  return {
    describe: file,
    async read () {
      try {
        return readFileSync(file, 'utf8')
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return ''
        throw failed(`cannot read ${file}: ${(err as Error).message}`, file, err)
      }
    },
    async write (text) {
      const tmp = `${file}.podsec-fim.tmp`
      try {
        writeFileSync(tmp, text, { mode: 0o600 })
        chmodSync(tmp, 0o600)
        renameSync(tmp, file)
      } catch (err) {
        throw failed(`cannot write ${file}: ${(err as Error).message}`, file, err)
      }
    },
  }
}

/** Adds (install) or removes (remove) our lines; writes only when something changes. */
export async function applyCrontab (io: CrontabIo, ours: readonly string[], action: 'install' | 'remove'): Promise<Change> {
  const current = await io.read()
  const change = action === 'install' ? withOurLines(current, ours) : withoutOurLines(current, ours)
  if (change.lines.length > 0) await io.write(change.text)
  return change
}

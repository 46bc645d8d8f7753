/**
 * Turns an AIDE exit into a condition. The mapping follows FIO (0 Succeeded, 1-7 Failed, 17 an
 * Errored "Invalid configureline error"), with fixes: every code >= 14 is Errored (FIO reports
 * 14-16 and 19-22 as Failed), 18 is Errored (FIO drops it), and exit 2 caused by a flex fatal error
 * is Errored, not "removed". AIDE's own ERROR lines become the message.
 */
import type { AideExit } from './aide-process.js'
import { decodeAidePlainPath } from './file-path.js'
import type { UnverifiedPath } from './scan-types.js'

/** FIO's GetAideErrorMessage, indexed by exit code. */
const FIO_MESSAGES: Readonly<Record<number, string>> = {
  14: 'Error writing error',
  15: 'Invalid argument error',
  16: 'Unimplemented function error',
  17: 'Invalid configureline error',
  18: 'IO error',
  19: 'Version mismatch error',
  20: 'Use of FIPS disallowed algorithm under FIPS mode',
  21: 'Possible use of FIPS disallowed algorithm',
  22: 'Unexpected error',
}

export function fioErrorMessage (code: number): string {
  return FIO_MESSAGES[code] ?? 'Unexpected error'
}

export type Classified =
  | { readonly condition: 'Succeeded' | 'Failed', readonly exitCode: number }
  | { readonly condition: 'Errored' | 'Interrupted', readonly exitCode: number | null, readonly error: string }

function aideLines (stderr: string, level: 'ERROR' | 'WARNING'): string[] {
  return stderr.split('\n').map(l => l.trim()).filter(l => l.startsWith(`${level}:`))
}

/** FIO maps 64 (its MD5 guard) and 255 (AIDE's RETFAIL) to 21, and signals to the sentinel 22. */
function mappedCode (exit: AideExit): number {
  if (exit.exitCode === null) return 22
  if (exit.exitCode === 64 || exit.exitCode === 255) return 21
  return exit.exitCode
}

export function classifyExit (exit: AideExit): Classified {
  if (exit.stopped) return { condition: 'Interrupted', exitCode: exit.exitCode, error: 'AIDE was stopped before it finished (agent shutting down)' }
  const code = mappedCode(exit)
  const errors = aideLines(exit.stderr, 'ERROR')
  const flexFatal = /input in flex scanner failed|fatal flex scanner/.test(exit.stderr)
  if (code >= 0 && code <= 7 && !flexFatal) {
    return code === 0 ? { condition: 'Succeeded', exitCode: 0 } : { condition: 'Failed', exitCode: code }
  }
  const own = errors.length > 0 ? errors.join('; ') : exit.stderr.trim().split('\n').slice(-3).join('; ')
  const signal = exit.signal === null ? '' : ` (killed by ${exit.signal})`
  const what = flexFatal ? 'AIDE could not read its database' : fioErrorMessage(code)
  return { condition: 'Errored', exitCode: exit.exitCode, error: `AIDE error: ${code} ${what}${signal}${own === '' ? '' : `: ${own}`}` }
}

const UNREADABLE: readonly RegExp[] = [
  /^WARNING: hash calculation: open\(\) failed for (.+): ([^:]+) \(hashsums could not be calculated\)$/,
  /^WARNING: opendir\(\) failed for '(.+)' \(fullpath: '.*'\): (.+)$/,
  /^WARNING: hash calculation: number of bytes read .* for '(.+)', (was file growing) while AIDE was running\?.*$/,
]

/**
 * Files AIDE could not read: it only warns (exit codes do not show it), hashes come out empty and
 * children of an unreadable directory look "removed". They are counted as unverified, never dropped.
 * AIDE prints control bytes in these paths as \ooo, like its plain report.
 */
export function unverifiedFromStderr (stderr: string): UnverifiedPath[] {
  const out: UnverifiedPath[] = []
  for (const line of aideLines(stderr, 'WARNING')) {
    for (const re of UNREADABLE) {
      const m = re.exec(line)
      if (m !== null) {
        out.push({ path: decodeAidePlainPath(Buffer.from(m[1] ?? '', 'latin1')), reason: (m[2] ?? '').trim() })
        break
      }
    }
  }
  return out
}

/** Warnings that are not about one unreadable file (weakened rules, dead symlinks, DB problems). */
export function otherWarnings (stderr: string): string[] {
  return aideLines(stderr, 'WARNING').filter(l => !UNREADABLE.some(re => re.test(l)))
}

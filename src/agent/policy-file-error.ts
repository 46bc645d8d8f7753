/**
 * The error every container-policy parser throws: it names the file and, where known, the JSON
 * path (`$.transports.docker["registry.local"][0].type`) or the line. The watcher and the
 * `check policy` plugin turn it into a `policy-file` finding instead of a crash or "policy OK".
 */
import { AppError } from '../core/errors.js'

export type JsonPath = ReadonlyArray<string | number>

export class PolicyFileError extends AppError {
  readonly file: string
  /** `line 3`, `$.default[0]`, or null when the whole file is meant. */
  readonly location: string | null

  constructor (file: string, message: string, opts: { location?: string | null, isUnreadable?: boolean, cause?: unknown } = {}) {
    const location = opts.location ?? null
    const code = opts.isUnreadable === true ? 'PFIM_POLICY_FILE_UNREADABLE' : 'PFIM_POLICY_FILE_INVALID'
    super(code, `${file}${location === null ? '' : ` (${location})`}: ${message}`, { where: location === null ? file : `${file}:${location}`, cause: opts.cause })
    this.name = 'PolicyFileError'
    this.file = file
    this.location = location
  }
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_-]*$/

/** `$.transports.docker["registry.local"][0]`: keys that are not plain identifiers are quoted. */
export function jsonPathText (path: JsonPath): string {
  return '$' + path.map(p => typeof p === 'number' ? `[${p}]` : IDENTIFIER.test(p) ? `.${p}` : `[${JSON.stringify(p)}]`).join('')
}

/** 1-based line of a character offset. */
export function lineOfOffset (text: string, offset: number): number {
  let line = 1
  for (let i = 0; i < offset && i < text.length; i++) if (text.charCodeAt(i) === 10) line++
  return line
}

/** Reads errno codes that mean "cannot read" rather than "does not exist". */
export function isMissing (err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | null)?.code
  return code === 'ENOENT' || code === 'ENOTDIR'
}

/**
 * podsec's threshold letters (podsec-inotify-functions, `parseIntervalParameters`): `-a -f -c -h
 * -m -l -d <range>` set the syslog ("journal") scale, `-c -w <range>` the Nagios scale (`-c` sets
 * both), `-v`..`-vvv` the verbosity. Ranges are Nagios ranges (src/core/nagios-range.ts).
 * podsec took the first firing key in bash hash order, so `-h`/`-w` beat `-c`; here the most
 * severe firing letter wins, in the documented order.
 */
import { AppError } from '../core/errors.js'
import { parseNagiosRange, rangeFires, type NagiosRange } from '../core/nagios-range.js'
import type { SyslogPriority } from './finding-types.js'

export type JournalLetter = 'a' | 'f' | 'c' | 'h' | 'm' | 'l' | 'd'
export type NagiosLetter = 'c' | 'w'

export interface JournalLevel {
  readonly letter: JournalLetter
  /** The message prefix nagwad matches (`Critical: ...`). */
  readonly prefix: string
  readonly priority: SyslogPriority
  /** nagwad's podsec.sed turns Crash..Middle into CRITICAL and drops Low and Debug. */
  readonly isAlert: boolean
}

/** Most severe first. Crash and Fatal go out as `crit`: the sink has no emerg/alert (podsec used 0/1). */
export const JOURNAL_LEVELS: readonly JournalLevel[] = [
  { letter: 'a', prefix: 'Crash', priority: 'crit', isAlert: true },
  { letter: 'f', prefix: 'Fatal', priority: 'crit', isAlert: true },
  { letter: 'c', prefix: 'Critical', priority: 'crit', isAlert: true },
  { letter: 'h', prefix: 'High', priority: 'err', isAlert: true },
  { letter: 'm', prefix: 'Middle', priority: 'warning', isAlert: true },
  { letter: 'l', prefix: 'Low', priority: 'notice', isAlert: false },
  { letter: 'd', prefix: 'Debug', priority: 'info', isAlert: false },
]

export interface Thresholds {
  readonly journal: Readonly<Partial<Record<JournalLetter, NagiosRange>>>
  readonly nagios: Readonly<Partial<Record<NagiosLetter, NagiosRange>>>
  readonly verbosity: number
}

/** podsec's behaviour without arguments: `-c 100` on both scales, verbosity 2. */
export const PODSEC_DEFAULT_THRESHOLDS: Thresholds = { journal: { c: parseNagiosRange('100', '-c') }, nagios: { c: parseNagiosRange('100', '-c') }, verbosity: 2 }

const JOURNAL_LETTERS = new Set<string>(['a', 'f', 'c', 'h', 'm', 'l', 'd'])

function invalid (message: string, where: string): AppError {
  return new AppError('PFIM_THRESHOLD_INVALID', message, { where })
}

/**
 * Parses podsec-style arguments (`-vvv -c 100 -w 0`, also `-c100`). Unlike podsec, a stray word,
 * an unknown letter or a missing value is an error; no arguments at all mean podsec's default.
 */
export function parseThresholdArgs (args: readonly string[]): Thresholds {
  if (args.length === 0) return PODSEC_DEFAULT_THRESHOLDS
  const journal: Partial<Record<JournalLetter, NagiosRange>> = {}
  const nagios: Partial<Record<NagiosLetter, NagiosRange>> = {}
  let verbosity = 0
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string
    if (/^-v+$/.test(arg)) { verbosity = Math.min(arg.length - 1, 3); continue }
    const m = /^-([a-zA-Z])(.*)$/.exec(arg)
    if (m === null) throw invalid(`unexpected argument "${arg}" (expected -<letter> <range>, e.g. -c 100)`, arg)
    const letter = m[1] as string
    if (letter === 'M') throw invalid('-M (mail) is not supported here: mail goes through podsec-fim report --mail', arg)
    if (!JOURNAL_LETTERS.has(letter) && letter !== 'w') throw invalid(`unknown threshold letter -${letter} (known: -a -f -c -h -m -w -l -d, -v)`, arg)
    const value = m[2] !== '' ? m[2] as string : args[++i]
    if (value === undefined) throw invalid(`-${letter} needs a range value, e.g. -${letter} 100`, arg)
    const range = parseNagiosRange(value, `-${letter}`)
    if (JOURNAL_LETTERS.has(letter)) journal[letter as JournalLetter] = range
    if (letter === 'c' || letter === 'w') nagios[letter] = range
  }
  return { journal, nagios, verbosity }
}

/** The most severe journal level whose range fires for `weight`, or null (nothing is logged). */
export function journalLevel (t: Thresholds, weight: number): JournalLevel | null {
  return JOURNAL_LEVELS.find(l => { const r = t.journal[l.letter]; return r !== undefined && rangeFires(r, weight) }) ?? null
}

/** The Nagios state for `weight`: critical before warning, as documented. */
export function nagiosState (t: Thresholds, weight: number): 'critical' | 'warning' | 'ok' {
  if (t.nagios.c !== undefined && rangeFires(t.nagios.c, weight)) return 'critical'
  if (t.nagios.w !== undefined && rangeFires(t.nagios.w, weight)) return 'warning'
  return 'ok'
}

/** podsec-style text of the thresholds (`-c 100 -w 0`), for the config and messages. */
export function thresholdsText (t: Thresholds): string {
  const parts: string[] = []
  for (const l of JOURNAL_LEVELS) if (t.journal[l.letter] !== undefined) parts.push(`-${l.letter} ${t.journal[l.letter]?.text ?? ''}`)
  if (t.nagios.w !== undefined) parts.push(`-w ${t.nagios.w.text}`)
  return parts.join(' ')
}

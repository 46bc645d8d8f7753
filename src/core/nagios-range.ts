/**
 * Nagios threshold ranges (monitoring-plugins guidelines, "Threshold and ranges"):
 * `[@][start:][end]`, `~` for minus infinity, an empty end for plus infinity. A range "fires"
 * (raises its level) when the value is outside it, or inside it with `@`.
 * podsec's own parser ignored syntax errors and read `20-100` as `20`; this one refuses anything
 * that is not exactly the documented syntax, so a typo never silently disables an alert.
 */
import { AppError } from './errors.js'

export interface NagiosRange {
  /** The text as given, for perfdata and messages. */
  readonly text: string
  readonly start: number
  readonly end: number
  /** `@`: fire when the value is inside start..end. */
  readonly isInverted: boolean
}

const NUMBER = /^-?(?:0|[1-9][0-9]{0,14})(?:\.[0-9]{1,15})?$/

function parseNumber (text: string, which: string, whole: string, where: string): number {
  if (!NUMBER.test(text)) {
    throw new AppError('PFIM_THRESHOLD_INVALID', `threshold ${where} "${whole}": the ${which} "${text}" is not a number (Nagios range syntax: [@][start:][end], e.g. 100, 10:, ~:5, @10:20)`, { where })
  }
  return Number(text)
}

/** Parses one range; `where` names the option (e.g. `-c`) in the error. */
export function parseNagiosRange (text: string, where: string): NagiosRange {
  const isInverted = text.startsWith('@')
  const body = isInverted ? text.slice(1) : text
  if (body === '') throw new AppError('PFIM_THRESHOLD_INVALID', `threshold ${where} is empty`, { where })
  const colons = body.split(':').length - 1
  if (colons > 1) throw new AppError('PFIM_THRESHOLD_INVALID', `threshold ${where} "${text}" has more than one ":"`, { where })
  let start = 0
  let endText = body
  if (colons === 1) {
    const [startText, rest] = body.split(':') as [string, string]
    start = startText === '~' ? -Infinity : parseNumber(startText, 'start', text, where)
    endText = rest
  }
  const end = endText === '' && colons === 1 ? Infinity : parseNumber(endText, 'end', text, where)
  if (start > end) throw new AppError('PFIM_THRESHOLD_INVALID', `threshold ${where} "${text}": start ${start} is greater than end ${end}`, { where })
  return { text, start, end, isInverted }
}

/** True when the value raises the range's level. */
export function rangeFires (range: NagiosRange, value: number): boolean {
  const isInside = value >= range.start && value <= range.end
  return range.isInverted ? isInside : !isInside
}

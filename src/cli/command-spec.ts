/** The shape every command file exports; program.ts turns it into a commander command with its help. */
import { InvalidArgumentError } from 'commander'
import type { CliContext } from './context.js'

export interface ArgumentSpec {
  /** commander syntax: `<id>` */
  readonly name: string
  readonly description: string
  readonly parse?: (value: string) => unknown
}

export interface OptionSpec {
  /** commander syntax: `--limit <n>` */
  readonly flags: string
  readonly description: string
  readonly parse?: (value: string) => unknown
  readonly default?: unknown
}

export interface CommandSpec {
  readonly name: string
  readonly description: string
  /** Shown under "Example:" in the command's help. */
  readonly example: string
  /** The command's own exit codes, shown in its help. */
  readonly exits: ReadonlyArray<readonly [number, string]>
  readonly args?: readonly ArgumentSpec[]
  readonly options?: readonly OptionSpec[]
  /** Exit code for "could not run at all", overriding the sysexits code of the error (check: 3). */
  readonly couldNotRunExit?: number
  /** Subcommands (`check policy`); the command itself still runs when none is named. */
  readonly subcommands?: readonly CommandSpec[]
  /**
   * Unknown short options reach the variadic argument unparsed, and help is `--help` only, so
   * a Nagios plugin can take podsec's `-h <range>`-style letters.
   */
  readonly isPassThrough?: boolean
  /** Returns the exit code of a run that completed; errors are thrown and translated in exit-codes.ts. */
  run (ctx: CliContext, args: readonly unknown[], opts: Readonly<Record<string, unknown>>): Promise<number>
}

export function positiveInteger (what: string): (value: string) => number {
  return (value: string): number => {
    if (!/^[1-9][0-9]{0,14}$/.test(value)) throw new InvalidArgumentError(`${what} must be a positive integer.`)
    return Number(value)
  }
}

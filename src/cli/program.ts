/**
 * The commander program built from the command specs: global options, help with an example per
 * command and the exit codes, exitOverride so nothing calls process.exit, output through Output.
 */
import { Argument, Command, Option } from 'commander'
import { VERSION } from '../core/version.js'
import { check } from './commands/check.js'
import { crontab } from './commands/crontab.js'
import { findings } from './commands/findings.js'
import { log } from './commands/log.js'
import { metrics } from './commands/metrics.js'
import { reinit } from './commands/reinit.js'
import { report } from './commands/report.js'
import { scan } from './commands/scan.js'
import { scans } from './commands/scans.js'
import { status } from './commands/status.js'
import { top } from './commands/top.js'
import type { CommandSpec } from './command-spec.js'
import { DEFAULT_CONFIG, type GlobalOptions } from './context.js'
import { renderExitCodes } from './exit-codes.js'
import type { Output } from './output.js'

export const COMMANDS: readonly CommandSpec[] = [status, scans, scan, log, check, reinit, findings, report, metrics, top, crontab]

export type Invoke = (spec: CommandSpec, args: unknown[], opts: Record<string, unknown>, globals: GlobalOptions) => Promise<void>

const TOP_HELP = `
Run it as the agent's user; on a u7s node that is inside the rootless namespace:
  nsenter_u7s podsec-fim status

Exit codes:
${renderExitCodes()}
`

function addCommand (parent: Command, spec: CommandSpec, invoke: Invoke): void {
  const cmd = parent.command(spec.name).description(spec.description)
  if (spec.isPassThrough === true) cmd.helpOption('--help', 'display help for command').allowUnknownOption().allowExcessArguments()
  for (const a of spec.args ?? []) {
    const arg = new Argument(a.name, a.description)
    if (a.parse !== undefined) arg.argParser(a.parse)
    cmd.addArgument(arg)
  }
  for (const o of spec.options ?? []) {
    const opt = new Option(o.flags, o.description)
    if (o.parse !== undefined) opt.argParser(o.parse)
    if (o.default !== undefined) opt.default(o.default)
    cmd.addOption(opt)
  }
  const exits = spec.exits.map(([code, text]) => `  ${String(code).padStart(2)}  ${text}`).join('\n')
  cmd.addHelpText('after', `\nExample:\n  ${spec.example}\n\nExit codes:\n${exits}\n`)
  cmd.action(async (...params: unknown[]) => {
    const self = params[params.length - 1] as Command
    await invoke(spec, params.slice(0, spec.args?.length ?? 0), self.opts(), self.optsWithGlobals<GlobalOptions>())
  })
  for (const sub of spec.subcommands ?? []) addCommand(cmd, sub, invoke)
}

export function buildProgram (out: Output, invoke: Invoke): Command {
  const program = new Command('podsec-fim')
    .description('Query and control the podsec-fim agent on this node: AIDE file-integrity status, scan history, changed files, checks and re-init.')
    .version(VERSION, '-V, --version')
    .option('--config <file>', `agent config, for the state dir and socket (default ${DEFAULT_CONFIG}; defaults apply when it is absent)`)
    .option('--state-dir <dir>', 'agent state directory holding state.db (overrides the config)')
    .option('--socket <path>', 'agent control socket (overrides the config)')
    .option('--json', 'print one JSON document instead of text (on an error: {"error": {"code", "message"}})')
    .exitOverride()
    .configureOutput({ writeOut: s => out.commanderOut(s), writeErr: s => out.commanderErr(s) })
    .showHelpAfterError('(podsec-fim --help shows usage)')
    .addHelpText('after', TOP_HELP)
  for (const spec of COMMANDS) addCommand(program, spec, invoke)
  return program
}

/**
 * The edge both daemons share: argv (--config, --help, --version), umask, config loading with its
 * exit code, a logger, and runService until SIGTERM. Each daemon only says how to load and start.
 */
import { parseArgs } from 'node:util'
import { EXIT, exitCodeFor, runService, type Service } from './lifecycle.js'
import { createLogger, type Logger } from './log.js'
import type { LogLevel } from './config.js'
import { VERSION } from './version.js'

export interface DaemonSpec<C extends { readonly log: { readonly level: LogLevel } }> {
  readonly name: string
  readonly help: string
  readonly defaultConfig: string
  load (file: string, env: NodeJS.ProcessEnv, isDefaultPath: boolean): C
  start (config: C, log: Logger): Promise<Service>
}

export async function daemonMain<C extends { readonly log: { readonly level: LogLevel } }> (proc: NodeJS.Process, spec: DaemonSpec<C>): Promise<void> {
  let args
  try {
    args = parseArgs({ args: proc.argv.slice(2), options: { config: { type: 'string', short: 'c' }, help: { type: 'boolean', short: 'h' }, version: { type: 'boolean', short: 'V' } } }).values
  } catch (err) {
    proc.stderr.write(`${spec.name}: ${(err as Error).message}\n${spec.help}\n`)
    proc.exitCode = 64
    return
  }
  if (args.help === true) { proc.stdout.write(`${spec.help}\n`); return }
  if (args.version === true) { proc.stdout.write(`${VERSION}\n`); return }
  proc.umask(0o077)
  let config: C
  try {
    config = spec.load(args.config ?? spec.defaultConfig, proc.env, args.config === undefined)
  } catch (err) {
    proc.stderr.write(`${spec.name}: ${(err as Error).message}\n`)
    proc.exitCode = exitCodeFor(err)
    return
  }
  const log = createLogger({ level: config.log.level, name: spec.name })
  await runService(log, () => spec.start(config, log))
  if (proc.exitCode === undefined) proc.exitCode = EXIT.OK
}

/** podsec-fim-agent: the edge. Reads argv and env, loads the config, runs the daemon until SIGTERM. */
import { parseArgs } from 'node:util'
import { loadConfig } from '../core/config.js'
import { EXIT, exitCodeFor, runService } from '../core/lifecycle.js'
import { createLogger } from '../core/log.js'
import { VERSION } from '../core/version.js'
import { startDaemon } from './daemon.js'

export const DEFAULT_CONFIG = '/etc/podsec/fim/agent.json'

const HELP = `Usage: podsec-fim-agent [--config FILE]

Runs the podsec-fim node agent: AIDE baseline and periodic checks, results in SQLite,
a control socket for the podsec-fim CLI. Logs JSON to stdout (journald).

  -c, --config FILE   agent config (default ${DEFAULT_CONFIG}; defaults apply when it is absent)
  -V, --version       print the version
  -h, --help          this text

Exit codes: 0 stopped cleanly, 64 usage, 69 AIDE missing, 70 internal error, 78 invalid config.`

export default async function main (proc: NodeJS.Process): Promise<void> {
  let args
  try {
    args = parseArgs({ args: proc.argv.slice(2), options: { config: { type: 'string', short: 'c' }, help: { type: 'boolean', short: 'h' }, version: { type: 'boolean', short: 'V' } } }).values
  } catch (err) {
    proc.stderr.write(`podsec-fim-agent: ${(err as Error).message}\n${HELP}\n`)
    proc.exitCode = 64
    return
  }
  if (args.help === true) { proc.stdout.write(`${HELP}\n`); return }
  if (args.version === true) { proc.stdout.write(`${VERSION}\n`); return }
  proc.umask(0o077)
  let config
  try {
    config = loadConfig(args.config ?? DEFAULT_CONFIG, proc.env, { isDefaultPath: args.config === undefined })
  } catch (err) {
    proc.stderr.write(`podsec-fim-agent: ${(err as Error).message}\n`)
    proc.exitCode = exitCodeFor(err)
    return
  }
  const log = createLogger({ level: config.log.level, name: 'podsec-fim-agent' })
  await runService(log, () => startDaemon(config, { log, now: Date.now, path: proc.env.PATH ?? '/usr/bin:/bin:/usr/sbin:/sbin', pid: proc.pid }))
  if (proc.exitCode === undefined) proc.exitCode = EXIT.OK
}

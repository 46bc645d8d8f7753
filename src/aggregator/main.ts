/** podsec-fim-aggregator: the edge. Reads argv and env, loads the config, serves until SIGTERM. */
import { parseArgs } from 'node:util'
import { EXIT, exitCodeFor, runService } from '../core/lifecycle.js'
import { createLogger } from '../core/log.js'
import { VERSION } from '../core/version.js'
import { startAggregator } from './aggregator.js'
import { DEFAULT_AGGREGATOR_CONFIG, loadAggregatorConfig } from './aggregator-config.js'

const HELP = `Usage: podsec-fim-aggregator [--config FILE]

Receives podsec-fim agent reports over HTTPS (node client certificates or TokenReview'd tokens)
and writes File Integrity Operator objects (FileIntegrityNodeStatus, result ConfigMaps, Events,
FileIntegrity status) to the Kubernetes API server. Logs JSON to stdout.

  -c, --config FILE   aggregator config (default ${DEFAULT_AGGREGATOR_CONFIG})
  -V, --version       print the version
  -h, --help          this text

Exit codes: 0 stopped cleanly, 64 usage, 70 internal error (e.g. API server unreachable at start), 78 invalid config.`

export default async function main (proc: NodeJS.Process): Promise<void> {
  let args
  try {
    args = parseArgs({ args: proc.argv.slice(2), options: { config: { type: 'string', short: 'c' }, help: { type: 'boolean', short: 'h' }, version: { type: 'boolean', short: 'V' } } }).values
  } catch (err) {
    proc.stderr.write(`podsec-fim-aggregator: ${(err as Error).message}\n${HELP}\n`)
    proc.exitCode = 64
    return
  }
  if (args.help === true) { proc.stdout.write(`${HELP}\n`); return }
  if (args.version === true) { proc.stdout.write(`${VERSION}\n`); return }
  proc.umask(0o077)
  let config
  try {
    config = loadAggregatorConfig(args.config ?? DEFAULT_AGGREGATOR_CONFIG, proc.env)
  } catch (err) {
    proc.stderr.write(`podsec-fim-aggregator: ${(err as Error).message}\n`)
    proc.exitCode = exitCodeFor(err)
    return
  }
  const log = createLogger({ level: config.log.level, name: 'podsec-fim-aggregator' })
  await runService(log, () => startAggregator(config, { log, now: Date.now, env: proc.env }))
  if (proc.exitCode === undefined) proc.exitCode = EXIT.OK
}

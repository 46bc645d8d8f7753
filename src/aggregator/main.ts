/** podsec-fim-aggregator: the edge. Reads argv and env, loads the config, serves until SIGTERM. */
import { daemonMain } from '../core/daemon-main.js'
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
  await daemonMain(proc, {
    name: 'podsec-fim-aggregator',
    help: HELP,
    defaultConfig: DEFAULT_AGGREGATOR_CONFIG,
    load: (file, env) => loadAggregatorConfig(file, env),
    start: (config, log) => startAggregator(config, { log, now: Date.now, env: proc.env }),
  })
}

/** podsec-fim-agent: the edge. Reads argv and env, loads the config, runs the daemon until SIGTERM. */
import { loadConfig } from '../core/config.js'
import { daemonMain } from '../core/daemon-main.js'
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
  await daemonMain(proc, {
    name: 'podsec-fim-agent',
    help: HELP,
    defaultConfig: DEFAULT_CONFIG,
    load: (file, env, isDefaultPath) => loadConfig(file, env, { isDefaultPath }),
    start: (config, log) => startDaemon(config, { log, now: Date.now, path: proc.env.PATH ?? '/usr/bin:/bin:/usr/sbin:/sbin', pid: proc.pid }),
  })
}

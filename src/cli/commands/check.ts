/**
 * `podsec-fim check`: asks the agent for a full AIDE check now and waits for it. Exit codes follow
 * the monitoring-plugin convention (0 OK, 1 differences, 2 error, 3 unknown) so cron and
 * Nagios/Icinga can use it directly.
 */
import type { ScanView } from '../../core/control-api.js'
import type { CommandSpec } from '../command-spec.js'
import { requestScan } from '../control-client.js'
import { EXIT } from '../exit-codes.js'
import { scanPairs } from '../scan-text.js'
import { renderPairs } from '../table.js'
import { checkPolicy } from './check-policy.js'

export function exitForCheck (scan: ScanView): number {
  if (scan.condition === 'Succeeded') return EXIT.OK
  if (scan.condition === 'Failed') return EXIT.FAILED
  return EXIT.ERRORED
}

export const check: CommandSpec = {
  name: 'check',
  description: 'Run a full AIDE check on the agent now and wait for the result (minutes on a real node; a scan already running finishes first).',
  example: 'nsenter_u7s podsec-fim check',
  exits: [[0, 'Succeeded: no differences'], [1, 'Failed: files differ from the baseline'], [2, 'Errored or Interrupted'], [3, 'could not run: no agent listening, bad config, the agent refused, checks held off by the cluster (holdoff)'], [64, 'usage error']],
  couldNotRunExit: EXIT.NOT_RUNNING,
  // `check policy` is a subcommand so `check` alone keeps running the AIDE check.
  subcommands: [checkPolicy],
  async run (ctx) {
    const socket = ctx.socketPath()
    ctx.out.note('running check...')
    const { scan } = await requestScan(socket, 'check')
    if (ctx.isJson) {
      ctx.out.json({ scan })
    } else {
      ctx.out.text(renderPairs(scanPairs(scan)))
      if (scan.condition === 'Failed') ctx.out.note(`(files: podsec-fim scan ${scan.id}; AIDE log: podsec-fim log ${scan.id})`)
    }
    return exitForCheck(scan)
  },
}

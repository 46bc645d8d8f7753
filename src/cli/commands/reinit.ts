/** `podsec-fim reinit`: asks the agent for a new AIDE baseline (the old one is kept as a backup). */
import type { CommandSpec } from '../command-spec.js'
import { requestScan } from '../control-client.js'
import { EXIT } from '../exit-codes.js'
import { scanPairs } from '../scan-text.js'
import { renderPairs } from '../table.js'

export const reinit: CommandSpec = {
  name: 'reinit',
  description: 'Re-initialize the AIDE baseline on the agent now and wait for it: the current state of the files becomes the new reference. The previous database and log are kept as backups. Run it only after reviewing the changes (podsec-fim scan <id>).',
  example: 'nsenter_u7s podsec-fim reinit',
  exits: [[0, 'Succeeded: the new baseline is in place'], [2, 'Errored or Interrupted: the old baseline stays'], [69, 'no agent listening'], [78, 'bad config']],
  async run (ctx) {
    const socket = ctx.socketPath()
    ctx.out.note('running reinit...')
    const { scan } = await requestScan(socket, 'reinit')
    if (ctx.isJson) ctx.out.json({ scan })
    else ctx.out.text(renderPairs(scanPairs(scan)))
    return scan.condition === 'Succeeded' ? EXIT.OK : EXIT.ERRORED
  },
}

/** `podsec-fim status`: the agent's state from the socket, or from the state database when it is stopped. */
import { isAppError } from '../../core/errors.js'
import type { CommandSpec } from '../command-spec.js'
import { requestStatus } from '../control-client.js'
import { EXIT } from '../exit-codes.js'
import { liveStatus, renderStatus, storedStatus, type StatusReport } from '../status-report.js'

async function readStatus (stateDir: () => string, socket: string): Promise<StatusReport> {
  try {
    return liveStatus(await requestStatus(socket), socket)
  } catch (err) {
    if (!isAppError(err) || err.code !== 'PFIM_AGENT_UNREACHABLE') throw err
    return storedStatus(stateDir(), socket, err.message)
  }
}

export const status: CommandSpec = {
  name: 'status',
  description: 'Show the agent: node, versions, baseline, running scan, last scan and last check with their counts, next check, and the aggregator link (connected, last ack, backlog, last error, directive, holdoff). When no agent listens, says so and shows what the state database holds.',
  example: 'nsenter_u7s podsec-fim status',
  exits: [[0, 'the agent answered'], [3, 'the agent is not running (what the state database holds is still shown)'], [78, 'bad config']],
  async run (ctx) {
    const report = await readStatus(() => ctx.stateDir(), ctx.socketPath())
    if (ctx.isJson) ctx.out.json(report)
    else ctx.out.text(renderStatus(report))
    return report.isAgentRunning ? EXIT.OK : EXIT.NOT_RUNNING
  },
}

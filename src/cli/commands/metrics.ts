/** `podsec-fim metrics`: the agent's Prometheus metrics, as a scraper would read them (or as JSON). */
import type { CommandSpec } from '../command-spec.js'
import { requestMetrics, requestMetricsJson } from '../control-client.js'
import { EXIT } from '../exit-codes.js'

export const metrics: CommandSpec = {
  name: 'metrics',
  description: 'Print the agent\'s Prometheus metrics (podsec_fim_agent_*) in the text exposition format, read over the control socket; --json prints the same families as JSON. For a scraper, set metrics.port to serve them on loopback TCP.',
  example: 'nsenter_u7s podsec-fim metrics | grep scans_total',
  exits: [[0, 'the metrics were printed'], [69, 'no agent listening'], [78, 'bad config']],
  async run (ctx) {
    const socket = ctx.socketPath()
    if (ctx.isJson) ctx.out.json(await requestMetricsJson(socket))
    else ctx.out.raw(Buffer.from(await requestMetrics(socket)))
    return EXIT.OK
  },
}

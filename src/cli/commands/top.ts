/**
 * `podsec-fim top`: the cluster as the aggregator sees it, one row per node, refreshed until
 * interrupted (or once with --once / --json). It authenticates as this node with the agent's own
 * aggregator credentials, so it runs where the agent runs, as the agent's user.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { AggregatorLink, loadCredentials } from '../../agent/aggregator-link.js'
import { ConfigError } from '../../core/errors.js'
import { checkNodeTable, PROTOCOL_PATHS, type NodeTable } from '../../core/protocol.js'
import { positiveInteger, type CommandSpec } from '../command-spec.js'
import { EXIT } from '../exit-codes.js'
import { renderTable, type Column } from '../table.js'

const COLUMNS: readonly Column[] = [
  { header: 'NODE' }, { header: 'FILEINTEGRITY' }, { header: 'STATUS' }, { header: 'LAST CHANGE' },
  { header: 'A/C/R' }, { header: 'AGENT' }, { header: 'BACKLOG', isNumeric: true },
]

/** ANSI: cursor home, clear the screen; only when stdout is a terminal. */
const CLEAR = '\u001b[H\u001b[2J'

function row (n: NodeTable['nodes'][number]): string[] {
  return [
    n.node, n.fileIntegrity ?? '-', n.condition ?? '-', n.lastProbeTime ?? '-',
    n.condition === 'Failed' ? `${n.filesAdded}/${n.filesChanged}/${n.filesRemoved}` : '-',
    n.agentState ?? '-', n.backlog === null ? '?' : String(n.backlog),
  ]
}

export const top: CommandSpec = {
  name: 'top',
  description: 'Show every node of the cluster as the aggregator sees it: FileIntegrity, integrity status, when it last changed, files added/changed/removed, the agent\'s state and the reports it still has to deliver (? = not heard by this aggregator replica yet). Refreshes until Ctrl-C. Uses the agent\'s aggregator credentials.',
  example: 'nsenter_u7s podsec-fim top --interval 10',
  exits: [[0, 'shown (--once, --json)'], [69, 'the aggregator cannot be reached'], [77, 'the aggregator refused this node\'s credentials'], [78, 'no aggregator.url in the agent config, or bad credentials']],
  options: [
    { flags: '--once', description: 'print the table once and exit' },
    { flags: '--interval <seconds>', description: 'seconds between refreshes', parse: positiveInteger('--interval'), default: 5 },
  ],
  async run (ctx, _args, opts) {
    const config = ctx.config()
    const url = config.aggregator.url
    if (url === null) throw new ConfigError('podsec-fim top needs aggregator.url in the agent config; this node runs standalone', { where: 'aggregator.url' })
    const link = new AggregatorLink({ url, node: config.nodeName, credentials: await loadCredentials(config.aggregator), now: ctx.now })
    const signal = new AbortController().signal
    try {
      const isOnce = opts.once === true || ctx.isJson
      for (;;) {
        const table = await link.exchange('GET', PROTOCOL_PATHS.nodes, undefined, checkNodeTable, { signal })
        const nodes = table?.nodes ?? []
        if (ctx.isJson) ctx.out.json({ nodes })
        else ctx.out.text(`${isOnce || process.stdout.isTTY !== true ? '' : CLEAR}${nodes.length === 0 ? 'no nodes' : renderTable(COLUMNS, nodes.map(row))}`)
        if (isOnce) return EXIT.OK
        await sleep((opts.interval as number) * 1000)
      }
    } finally {
      await link.close()
    }
  },
}

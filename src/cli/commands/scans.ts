/** `podsec-fim scans`: the scan history, newest first, from the read-only store. */
import { scanView } from '../../agent/scan-view.js'
import { positiveInteger, type CommandSpec } from '../command-spec.js'
import { EXIT } from '../exit-codes.js'
import { withStore } from '../read-store.js'
import { SCAN_COLUMNS, scanRow } from '../scan-text.js'
import { renderTable } from '../table.js'

export const scans: CommandSpec = {
  name: 'scans',
  description: 'List recorded scans (AIDE init and check runs), newest first. Works when the agent is stopped.',
  example: 'nsenter_u7s podsec-fim scans --limit 5',
  exits: [[0, 'listed (also when there are none)'], [66, 'no state database yet']],
  options: [
    { flags: '--limit <n>', description: 'show at most n scans', parse: positiveInteger('--limit'), default: 20 },
    { flags: '--before <id>', description: 'show scans older than scan id (the next page)', parse: positiveInteger('--before') },
  ],
  async run (ctx, _args, opts) {
    const limit = opts.limit as number
    const list = withStore(ctx.stateDir(), store => store.listScans({ limit, beforeId: opts.before as number | undefined }))
      .map(scanView)
    if (ctx.isJson) {
      ctx.out.json({ scans: list })
      return EXIT.OK
    }
    if (list.length === 0) {
      ctx.out.text(opts.before === undefined ? 'no scans recorded yet' : `no scans before ${String(opts.before)}`)
      return EXIT.OK
    }
    ctx.out.text(renderTable(SCAN_COLUMNS, list.map(scanRow)))
    const oldest = list[list.length - 1]
    if (list.length === limit && oldest !== undefined && oldest.id > 1) ctx.out.note(`(older scans: podsec-fim scans --before ${oldest.id})`)
    return EXIT.OK
  },
}

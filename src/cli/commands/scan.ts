/** `podsec-fim scan <id>`: one scan in full — summary, error, changed files with their attributes, unverified files. */
import { positiveInteger, type CommandSpec } from '../command-spec.js'
import { EXIT } from '../exit-codes.js'
import { withStore } from '../read-store.js'
import { readScanReport, renderScanReport } from '../scan-report.js'

export const scan: CommandSpec = {
  name: 'scan',
  description: 'Show one scan: its summary and error, each added/removed/changed file with the changed attributes (old -> new), and the files AIDE could not read. Odd bytes in file names are shown as \\xNN; --json adds pathBase64 with the exact name.',
  example: 'nsenter_u7s podsec-fim scan 12',
  exits: [[0, 'shown'], [66, 'no such scan, or no state database yet']],
  args: [{ name: '<id>', description: 'scan id (see podsec-fim scans)', parse: positiveInteger('scan id') }],
  async run (ctx, args) {
    const report = withStore(ctx.stateDir(), store => readScanReport(store, args[0] as number))
    if (ctx.isJson) ctx.out.json(report)
    else ctx.out.text(renderScanReport(report))
    return EXIT.OK
  },
}

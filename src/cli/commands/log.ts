/** `podsec-fim log <id>`: AIDE's own text report of a scan, byte for byte as stored. */
import { AppError } from '../../core/errors.js'
import { positiveInteger, type CommandSpec } from '../command-spec.js'
import { EXIT } from '../exit-codes.js'
import { withStore } from '../read-store.js'

function utf8OrNull (bytes: Buffer): string | null {
  const text = bytes.toString('utf8')
  return Buffer.from(text, 'utf8').equals(bytes) ? text : null
}

export const log: CommandSpec = {
  name: 'log',
  description: 'Print the AIDE log (AIDE\'s text report) of a scan exactly as stored. With --json: {id, log, logBase64}; log is null when the bytes are not valid UTF-8.',
  example: 'nsenter_u7s podsec-fim log 12 | less',
  exits: [[0, 'printed'], [66, 'no such scan, no log kept for it (pruned, or AIDE did not run), or no state database yet']],
  args: [{ name: '<id>', description: 'scan id (see podsec-fim scans)', parse: positiveInteger('scan id') }],
  async run (ctx, args) {
    const id = args[0] as number
    const bytes = withStore(ctx.stateDir(), store => {
      const stored = store.getLog(id)
      if (stored !== null) return stored
      const why = store.getScan(id).detailsPruned ? 'its details were pruned by retention' : 'AIDE produced none'
      throw new AppError('PFIM_LOG_NOT_FOUND', `scan ${id} has no AIDE log: ${why}`, { where: String(id) })
    })
    if (ctx.isJson) ctx.out.json({ id, log: utf8OrNull(bytes), logBase64: bytes.toString('base64') })
    else ctx.out.raw(bytes)
    return EXIT.OK
  },
}

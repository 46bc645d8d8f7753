/**
 * `podsec-fim crontab install|remove`: puts the lines of crontabs/podsec-fim into root's crontab
 * (the 10-minute report and the daily digest) or takes exactly them out. Idempotent: a second
 * install adds nothing, a remove without our lines changes nothing. Run as root.
 */
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { InvalidArgumentError } from 'commander'
import { AppError } from '../../core/errors.js'
import type { CommandSpec } from '../command-spec.js'
import { applyCrontab, crontabProgram, ourLines, spoolFile } from '../crontab.js'
import { EXIT } from '../exit-codes.js'

/** The file shipped in the package: dist/cli/commands/ (or src/cli/commands/) -> crontabs/. */
export const SHIPPED_CRONTAB = fileURLToPath(new URL('../../../crontabs/podsec-fim', import.meta.url))

function action (value: string): 'install' | 'remove' {
  if (value !== 'install' && value !== 'remove') throw new InvalidArgumentError('the action must be install or remove.')
  return value
}

function readOurs (file: string): string[] {
  try {
    return ourLines(readFileSync(file, 'utf8'))
  } catch (err) {
    throw new AppError('PFIM_CRONTAB_FAILED', `cannot read the crontab lines ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, { where: file, cause: err })
  }
}

export const crontab: CommandSpec = {
  name: 'crontab',
  description: 'Add the podsec-fim report lines (every 10 minutes, and a daily digest) to root\'s crontab, or remove exactly them. Uses crontab -l / crontab -, or --spool.',
  example: 'podsec-fim crontab install      (as root; podsec-fim crontab remove on uninstall)',
  exits: [[0, 'done (also when there was nothing to change)'], [64, 'usage error'], [73, 'the crontab could not be read or written']],
  args: [{ name: '<action>', description: 'install or remove', parse: action }],
  options: [
    { flags: '--user <name>', description: 'edit this user\'s crontab (crontab -u); default: the caller\'s' },
    { flags: '--spool <file>', description: 'edit this spool file directly instead of calling crontab (e.g. /var/spool/cron/root)' },
    { flags: '--lines <file>', description: `the lines to add or remove (default ${SHIPPED_CRONTAB})` },
    { flags: '--crontab-program <path>', description: 'crontab program', default: 'crontab' },
  ],
  async run (ctx, args, opts) {
    const what = args[0] as 'install' | 'remove'
    const ours = readOurs((opts.lines as string | undefined) ?? SHIPPED_CRONTAB)
    const io = opts.spool === undefined
      ? crontabProgram(opts.crontabProgram as string, (opts.user as string | undefined) ?? null)
      : spoolFile(opts.spool as string)
    const change = await applyCrontab(io, ours, what)
    if (ctx.isJson) {
      ctx.out.json({ action: what, crontab: io.describe, changed: change.lines.length > 0, lines: change.lines })
    } else if (change.lines.length === 0) {
      ctx.out.note(what === 'install' ? `${io.describe}: the podsec-fim lines are already there` : `${io.describe}: no podsec-fim lines to remove`)
    } else {
      ctx.out.text(`${io.describe}: ${what === 'install' ? 'added' : 'removed'} ${change.lines.length} lines:\n${change.lines.map(l => `  ${l}`).join('\n')}`)
    }
    return EXIT.OK
  },
}

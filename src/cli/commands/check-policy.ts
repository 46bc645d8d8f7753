/**
 * `podsec-fim check policy`: podsec-inotify-check-policy as a real Nagios plugin. It reads the
 * files itself (the agent may be stopped), prints one status line with perfdata and exits
 * 0/1/2/3. Threshold arguments are podsec's letters (`-c 100 -w 0 -h 101 -vvv`) with Nagios
 * ranges (`10:`, `~:5`, `@1:3`); `-h` is a threshold here, so help is `--help` only.
 */
import { join } from 'node:path'
import { collectPolicyFacts, systemRoots, type PolicyRoots } from '../../agent/policy-facts.js'
import { evaluatePolicy } from '../../agent/policy-report.js'
import { parseThresholdArgs, type Thresholds } from '../../agent/policy-thresholds.js'
import { lsattrProbe } from '../../agent/policy-writable.js'
import { isAppError } from '../../core/errors.js'
import type { CommandSpec } from '../command-spec.js'
import type { CliContext } from '../context.js'
import { renderPolicyStatus, renderUnknown, STATUS_EXIT } from '../policy-status.js'

function roots (ctx: CliContext, opts: Readonly<Record<string, unknown>>): PolicyRoots {
  const root = typeof opts.root === 'string' ? opts.root : '/'
  const homes = typeof opts.homes === 'string' ? opts.homes : ctx.config().policy.homes
  const sys = systemRoots(homes)
  return { containersDir: join(root, sys.containersDir), homes: join(root, sys.homes), passwdFile: join(root, sys.passwdFile), groupFile: join(root, sys.groupFile) }
}

function thresholdsJson (t: Thresholds): Record<string, Record<string, string>> {
  const texts = (m: Readonly<Record<string, { text: string } | undefined>>): Record<string, string> =>
    Object.fromEntries(Object.entries(m).map(([k, r]) => [k, r?.text ?? '']))
  return { journal: texts(t.journal), nagios: texts(t.nagios) }
}

async function evaluate (ctx: CliContext, args: readonly string[], opts: Readonly<Record<string, unknown>>): Promise<number> {
  const thresholds = parseThresholdArgs(args)
  const facts = await collectPolicyFacts(roots(ctx, opts), lsattrProbe())
  const verdict = evaluatePolicy(facts, thresholds)
  const exitCode = STATUS_EXIT[verdict.status]
  if (ctx.isJson) ctx.out.json({ ...verdict, exitCode, thresholds: thresholdsJson(thresholds) })
  else ctx.out.text(renderPolicyStatus(verdict, thresholds))
  return exitCode
}

export const checkPolicy: CommandSpec = {
  name: 'policy',
  description: 'Nagios plugin: evaluate the container trust policy (podsec-inotify-check-policy rules 101-107 and the 90xshare rules) from the files, without the agent. ' +
    'Thresholds: -a -f -c -h -m -l -d <range> (syslog scale, podsec letters), -c -w <range> (Nagios scale), -v/-vv/-vvv; ranges: N, N:, ~:N, A:B, @A:B. No arguments = -c 100 -vv.',
  example: 'podsec-fim check policy -w 0 -c 100 -v',
  exits: [[0, 'OK'], [1, 'WARNING: the summary weight fired -w'], [2, 'CRITICAL: the summary weight fired -c'], [3, 'UNKNOWN: a policy file is unreadable or invalid, or bad thresholds/config'], [64, 'usage error (unknown long option)']],
  args: [{ name: '[thresholds...]', description: 'podsec threshold letters and ranges, e.g. -c 100 -w 0 -vv' }],
  options: [
    { flags: '--root <dir>', description: 'evaluate the system mounted at <dir> (its etc/containers, etc/passwd, etc/group and homes)' },
    { flags: '--homes <dir>', description: 'directory of the users\' homes, under --root (default: policy.homes from the agent config, /home)' },
  ],
  isPassThrough: true,
  couldNotRunExit: STATUS_EXIT.UNKNOWN,
  async run (ctx, args, opts) {
    try {
      return await evaluate(ctx, (args[0] ?? []) as string[], opts)
    } catch (err) {
      if (!isAppError(err)) throw err
      const message = `${err.message} (${err.code})`
      if (ctx.isJson) ctx.out.json({ status: 'UNKNOWN', exitCode: STATUS_EXIT.UNKNOWN, error: { code: err.code, message } })
      else ctx.out.text(renderUnknown(message))
      return STATUS_EXIT.UNKNOWN
    }
  },
}

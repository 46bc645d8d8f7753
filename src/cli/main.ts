/** podsec-fim: the CLI's edge. Takes the process, runs one command, sets the exit code; never exits. */
import type { CommandSpec } from './command-spec.js'
import { CliContext } from './context.js'
import { failure } from './exit-codes.js'
import { Output } from './output.js'
import { buildProgram } from './program.js'

export default async function main (proc: NodeJS.Process): Promise<void> {
  const out = new Output({ stdout: proc.stdout, stderr: proc.stderr })
  let exitCode = 0
  let current: CommandSpec | undefined
  let isJson = false
  const program = buildProgram(out, async (spec, args, opts, globals) => {
    current = spec
    const ctx = new CliContext({ out, env: proc.env, cwd: proc.cwd(), globals, pid: proc.pid })
    isJson = ctx.isJson
    exitCode = await spec.run(ctx, args, opts)
  })
  try {
    await program.parseAsync(proc.argv)
  } catch (err) {
    const f = failure(err, current?.couldNotRunExit)
    if (f.message !== null) {
      out.error(f.message)
      if (isJson) out.json({ error: { code: f.code, message: f.message } })
    }
    exitCode = f.exitCode
  }
  proc.exitCode = exitCode
}

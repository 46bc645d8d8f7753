// stopOrphanAide against real processes: the pid recorded in the state database may have been
// reused by the time the agent restarts, so only a process still running on our config is signalled.
import t from 'tap'
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { stopOrphanAide } from '../../src/agent/aide-process.js'

const CONF = '/var/lib/u7s-admin/.local/state/podsec-fim/aide/aide.conf'
// A node that idles; the arguments after `--` are only there to shape its /proc/PID/cmdline.
function idle (argv0: string, args: string[]): ChildProcess {
  return spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)', '--', ...args], { argv0, stdio: 'ignore' })
}
async function started (child: ChildProcess, t: { teardown (fn: () => unknown): void }): Promise<number> {
  t.teardown(() => { child.kill('SIGKILL') })
  await once(child, 'spawn')
  return child.pid as number
}

t.test('a reused pid whose name merely contains "aide" is left alone', async t => {
  const other = idle('aide', ['--config', '/etc/aide/aide.conf', '-c', '/elsewhere/aide.conf'])
  t.equal(await stopOrphanAide(await started(other, t), CONF), false)
  t.equal(other.exitCode, null, 'still running')
  t.equal(other.signalCode, null)
})

t.test('an AIDE on this agent\'s own config is stopped with SIGINT', async t => {
  const orphan = idle('/usr/bin/aide', ['-c', CONF, '--check'])
  t.equal(await stopOrphanAide(await started(orphan, t), CONF), true)
  const [, signal] = await once(orphan, 'exit') as [number | null, NodeJS.Signals | null]
  t.equal(signal, 'SIGINT')
})

t.test('a pid that no longer exists is not an error', async t => {
  const gone = idle('aide', ['-c', CONF])
  const pid = await started(gone, t)
  gone.kill('SIGKILL')
  await once(gone, 'exit')
  t.equal(await stopOrphanAide(pid, CONF), false)
})

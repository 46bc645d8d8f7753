/** logger(1) into a real unix datagram socket: podsec's tag, priority and prefix; messages stay data; a stuck log drops, never blocks. */
import t, { type Test } from 'tap'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { LoggerSyslog, syslogText } from '../../src/agent/syslog.js'
import { sinkLogger } from '../helpers/agent.js'
import { syslogSocket } from '../helpers/syslog-socket.js'

/** Unix socket paths are limited to 108 bytes; tap's testdirs can be longer. */
function shortDir (t: Test): string {
  const dir = mkdtempSync(join(tmpdir(), 'pfim-syslog-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

// facility user (1) * 8 + severity
const USER_CRIT = 10
const USER_WARNING = 12

t.test('tag, user.<priority>, the agent pid and the exact podsec prefix text', async t => {
  const sock = await syslogSocket(t, shortDir(t))
  const syslog = new LoggerSyslog({ log: sinkLogger([]), pid: 4242, socket: sock.path })
  t.teardown(() => syslog.close())
  syslog.write('podsec-inotify-check-kubeapi', 'crit', 'Critical: ["2026-11-23T10:00:00.000000Z","10.0.0.1","forbidden: User \\"alice\\" cannot list resource \\"secrets\\""]')
  syslog.write('podsec-inotify-check-policy', 'warning', 'Warning: -starts with a dash')
  await syslog.idle()
  const lines = await sock.until('two lines', l => l.length === 2)
  t.same(lines, [
    { priority: USER_CRIT, tag: 'podsec-inotify-check-kubeapi', pid: 4242, message: 'Critical: ["2026-11-23T10:00:00.000000Z","10.0.0.1","forbidden: User \\"alice\\" cannot list resource \\"secrets\\""]' },
    { priority: USER_WARNING, tag: 'podsec-inotify-check-policy', pid: 4242, message: 'Warning: -starts with a dash' },
  ], 'in order, text byte for byte')
  t.match(syslog.stats(), { sent: 2, failed: 0, dropped: 0, queued: 0 })
})

t.test('shell metacharacters are data; a newline cannot forge a second nagwad line', async t => {
  const dir = shortDir(t)
  const sock = await syslogSocket(t, dir)
  const syslog = new LoggerSyslog({ log: sinkLogger([]), pid: 1, socket: sock.path })
  t.teardown(() => syslog.close())
  const evil = `Critical: x'$(touch ${join(dir, 'pwned')})'; \`id\` | cat > ${join(dir, 'pwned2')} && "$HOME" * ?\nfake podsec-inotify-check-policy[1]: Critical: forged`
  syslog.write('podsec-inotify-check-containers', 'crit', evil)
  await syslog.idle()
  const [line] = await sock.until('one line', l => l.length === 1)
  t.equal(line?.message, `Critical: x'$(touch ${join(dir, 'pwned')})'; \`id\` | cat > ${join(dir, 'pwned2')} && "$HOME" * ?\\x0afake podsec-inotify-check-policy[1]: Critical: forged`)
  t.notOk(sock.raw[0]?.includes('\n'), 'one line on the wire')
  const { existsSync } = await import('node:fs')
  t.notOk(existsSync(join(dir, 'pwned')) || existsSync(join(dir, 'pwned2')), 'nothing was executed')
})

t.test('syslogText: control characters escaped, long text cut', async t => {
  t.equal(syslogText('a\tb\r\nc\x7f'), 'a\\x09b\\x0d\\x0ac\\x7f')
  t.equal(syslogText('ü ok'), 'ü ok')
  const long = syslogText('x'.repeat(20_000))
  t.equal(long.length, 8000)
  t.ok(long.endsWith('…'))
})

t.test('a stuck log: write() returns at once, the queue is bounded, overflow is dropped and counted', async t => {
  const sock = await syslogSocket(t, shortDir(t), { isReading: false })
  const logs: Array<Record<string, unknown>> = []
  const syslog = new LoggerSyslog({ log: sinkLogger(logs), pid: 1, socket: sock.path, maxQueue: 100, timeoutMs: 2000 })
  // The receiver never reads: once the socket's buffers are full, logger blocks in send until killed.
  for (let i = 0; i < 300; i++) syslog.write('podsec-inotify-check-kubeapi', 'crit', `Critical: line ${i} ${'x'.repeat(4000)}`)
  const s = syslog.stats()
  t.equal(s.queued, 100, 'at most maxQueue lines wait')
  t.equal(s.dropped, 199, 'the rest were dropped (one logger is already running)')
  t.ok(logs.some(l => l.msg === 'syslog queue full (logger stuck?); lines dropped'), 'the drop is logged')
  await syslog.close()
  const end = syslog.stats()
  t.equal(end.queued, 0)
  t.equal(end.sent + end.failed + end.dropped, 300, 'every line is accounted for')
  t.ok(end.dropped >= 199 && end.failed >= 1, `close gave up on the stuck logger: ${JSON.stringify(end)}`)
})

t.test('a flood goes out in batches: every line arrives, in order, through few logger runs', async t => {
  const sock = await syslogSocket(t, shortDir(t))
  const syslog = new LoggerSyslog({ log: sinkLogger([]), pid: 7, socket: sock.path })
  t.teardown(() => syslog.close())
  const sent: Array<[string, string]> = []
  for (let i = 0; i < 5000; i++) {
    // A run of one tag, then the other: a batch never mixes tags or priorities.
    const tag = Math.floor(i / 1700) % 2 === 0 ? 'podsec-inotify-check-kubeapi' : 'podsec-inotify-check-containers'
    sent.push([tag, `Critical: line ${i} $(id) \\x0a`])
    syslog.write(tag, 'crit', `Critical: line ${i} $(id) \\x0a`)
  }
  await syslog.idle()
  const lines = await sock.until('5000 lines', l => l.length === 5000, 60_000)
  t.same(lines.map(l => [l.tag, l.message]), sent, 'each line its own message, in order, tags kept')
  t.ok(lines.every(l => l.pid === 7 && l.priority === USER_CRIT))
  const s = syslog.stats()
  t.match(s, { sent: 5000, failed: 0, dropped: 0, queued: 0 })
  t.ok(s.runs <= 14, `logger ran ${s.runs} times for 5000 lines (at most 500 each, split where the tag changes)`)
})

t.test('logger missing: counted as failed and logged, never thrown', async t => {
  const logs: Array<Record<string, unknown>> = []
  const syslog = new LoggerSyslog({ log: sinkLogger(logs), pid: 1, socket: null, binary: '/nonexistent/logger' })
  syslog.write('podsec-inotify-check-kubeapi', 'crit', 'Critical: x')
  await syslog.idle()
  t.match(syslog.stats(), { sent: 0, failed: 1 })
  t.ok(logs.some(l => l.msg === 'logger failed; syslog line lost'))
  await syslog.close()
  syslog.write('podsec-inotify-check-kubeapi', 'crit', 'after close')
  t.equal(syslog.stats().queued, 0, 'closed: refused')
})

/**
 * The container watcher on a real storage tree with real inotify: findings and syslog lines with
 * the container, pod and namespace; severity by path; image layers silent; containers coming and
 * going without a restart; the rate limit; hostile file names; a malformed containers.json.
 */
import t, { type Test } from 'tap'
import { appendFileSync, chmodSync, existsSync, linkSync, readdirSync, renameSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { ContainerWatcher, type ContainerTiming } from '../../src/agent/container-watcher.js'
import type { FindingInput } from '../../src/agent/finding-types.js'
import { sinkLogger, startAgent } from '../helpers/agent.js'
import { FakeStorage, RecordingFindings, RecordingSyslog, until } from '../helpers/container-storage.js'

const FAST: Partial<ContainerTiming> = { coalesceMs: 50, remapDebounceMs: 50, rescanMs: 60_000, windowMs: 60_000 }

async function setup (t: Test, opts: { rate?: number, budget?: number, timing?: Partial<ContainerTiming>, storages?: string[], maxPendingPaths?: number } = {}) {
  const s = new FakeStorage(join(t.testdir(), 'storage'))
  const pod = s.addCrioPod('web-0', 'shop', 'nginx', { 'usr/share/nginx/html/index.html': '<h1>hi</h1>\n' })
  const db = s.addPodman('db', { 'etc/passwd': 'root:x:0:0::/root:/bin/sh\n', 'usr/local/bin/tool': '#!/bin/sh\n', 'var/lib/db/data': 'rows\n' })
  const findings = new RecordingFindings()
  const syslog = new RecordingSyslog()
  const watcher = new ContainerWatcher({
    storages: opts.storages ?? [s.root], ratePerMinute: opts.rate ?? 1000, watchBudget: opts.budget ?? 8192, findings, syslog,
    log: sinkLogger([]), now: Date.now, timing: { ...FAST, ...opts.timing }, maxPendingPaths: opts.maxPendingPaths,
  })
  t.teardown(() => watcher.close())
  await watcher.start()
  const about = (path: string, event?: string) => (f: FindingInput) => f.kind === 'container-file' && f.subject === path && (event === undefined || f.details?.event === event)
  const finding = (path: string, event?: string) => until(`a finding on ${path}`, () => findings.findings.find(about(path, event)))
  return { s, pod, db, findings, syslog, watcher, finding, about }
}

t.test('changes inside containers become findings and podsec syslog lines', async t => {
  const { s, pod, db, syslog, findings, finding, about } = await setup(t)
  const nginx = s.diff(pod.container.layer)
  const dbDir = s.diff(db.layer)

  s.writeFiles(nginx, { 'usr/bin/evil': 'x' })
  const created = await finding('/usr/bin/evil')
  t.match(created, { kind: 'container-file', severity: 'critical', subject: '/usr/bin/evil',
    details: { containerId: pod.container.id, container: 'nginx', pod: 'web-0', namespace: 'shop', event: 'CREATE', layer: pod.container.layer } })
  t.same(syslog.lines.find(l => l.message.includes('/usr/bin/evil')),
    { tag: 'podsec-inotify-check-containers', priority: 'crit', message: 'Critical: An event CREATE occurred in the container shop/web-0/nginx on the file /usr/bin/evil' })

  writeFileSync(join(dbDir, 'etc/passwd'), 'root:x:0:0::/root:/bin/sh\nevil:x:0:0::/:/bin/sh\n')
  t.match(await finding('/etc/passwd', 'MODIFY'), { severity: 'warning', details: { container: 'db', pod: null, namespace: null } })
  t.ok(syslog.lines.some(l => l.priority === 'notice' && l.message === 'Warning: An event MODIFY occurred in the container db in configuration directory on the file /etc/passwd'))

  writeFileSync(join(dbDir, 'etc/passwd'), 'root:x:0:0::/root:/bin/sh\nevil:x:0:0::/:/bin/sh\nmore:x:0:0::/:/bin/sh\n')
  s.writeFiles(dbDir, { 'etc/group': 'root:x:0:\n' })
  await finding('/etc/group')
  t.equal(findings.findings.filter(about('/etc/passwd', 'MODIFY')).length, 1, 'the same change again within the window is not reported again')

  s.writeFiles(dbDir, { 'root/.bashrc': 'curl x | sh\n' })
  t.match(await finding('/root/.bashrc'), { severity: 'warning', message: /in home directory on the file \/root\/\.bashrc$/ })

  chmodSync(join(dbDir, 'usr/local/bin/tool'), 0o4755)
  t.match(await finding('/usr/local/bin/tool', 'ATTRIB'), { severity: 'critical', details: { mode: '4755', reason: 'setuid or setgid file' } })

  unlinkSync(join(dbDir, 'var/lib/db/data'))
  t.match(await finding('/var/lib/db/data', 'DELETE'), { severity: 'critical' }, '/var is no longer blanket-excluded')

  renameSync(join(nginx, 'usr/share/nginx/html/index.html'), join(nginx, 'usr/share/nginx/html/old.html'))
  await finding('/usr/share/nginx/html/index.html', 'DELETE')
  await finding('/usr/share/nginx/html/old.html', 'CREATE')
})

t.test('new directories are watched, scratch dirs are info unless executable, whiteouts are deletions', async t => {
  const { s, db, syslog, finding } = await setup(t)
  const dbDir = s.diff(db.layer)
  s.writeFiles(dbDir, { 'opt/new/deeper/file.txt': 'a' })
  await finding('/opt/new', 'CREATE,ISDIR')
  await finding('/opt/new/deeper/file.txt')
  writeFileSync(join(dbDir, 'opt/new/deeper/file.txt'), 'b')
  await finding('/opt/new/deeper/file.txt', 'MODIFY')

  s.writeFiles(dbDir, { 'tmp/scratch': 'x' })
  t.match(await finding('/tmp/scratch'), { severity: 'info' })
  t.notOk(syslog.lines.some(l => l.message.includes('/tmp/scratch')), 'info goes to no syslog line')
  writeFileSync(join(dbDir, 'tmp/run.sh'), '#!/bin/sh\n', { mode: 0o755 })
  t.match(await finding('/tmp/run.sh'), { severity: 'critical', details: { reason: 'executable file in a scratch directory' } })

  s.writeFiles(dbDir, { 'usr/bin/.wh.app': '' })
  t.match(await finding('/usr/bin/app', 'DELETE'), { details: { whiteout: true } })
})

t.test('image layers are not reported', async t => {
  const { s, db, findings, finding } = await setup(t)
  s.writeFiles(s.diff(s.imageLayer), { 'usr/bin/in-image': 'x' })
  s.writeFiles(s.diff(db.layer), { 'sentinel': 'x' })
  await finding('/sentinel')
  t.notOk(findings.findings.some(f => f.subject === '/usr/bin/in-image'))
})

t.test('containers added to or removed from containers.json are picked up without a restart', async t => {
  const { s, db, watcher, findings, finding } = await setup(t)
  t.equal(watcher.containers().length, 3, 'sandbox, nginx, db')
  const cache = s.addPodman('cache')
  await until('the new container to be watched', () => watcher.containers().some(c => c.id === cache.id))
  s.writeFiles(s.diff(cache.layer), { 'etc/redis.conf': 'bind 0.0.0.0\n' })
  t.match(await finding('/etc/redis.conf'), { details: { container: 'cache', containerId: cache.id } })

  s.remove(cache.id)
  await until('the removed container to be dropped', () => !watcher.containers().some(c => c.id === cache.id))
  s.writeFiles(s.diff(cache.layer), { 'after-removal': 'x' })
  s.writeFiles(s.diff(db.layer), { 'sentinel': 'x' })
  await finding('/sentinel')
  t.notOk(findings.findings.some(f => f.subject === '/after-removal'), 'a dropped container is not watched any more')
  t.match(watcher.health(), { name: 'containers', running: true, detail: /^3 container\(s\) watched in 1 storage root\(s\)$/ })
})

t.test('beyond the rate limit, events are counted and summarized once per container and window', async t => {
  const { s, db, pod, findings, syslog } = await setup(t, { rate: 3, timing: { windowMs: 1500 } })
  const files: Record<string, string> = {}
  for (let i = 0; i < 12; i++) files[`usr/lib/burst-${i}`] = 'x'
  s.writeFiles(s.diff(db.layer), files)
  const summary = await until('a summary', () => findings.findings.find(f => f.kind === 'container-summary'))
  const reported = findings.findings.filter(f => f.kind === 'container-file' && f.details?.containerId === db.id)
  t.equal(reported.length, 3, 'the first 3 are reported one by one')
  t.match(summary, { severity: 'critical', subject: 'db', details: { containerId: db.id, container: 'db', limit: 3 } })
  t.ok((summary.details?.suppressed as number) >= 9, `at least 9 held back (${String(summary.details?.suppressed)})`)
  t.ok(syslog.lines.some(l => /^Critical: \d+ more events occurred in the container db within 2 s/.test(l.message)))
  s.writeFiles(s.diff(pod.container.layer), { 'usr/bin/other': 'x' })
  await until('the other container, not limited', () => findings.findings.some(f => f.subject === '/usr/bin/other'))
  t.equal(findings.findings.filter(f => f.kind === 'container-summary').length, 1, 'one summary')
})

function walk (dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap(e => e.isDirectory() ? walk(join(dir, e.name)) : [e.name])
}

t.test('a burst beyond the bound is an overflow: counted in health, a warning finding and line, every create still reported', async t => {
  const { s, db, findings, syslog, watcher } = await setup(t, { maxPendingPaths: 20 })
  const files: Record<string, string> = {}
  for (let i = 0; i < 200; i++) files[`usr/local/bin/f${i}`] = 'x' // an existing, watched directory: one event per file
  s.writeFiles(s.diff(db.layer), files)
  await until('every create', () => findings.findings.filter(f => f.kind === 'container-file' && f.subject.startsWith('/usr/local/bin/f')).length === 200)
  const overflow = await until('the overflow finding', () => findings.findings.find(f => f.kind === 'container-summary' && f.details?.overflow === true))
  t.match(overflow, { severity: 'warning', subject: 'db', details: { container: 'db', dropped: Number } })
  t.match(overflow.message, /^\d+ more file events in the container db within 50 ms were beyond the watcher's bound; the container was rescanned, and created, deleted and changed files are reported once each/)
  t.ok(syslog.lines.some(l => l.priority === 'notice' && l.message === `Warning: ${overflow.message}`))
  t.ok(watcher.health().overflows >= 1, 'health counts it')
  const subjects = findings.findings.filter(f => f.kind === 'container-file').map(f => f.subject)
  t.equal(new Set(subjects).size, subjects.length, 'no file reported twice')
  const more: Record<string, string> = {}
  for (let i = 0; i < 200; i++) more[`usr/local/bin/g${i}`] = 'x'
  s.writeFiles(s.diff(db.layer), more)
  await until('the second burst', () => findings.findings.filter(f => f.kind === 'container-file' && f.subject.startsWith('/usr/local/bin/g')).length === 200)
  await until('the second overflow counted', () => watcher.health().overflows >= 2)
  t.equal(findings.findings.filter(f => f.details?.overflow === true).length, 1, 'reported once per container and rate window')
})

t.test('file names are data: no command runs, no syslog line is forged', async t => {
  const { s, db, findings, syslog, finding } = await setup(t)
  const dbDir = s.diff(db.layer)
  const injection = "x'$(touch pwned)'"
  const forged = 'a\nCritical: An event DELETE occurred in the container kube-apiserver on the file shadow'
  s.writeFiles(dbDir, { [`usr/bin/${injection}`]: 'x', [`usr/bin/${forged}`]: 'x' })
  writeFileSync(Buffer.concat([Buffer.from(`${dbDir}/usr/bin/bad-`), Buffer.from([0xff, 0xfe])]), 'x')
  await finding(`/usr/bin/${injection}`)
  const escaped = '/usr/bin/a\\nCritical: An event DELETE occurred in the container kube-apiserver on the file shadow'
  await finding(escaped)
  await finding('/usr/bin/bad-\\xff\\xfe')
  for (const l of syslog.lines) t.notOk(/[\n\r]/.test(l.message), `one line: ${l.message}`)
  t.ok(syslog.lines.some(l => l.message === `Critical: An event CREATE occurred in the container db on the file ${escaped}`))
  t.notOk(existsSync(join(process.cwd(), 'pwned')))
  t.notOk(walk(s.root).includes('pwned'), 'no file named pwned anywhere in the storage')
  t.notOk(findings.findings.some(f => f.subject.includes('\n')))
})

t.test('a malformed containers.json is a health error and a finding, not a crash; the last mapping is kept', async t => {
  const { s, db, watcher, findings, syslog, finding } = await setup(t)
  writeFileSync(join(s.root, 'overlay-containers', 'containers.json'), '[{"id": "')
  const bad = await until('a storage finding', () => findings.findings.find(f => f.kind === 'container-storage'))
  t.match(bad, { severity: 'warning', message: /containers\.json: \(top level\): not JSON/, details: { code: 'PFIM_CONTAINER_STORAGE_INVALID' } })
  t.ok(syslog.lines.some(l => l.message.startsWith('Warning: The container storage ') && l.message.includes('containers.json')))
  t.match(watcher.health(), { running: true, errors: 1, detail: /containers\.json: \(top level\): not JSON/ })
  s.writeFiles(s.diff(db.layer), { 'still-watched': 'x' })
  await finding('/still-watched')
  s.save()
  await until('the error to clear', () => !/not JSON/.test(watcher.health().detail ?? ''))
  t.equal(findings.findings.filter(f => f.kind === 'container-storage').length, 1, 'reported once')
})

t.test('a storage root that appears later is picked up by the rescan', async t => {
  const dir = t.testdir()
  const root = join(dir, 'later')
  const findings = new RecordingFindings()
  const watcher = new ContainerWatcher({ storages: [root], ratePerMinute: 10, watchBudget: 8192, findings, syslog: new RecordingSyslog(), log: sinkLogger([]), now: Date.now, timing: { ...FAST, rescanMs: 100 } })
  t.teardown(() => watcher.close())
  await watcher.start()
  t.match(watcher.health(), { running: true, detail: /does not exist \(waiting for it\)/ })
  const s = new FakeStorage(root)
  const db = s.addPodman('db')
  await until('the container to be watched', () => watcher.containers().some(c => c.id === db.id))
  s.writeFiles(s.diff(db.layer), { 'etc/motd': 'hi' })
  await until('a finding', () => findings.findings.find(f => f.subject === '/etc/motd'))
  rmSync(root, { recursive: true })
  await watcher.close()
  t.match(watcher.health(), { running: false })
})

t.test('the watch budget is shared by all containers and shown in the health', async t => {
  const { watcher } = await setup(t, { budget: 4 })
  t.match(watcher.health(), { budget: 4, detail: /director(y|ies) in upper dirs not watched \(containers\.watchBudget 4 used up/ })
  t.ok((watcher.health().watches ?? 0) <= 4 + 2, 'the trees stay within the budget (plus the two storage dir watches)')
})

t.test('a store wiped and recreated (podman system reset) is watched again', async t => {
  const { s, watcher, finding } = await setup(t, { timing: { rescanMs: 200 } })
  rmSync(s.root, { recursive: true })
  await until('the old containers to be dropped', () => watcher.containers().length === 0)
  const fresh = new FakeStorage(s.root)
  const c = fresh.addPodman('fresh')
  await until('the new container to be watched', () => watcher.containers().some(x => x.id === c.id))
  fresh.writeFiles(fresh.diff(c.layer), { 'usr/bin/new': 'x' })
  t.match(await finding('/usr/bin/new'), { details: { container: 'fresh' } })
  const later = fresh.addPodman('later')
  await until('a container added after the reset', () => watcher.containers().some(x => x.id === later.id))
})

t.test('a storage root listed twice through a symlink is watched once', async t => {
  const dir = t.testdir()
  const s = new FakeStorage(join(dir, 'usernetes', 'containers', 'storage'))
  const db = s.addPodman('db')
  symlinkSync(join(dir, 'usernetes', 'containers'), join(dir, 'containers'))
  const findings = new RecordingFindings()
  const watcher = new ContainerWatcher({ storages: [s.root, join(dir, 'containers', 'storage')], ratePerMinute: 10, watchBudget: 8192, findings, syslog: new RecordingSyslog(), log: sinkLogger([]), now: Date.now, timing: FAST })
  t.teardown(() => watcher.close())
  await watcher.start()
  t.equal(watcher.containers().length, 1)
  t.match(watcher.health(), { detail: /is .*usernetes\/containers\/storage, already watched/ })
  s.writeFiles(s.diff(db.layer), { 'etc/motd': 'x' })
  await until('a finding', () => findings.findings.find(f => f.subject === '/etc/motd'))
  s.writeFiles(s.diff(db.layer), { 'etc/issue': 'x' })
  await until('the sentinel', () => findings.findings.find(f => f.subject === '/etc/issue'))
  t.equal(findings.findings.filter(f => f.subject === '/etc/motd').length, 1, 'one finding, not two')
})

t.test('the daemon runs the watcher when containers.enabled and shows its health', async t => {
  const s = new FakeStorage(join(t.testdir(), 'storage'))
  const db = s.addPodman('db')
  const agent = await startAgent(t, { overrides: { 'containers.storages': [s.root] } })
  await until('the watcher in the status', () => agent.daemon.status().watchers.find(w => w.name === 'containers' && w.running && w.detail === '1 container(s) watched in 1 storage root(s)'))
  s.writeFiles(s.diff(db.layer), { 'etc/shadow': 'x' })
  const found = await until('the finding in the state database', () => agent.daemon.watchers.findings.list({ kind: 'container-file', limit: 10 }).find(f => f.subject === '/etc/shadow'))
  t.match(found, { kind: 'container-file', severity: 'warning', details: { container: 'db' } })
})

t.test('containers.enabled false starts no watcher', async t => {
  const agent = await startAgent(t, { overrides: { 'containers.enabled': false } })
  t.notOk(agent.daemon.status().watchers.some(w => w.name === 'containers'))
})

t.test('the periodic sweep reports a change no event told of (a write through a hard link outside the container)', async t => {
  const { s, db, finding } = await setup(t, { timing: { sweepMs: 200 } })
  const link = join(s.root, '..', 'passwd-link')
  linkSync(join(s.diff(db.layer), 'etc/passwd'), link)
  await finding('/etc/passwd', 'ATTRIB')
  appendFileSync(link, 'evil:x:0:0::/:/bin/sh\n')
  t.match(await finding('/etc/passwd', 'MODIFY'), { severity: 'warning', details: { container: 'db', event: 'MODIFY' } })
})

t.test('sweep() looks at once, with the periodic sweep off (period 0)', async t => {
  const { s, db, findings, watcher } = await setup(t, { timing: { sweepMs: 0 } })
  linkSync(join(s.diff(db.layer), 'etc/passwd'), join(s.root, '..', 'passwd-link'))
  await watcher.sweep()
  t.match(findings.findings, [{ subject: '/etc/passwd', details: { event: 'ATTRIB' } }], 'the link is reported by the call itself')
})

t.test('a sweep looks at one container per turn of the event loop', async t => {
  const { s, pod, db, findings, watcher } = await setup(t, { timing: { sweepMs: 0 } })
  linkSync(join(s.diff(pod.container.layer), 'usr/share/nginx/html/index.html'), join(s.root, '..', 'index-link'))
  linkSync(join(s.diff(db.layer), 'etc/passwd'), join(s.root, '..', 'passwd-link'))
  const sweeping = watcher.sweep()
  t.equal(findings.findings.length, 1, 'one container looked at before the agent gets the loop back')
  await sweeping
  t.same(findings.findings.map(f => f.subject).sort(), ['/etc/passwd', '/usr/share/nginx/html/index.html'])
})

/**
 * node --import tsx test/bench/containers.ts: the container watcher, measured, printed, never
 * asserted. Each figure is a ratio against a baseline measured in the same run.
 *
 * 1. Start on a container whose upper dir holds FILES files in FILES/100 directories, and a sweep
 *    of it (nothing changed), against a bare recursive readdir + lstat of the same tree (the least
 *    any watcher must do to know it).
 * 2. Events to findings: BURST files created in a watched container until every one is a finding
 *    (through the whole watcher: coalescing, lstat, classification, rate limit, sink), against
 *    bare fs.watch handles on the same directories seeing every create.
 * 3. A flood: FLOOD (100,000) files created as fast as another process can in a watched container,
 *    with the production burst bound and no rate limit: the overflows reported, how many of the
 *    created files came out as CREATE findings, and the memory before, at its peak and after.
 */
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, rmSync, watch, writeFileSync } from 'node:fs'
import { execFile } from 'node:child_process'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ContainerTree } from '../../src/agent/container-tree.js'
import { InotifyQueue } from '../../src/agent/inotify-queue.js'
import { WatchBudget } from '../../src/agent/watch-budget.js'
import { ContainerWatcher } from '../../src/agent/container-watcher.js'
import { NO_SYSLOG } from '../../src/agent/syslog.js'
import { sinkLogger } from '../helpers/agent.js'
import type { FindingInput, FindingSink } from '../../src/agent/finding-types.js'
import { FakeStorage, RecordingFindings, RecordingSyslog, until } from '../helpers/container-storage.js'

const FILES = Number(process.env.BENCH_FILES ?? 20_000)
const BURST = Number(process.env.BENCH_BURST ?? 2_000)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3)
const FLOOD = Number(process.env.BENCH_FLOOD ?? 100_000)

function median (xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)] as number
}

function ms (t0: bigint): number {
  return Number(process.hrtime.bigint() - t0) / 1e6
}

function fill (dir: string, files: number, prefix: string): string[] {
  const dirs: string[] = []
  for (let i = 0; i < files; i++) {
    const d = join(dir, 'usr', `d${Math.floor(i / 100)}`)
    if (i % 100 === 0) {
      mkdirSync(d, { recursive: true })
      dirs.push(d)
    }
    writeFileSync(join(d, `${prefix}${i}`), 'x')
  }
  return dirs
}

function walk (dir: string): number {
  let n = 0
  for (const name of readdirSync(dir)) {
    n++
    if (lstatSync(join(dir, name)).isDirectory()) n += walk(join(dir, name))
  }
  return n
}

function startRatio (root: string): void {
  const dir = join(root, 'start')
  fill(dir, FILES, 'f')
  const bare: number[] = []
  const ours: number[] = []
  const sweeps: number[] = []
  for (let r = 0; r < ROUNDS; r++) {
    let t0 = process.hrtime.bigint()
    walk(dir)
    bare.push(ms(t0))
    t0 = process.hrtime.bigint()
    const tree = new ContainerTree({ dir, queue: new InotifyQueue(), budget: new WatchBudget(1e6), coalesceMs: 100, onChange: () => { throw new Error('a sweep of an unchanged tree reported a change') }, onError: err => { throw err } })
    tree.start()
    ours.push(ms(t0))
    t0 = process.hrtime.bigint()
    tree.sweep()
    sweeps.push(ms(t0))
    tree.close()
  }
  const ratio = (xs: number[]): string => `${median(xs).toFixed(0)} ms, ratio ${(median(xs) / median(bare)).toFixed(2)}`
  console.log(`on ${FILES} files, against a bare walk of ${median(bare).toFixed(0)} ms: start ${ratio(ours)}; a sweep ${ratio(sweeps)}`)
}

async function bareEvents (dirs: string[], files: () => void): Promise<number> {
  let seen = 0
  const handles = dirs.map(d => watch(d, () => { seen++ }))
  const t0 = process.hrtime.bigint()
  files()
  await until('bare events', () => seen >= BURST, 120_000)
  const took = ms(t0)
  for (const h of handles) h.close()
  return took
}

async function eventRatio (root: string): Promise<void> {
  const s = new FakeStorage(join(root, 'storage'))
  const db = s.addPodman('db')
  const dirs = fill(s.diff(db.layer), BURST, 'seed')
  const findings = new RecordingFindings()
  const watcher = new ContainerWatcher({ storages: [s.root], ratePerMinute: 1e9, watchBudget: 1e6, findings, syslog: new RecordingSyslog(), log: sinkLogger([]), now: Date.now })
  await watcher.start()
  const bare: number[] = []
  const ours: number[] = []
  for (let r = 0; r < ROUNDS; r++) {
    const create = (tag: string) => () => { for (let i = 0; i < BURST; i++) writeFileSync(join(dirs[i % dirs.length] as string, `${tag}${r}-${i}`), 'x') }
    // The watcher sees these too; it is running, as it would be on a node.
    bare.push(await bareEvents(dirs, create('b')))
    await until('the watcher to finish the bare round', () => findings.findings.filter(f => f.subject.includes(`/b${r}-`)).length >= BURST, 120_000)
    const before = findings.findings.length
    const t0 = process.hrtime.bigint()
    create('w')()
    await until('findings', () => findings.findings.filter((f, i) => i >= before && f.subject.includes(`/w${r}-`)).length >= BURST, 120_000)
    ours.push(ms(t0))
  }
  await watcher.close()
  console.log(`${BURST} creates to findings: watcher ${median(ours).toFixed(0)} ms (includes the 100 ms coalescing window), bare fs.watch ${median(bare).toFixed(0)} ms, ratio ${(median(ours) / median(bare)).toFixed(2)}`)
}

/**
 * Creates FLOOD files in 100 watched directories; reports overflows, accounting and memory. With
 * `busyMs` the agent's thread is held that long while the writer starts (a long transaction, a GC
 * pause): the kernel's queue (max_queued_events) and the tree's bound fill up.
 */
async function flood (root: string, name: string, busyMs: number): Promise<void> {
  const s = new FakeStorage(join(root, name))
  const c = s.addPodman('busy')
  const dirs = fill(s.diff(c.layer), 100, 'seed')
  // No rate limit, so that every create must come out as its own finding; the sink keeps only the
  // created paths (a Set of 100,000 short strings, about 10 MB of the peak below).
  const created = new Set<string>()
  const overflows: FindingInput[] = []
  let reported = 0
  const findings: FindingSink = {
    record (f) {
      reported++
      if (f.kind === 'container-file' && f.details?.event === 'CREATE') created.add(f.subject)
      if (f.details?.overflow === true) overflows.push(f)
      return reported
    },
  }
  const watcher = new ContainerWatcher({ storages: [s.root], ratePerMinute: 1e9, watchBudget: 8192, findings, syslog: NO_SYSLOG, log: sinkLogger([]), now: Date.now })
  await watcher.start()
  const mb = (bytes: number): string => `${(bytes / 1048576).toFixed(0)} MB`
  const gc = (globalThis as { gc?: () => void }).gc
  gc?.()
  const heapBefore = process.memoryUsage().heapUsed
  const before = process.memoryUsage().rss
  let peak = before
  const sampler = setInterval(() => { peak = Math.max(peak, process.memoryUsage().rss) }, 20)
  const t0 = process.hrtime.bigint()
  // Another process writes, as a container would, while this one's event loop keeps reading.
  const writer = `const { writeFileSync } = require('node:fs'); const dirs = ${JSON.stringify(dirs)}; for (let i = 0; i < ${FLOOD}; i++) writeFileSync(dirs[i % dirs.length] + '/flood-' + i, 'x')`
  const done = new Promise<void>((resolve, reject) => execFile(process.execPath, ['-e', writer], err => { if (err === null) resolve(); else reject(err) }))
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, busyMs)
  await done
  const written = ms(t0)
  // Settled: no new finding for a second. Then close: the rate limiter's summaries come out.
  for (let n = -1; n !== reported;) {
    n = reported
    await new Promise(resolve => setTimeout(resolve, 1000))
  }
  gc?.()
  const heapKept = process.memoryUsage().heapUsed - heapBefore
  await watcher.close()
  const accounted = [...created].filter(p => p.startsWith('/usr/d') && p.includes('/flood-')).length
  clearInterval(sampler)
  peak = Math.max(peak, process.memoryUsage().rss)
  const dropped = overflows.reduce((n, f) => n + Number(f.details?.dropped ?? 0), 0)
  console.log(`${FLOOD} creates in ${written.toFixed(0)} ms, agent ${name}: ${overflows.length} overflow(s) reported (${dropped} events beyond the bound, recovered by rescans), ${accounted} of the ${FLOOD} created files reported as CREATE (${reported} findings in all), RSS ${mb(before)} before, peak ${mb(peak)} (+${mb(peak - before)}), ${mb(process.memoryUsage().rss)} after${gc === undefined ? '' : `; heap kept after a full GC +${mb(heapKept)} (the tree's entries for the new files and the bench's set)`}`)
}

const root = mkdtempSync(join(tmpdir(), 'pfim-bench-ctr-'))
try {
  startRatio(root)
  await eventRatio(root)
  await flood(root, 'idle', 0)
  await flood(root, 'busy for 3 s', 3000)
} finally {
  rmSync(root, { recursive: true, force: true })
}

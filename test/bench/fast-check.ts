/**
 * node --import tsx test/bench/fast-check.ts — measured and printed, never asserted.
 *
 * Over one tree (BENCH_TREE=/usr, or by default a generated tree of BENCH_FILES files), with the
 * rule p+ftype+i+l+n+u+g+s+sha512, in the same run:
 *   - the baseline index rebuild (AIDE database -> SQLite): time and the process's peak RSS growth;
 *   - a full check: fast mode (AIDE's --dry-init selection measured by our worker threads, diffed
 *     against the index) against exact mode (aide --check) against the hashing floor `sha512sum`
 *     over the same regular files; printed as ratios;
 *   - where the time goes: --dry-init alone, and the other fast way (aide --init + our diff, used
 *     when the rules name attributes only AIDE can read).
 */
import { ownSettings, RuntimeSettings } from '../../src/agent/runtime-settings.js'
import { execFile } from 'node:child_process'
import { mkdirSync, mkdtempSync, readdirSync, lstatSync, rmSync, writeFileSync, appendFileSync } from 'node:fs'
import { randomBytes } from 'node:crypto'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { Scanner } from '../../src/agent/scanner.js'
import { openStore } from '../../src/agent/store.js'
import { aideVersion, spawnAide } from '../../src/agent/aide-process.js'
import { diffAgainstIndex } from '../../src/agent/fast-check.js'
import { sinkLogger } from '../helpers/agent.js'

const run = promisify(execFile)
const PATH = process.env.PATH ?? '/usr/bin:/bin'
const FILES = Number(process.env.BENCH_FILES ?? 20_000)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 1)

function makeTree (root: string): string {
  const tree = join(root, 'tree')
  for (let i = 0; i < FILES; i++) {
    const dir = join(tree, `d${Math.floor(i / 100)}`)
    if (i % 100 === 0) mkdirSync(dir, { recursive: true })
    writeFileSync(join(dir, `f${i}`), randomBytes(2048 + (i % 7) * 4096))
  }
  return tree
}

function regularFiles (dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name)
    const st = lstatSync(p, { throwIfNoEntry: false })
    if (st?.isDirectory() === true) regularFiles(p, out)
    else if (st?.isFile() === true) out.push(p)
  }
  return out
}

async function timed (fn: () => Promise<unknown>): Promise<number> {
  const t0 = process.hrtime.bigint()
  await fn()
  return Number(process.hrtime.bigint() - t0) / 1e6
}

function peakRssMb (): number {
  return process.resourceUsage().maxRSS / 1024
}

async function sha512sum (files: string[]): Promise<void> {
  for (let i = 0; i < files.length; i += 2000) {
    await run('sha512sum', ['--', ...files.slice(i, i + 2000)], { maxBuffer: 1 << 28 }).catch(() => undefined)
  }
}

async function main (): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'pfim-bench-'))
  const tree = process.env.BENCH_TREE ?? makeTree(root)
  const escaped = tree.replace(/[.]/g, '\\.')
  writeFileSync(join(root, 'aide.conf'), `R = p+ftype+i+l+n+u+g+s+sha512\n${escaped}($|/) R\n!/usr/local/share/ca-certificates$\n`)
  const store = openStore(join(root, 'state', 'state.db'))
  const version = await aideVersion('aide', PATH)
  const make = (mode: 'exact' | 'fast'): Scanner => new Scanner({ store, stateDir: join(root, 'state'), aide: { binary: 'aide', mode }, settings: new RuntimeSettings(ownSettings({ config: join(root, 'aide.conf'), maxBackups: 0, gracePeriod: 900, initialDelay: 0 })), version, path: PATH, log: sinkLogger([]), now: Date.now })
  const exact = make('exact')
  const fast = make('fast')
  const init = await exact.run('init', 'startup')
  const baseline = store.currentBaseline()
  if (init.condition !== 'Succeeded' || baseline === null) throw new Error(`init ${init.condition}: ${init.error ?? ''}`)
  const rssBefore = peakRssMb()
  const indexMs = await timed(() => fast.index.rebuild(exact.paths.database, baseline))
  const entries = fast.index.state()?.entries ?? 0
  console.log(`index rebuild: ${entries} entries in ${indexMs.toFixed(0)} ms (${(entries / indexMs * 1000).toFixed(0)} entries/s); peak RSS ${rssBefore.toFixed(0)} -> ${peakRssMb().toFixed(0)} MB; AIDE database ${(baseline.size / 1e6).toFixed(1)} MB gzip`)
  if (process.env.BENCH_TREE === undefined) for (let i = 0; i < FILES; i += Math.floor(FILES / 10)) appendFileSync(join(tree, `d${Math.floor(i / 100)}`, `f${i}`), 'changed')
  const files = regularFiles(tree)
  const fastMs: number[] = []
  const exactMs: number[] = []
  const sumMs: number[] = []
  for (let r = 0; r < ROUNDS; r++) {
    // Printed as each finishes, so a run cut short still reports what it measured.
    sumMs.push(await timed(() => sha512sum(files)))
    console.log(`round ${r + 1}: sha512sum ${sumMs[r]?.toFixed(0) ?? ''} ms`)
    fastMs.push(await timed(() => fast.run('check', 'manual')))
    console.log(`round ${r + 1}: fast check ${fastMs[r]?.toFixed(0) ?? ''} ms`)
    exactMs.push(await timed(() => exact.run('check', 'manual')))
    console.log(`round ${r + 1}: exact check ${exactMs[r]?.toFixed(0) ?? ''} ms`)
  }
  const min = (xs: number[]): number => Math.min(...xs)
  const last = store.lastScan('check')
  console.log(`full check over ${tree} (${entries} entries, ${files.length} regular files), min of ${ROUNDS}: fast ${min(fastMs).toFixed(0)} ms, exact (aide --check) ${min(exactMs).toFixed(0)} ms, sha512sum ${min(sumMs).toFixed(0)} ms`)
  console.log(`ratios: exact/fast ${(min(exactMs) / min(fastMs)).toFixed(2)}, fast/sha512sum ${(min(fastMs) / min(sumMs)).toFixed(2)}, exact/sha512sum ${(min(exactMs) / min(sumMs)).toFixed(2)}; last check: ${last?.condition ?? ''} changed=${last?.changed ?? 0}`)
  // Where a fast check spends its time: AIDE's walk alone, and the aide --init way for comparison.
  const dryMs = await timed(async () => (await spawnAide({ binary: 'aide', args: ['-c', fast.paths.conf, '--dry-init'], path: PATH })).done)
  console.log(`aide --dry-init alone (AIDE's walk and rule matching, the floor under the fast check): ${dryMs.toFixed(0)} ms`)
  const scratch = join(root, 'split.db.gz')
  const initMs = await timed(async () => (await spawnAide({ binary: 'aide', args: ['-c', fast.paths.conf, '-B', `database_out=file:${scratch}`, '--init'], path: PATH })).done)
  const diffMs = await timed(() => diffAgainstIndex(fast.index, scratch, () => ({ aideVersion: '', startTime: '', endTime: '' })))
  console.log(`the aide --init way: aide --init ${initMs.toFixed(0)} ms + our diff ${diffMs.toFixed(0)} ms (${(entries / diffMs * 1000).toFixed(0)} entries/s) = ${((initMs + diffMs) / 1000).toFixed(1)} s`)
  console.log(`peak RSS of this process (bench, both scanners): ${peakRssMb().toFixed(0)} MB`)
  await exact.close()
  await fast.close()
  store.close()
  rmSync(root, { recursive: true, force: true })
}

await main()

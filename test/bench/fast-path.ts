/**
 * node --import tsx test/bench/fast-path.ts — measured and printed, never asserted.
 *
 * Event-to-Failed-in-SQLite latency of the fast path (write a file -> the Failed event scan is
 * committed), p50/p95 over BENCH_EVENTS changes to a generated tree of BENCH_FILES files, against
 * the time a full check (fast mode) takes to notice the same kind of change in the same run.
 */
import { ownSettings, RuntimeSettings } from '../../src/agent/runtime-settings.js'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { randomBytes } from 'node:crypto'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Scanner } from '../../src/agent/scanner.js'
import { openStore, type Store } from '../../src/agent/store.js'
import { aideRuleAttributes, aideVersion } from '../../src/agent/aide-process.js'
import { FastPathWatcher } from '../../src/agent/fs-watcher.js'
import { sinkLogger } from '../helpers/agent.js'

const PATH = process.env.PATH ?? '/usr/bin:/bin'
const FILES = Number(process.env.BENCH_FILES ?? 5_000)
const EVENTS = Number(process.env.BENCH_EVENTS ?? 40)

function quantile (xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] as number
}

async function waitForEventScan (store: Store, afterId: number): Promise<number> {
  for (;;) {
    const s = store.listScans({ limit: 1 })[0]
    if (s !== undefined && s.id > afterId && s.trigger === 'event' && s.finishedAt !== null) return s.id
    await new Promise(resolve => setTimeout(resolve, 2))
  }
}

async function main (): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'pfim-bench-fp-'))
  const tree = join(root, 'tree')
  for (let i = 0; i < FILES; i++) {
    if (i % 100 === 0) mkdirSync(join(tree, `d${i / 100}`), { recursive: true })
    writeFileSync(join(tree, `d${Math.floor(i / 100)}`, `f${i}`), randomBytes(4096))
  }
  writeFileSync(join(root, 'aide.conf'), `R = p+ftype+i+l+n+u+g+s+sha512\n${tree}($|/) R\n`)
  const store = openStore(join(root, 'state', 'state.db'))
  const scanner = new Scanner({ store, stateDir: join(root, 'state'), aide: { binary: 'aide', mode: 'fast' }, settings: new RuntimeSettings(ownSettings({ config: join(root, 'aide.conf'), maxBackups: 0, gracePeriod: 900, initialDelay: 0 })), version: await aideVersion('aide', PATH), path: PATH, log: sinkLogger([]), now: Date.now })
  await scanner.run('init', 'startup')
  const watcher = new FastPathWatcher({
    index: scanner.index, store, budget: 4096, log: sinkLogger([]), now: Date.now, aideVersion: '0.18.3',
    rule: (p, type) => aideRuleAttributes({ binary: 'aide', conf: scanner.paths.conf, path: PATH }, p, type), fullCheck: async () => {},
  })
  await watcher.start()
  const latencies: number[] = []
  for (let i = 0; i < EVENTS; i++) {
    const last = store.listScans({ limit: 1 })[0]?.id ?? 0
    const t0 = Date.now()
    writeFileSync(join(tree, `d${i % (FILES / 100)}`, `f${(i % (FILES / 100)) * 100}`), randomBytes(4096))
    const id = await waitForEventScan(store, last)
    latencies.push((store.getScan(id).finishedAt as number) - t0)
  }
  await watcher.close()
  const t0 = Date.now()
  await scanner.run('check', 'manual')
  const fullMs = Date.now() - t0
  const p50 = quantile(latencies, 0.5)
  const p95 = quantile(latencies, 0.95)
  console.log(`fast path, ${FILES} files, ${EVENTS} single-file changes: event -> Failed scan committed p50 ${p50} ms, p95 ${p95} ms (includes the 200 ms debounce)`)
  console.log(`full check (fast mode) over the same tree: ${fullMs} ms; ratio full/p50 ${(fullMs / p50).toFixed(1)}, full/p95 ${(fullMs / p95).toFixed(1)}`)
  await scanner.close()
  store.close()
  rmSync(root, { recursive: true, force: true })
}

await main()

/**
 * npm run bench: measured, printed, never asserted. Every figure is a ratio against a baseline
 * measured in the same run on the same machine.
 *
 * 1. A full check of a 20,000-file tree through the agent (scanner + report parsing + SQLite)
 *    against a bare `aide --check` with the same rendered config and report options.
 * 2. The agent's idle RSS as a separate process after its first baseline.
 * 3. Audit-log catch-up through the audit watcher against read + JSON.parse (audit.ts).
 */
import { execFile, spawn } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { randomBytes } from 'node:crypto'
import { parseConfig } from '../../src/core/config.js'
import { startDaemon } from '../../src/agent/daemon.js'
import { reportArgs } from '../../src/agent/aide-conf.js'
import { sinkLogger, treeAideConf } from '../helpers/agent.js'
import { auditRatio } from './audit.js'

const run = promisify(execFile)
const FILES = Number(process.env.BENCH_FILES ?? 20_000)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3)
const PATH = process.env.PATH ?? '/usr/bin:/bin'

function makeBigTree (root: string): string {
  const tree = join(root, 'tree')
  for (let i = 0; i < FILES; i++) {
    const dir = join(tree, `d${Math.floor(i / 100)}`)
    if (i % 100 === 0) mkdirSync(dir, { recursive: true })
    writeFileSync(join(dir, `f${i}`), randomBytes(2048 + (i % 7) * 512))
  }
  return tree
}

function median (xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)] as number
}

async function timed (fn: () => Promise<unknown>): Promise<number> {
  const t0 = process.hrtime.bigint()
  await fn()
  return Number(process.hrtime.bigint() - t0) / 1e6
}

async function checkRatio (root: string, tree: string): Promise<void> {
  writeFileSync(join(root, 'aide.conf'), treeAideConf(tree))
  const config = parseConfig({ stateDir: join(root, 'state'), socketPath: join(root, 'agent.sock'), aide: { config: join(root, 'aide.conf'), gracePeriod: 86400, initialDelay: 86400 } }, {})
  const daemon = await startDaemon(config, { log: sinkLogger([]), now: Date.now, path: PATH, pid: process.pid })
  await daemon.scanner.idle()
  for (let i = 0; i < FILES; i += Math.floor(FILES / 10)) writeFileSync(join(tree, `d${Math.floor(i / 100)}`, `f${i}`), 'changed')
  const paths = daemon.scanner.paths
  const bare = ['-c', paths.conf, ...reportArgs(paths, true), '--check']
  const agentMs: number[] = []
  const bareMs: number[] = []
  for (let r = 0; r < ROUNDS; r++) {
    // Alternate the order so cache warmth favours neither side.
    const a = () => timed(() => daemon.scanner.run('check', 'manual'))
    const b = () => timed(() => run('aide', bare, { env: { PATH, TZ: 'UTC', LC_ALL: 'C' } }).catch((e: { code?: number }) => { if (e.code === undefined || e.code > 7) throw e }))
    if (r % 2 === 0) { agentMs.push(await a()); bareMs.push(await b()) } else { bareMs.push(await b()); agentMs.push(await a()) }
  }
  await daemon.close()
  const ratio = median(agentMs) / median(bareMs)
  console.log(`full check, ${FILES} files, ${ROUNDS} rounds: agent ${median(agentMs).toFixed(0)} ms, bare aide --check ${median(bareMs).toFixed(0)} ms, ratio ${ratio.toFixed(3)} (goal <= 1.05)`)
}

async function idleRss (root: string): Promise<void> {
  const config = { stateDir: join(root, 'state-rss'), socketPath: join(root, 'rss.sock'), aide: { config: join(root, 'aide.conf'), gracePeriod: 86400, initialDelay: 86400 } }
  writeFileSync(join(root, 'rss.json'), JSON.stringify(config))
  const child = spawn(process.execPath, ['bin/podsec-fim-agent.js', '--config', join(root, 'rss.json')], { stdio: ['ignore', 'pipe', 'inherit'] })
  let out = ''
  child.stdout.on('data', (b: Buffer) => { out += b.toString() })
  while (!out.includes('"msg":"scan finished"')) await new Promise(resolve => setTimeout(resolve, 100))
  await new Promise(resolve => setTimeout(resolve, 2000))
  const status = readFileSync(`/proc/${child.pid as number}/status`, 'utf8')
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1])
  const node = await run(process.execPath, ['-e', 'setTimeout(() => { console.log(require("fs").readFileSync("/proc/self/status", "utf8").match(/VmRSS:\\s+(\\d+)/)[1]) }, 500)'])
  child.kill('SIGTERM')
  console.log(`agent idle RSS after baseline: ${(rssKb / 1024).toFixed(1)} MB (goal <= 60 MB); a bare node process: ${(Number(node.stdout) / 1024).toFixed(1)} MB, ratio ${(rssKb / Number(node.stdout)).toFixed(2)}`)
}

const root = mkdtempSync(join(tmpdir(), 'pfim-bench-'))
try {
  const tree = makeBigTree(root)
  await checkRatio(root, tree)
  await idleRss(root)
  await auditRatio(root)
} finally {
  rmSync(root, { recursive: true, force: true })
}

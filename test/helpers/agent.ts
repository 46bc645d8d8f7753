/**
 * Starts a real agent (real AIDE, real SQLite, real unix socket) in-process over a small tree in a
 * temporary directory. The AIDE rules cover only that tree, so tests are fast and independent.
 */
import { mkdtempSync, mkdirSync, writeFileSync, rmSync } from 'node:fs'
import { request } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import type { Test } from 'tap'
import { parseConfig, type AgentConfig } from '../../src/core/config.js'
import { createLogger } from '../../src/core/log.js'
import { startDaemon, type Daemon, type DaemonDeps } from '../../src/agent/daemon.js'

export interface AgentFixture {
  readonly root: string
  readonly tree: string
  readonly config: AgentConfig
  readonly logs: Array<Record<string, unknown>>
  readonly daemon: Daemon
  close (): Promise<void>
}

export const TREE_FILES: Readonly<Record<string, string>> = {
  'etc/app.conf': 'listen = 127.0.0.1\n',
  'etc/secret.key': 'k3y\n',
  'bin/tool': '#!/bin/sh\necho tool\n',
  'lib/data.txt': 'data\n',
}

/** Rules without m/c, so an added file reports the file, not its parent directory too. */
export function treeAideConf (tree: string): string {
  return [
    'FILES = p+ftype+i+l+n+u+g+s+sha512',
    `/${tree.slice(1).replace(/[.]/g, '\\.')}($|/) FILES`,
    '',
  ].join('\n')
}

export function makeTree (root: string, files: Readonly<Record<string, string>> = TREE_FILES): string {
  const tree = join(root, 'tree')
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(join(tree, name, '..'), { recursive: true })
    writeFileSync(join(tree, name), content)
  }
  return tree
}

export function sinkLogger (logs: Array<Record<string, unknown>>) {
  const stream = new Writable({
    write (chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString().split('\n')) if (line !== '') logs.push(JSON.parse(line) as Record<string, unknown>)
      cb()
    },
  })
  return createLogger({ level: 'debug', name: 'test-agent', destination: stream })
}

export async function startAgent (t: Test, opts: { overrides?: Record<string, unknown>, files?: Record<string, string>, aideConf?: string, deps?: Partial<DaemonDeps> } = {}): Promise<AgentFixture> {
  // Unix socket paths are limited to 108 bytes; tap's testdirs can be longer.
  const root = mkdtempSync(join(tmpdir(), 'pfim-'))
  const tree = makeTree(root, opts.files)
  const confPath = join(root, 'aide.conf')
  writeFileSync(confPath, opts.aideConf ?? treeAideConf(tree))
  const logs: Array<Record<string, unknown>> = []
  const config = parseConfig({
    nodeName: 'node-a',
    stateDir: join(root, 'state'),
    socketPath: join(root, 'run', 'agent.sock'),
    aide: { config: confPath, gracePeriod: 3600, initialDelay: 3600 },
    // The host's /etc/containers and /home are not the test's business; policy tests enable it with their own roots.
    policy: { enabled: false },
  }, { HOME: root }, opts.overrides)
  const daemon = await startDaemon(config, { log: sinkLogger(logs), now: Date.now, path: process.env.PATH ?? '/usr/bin:/bin', pid: process.pid, ...opts.deps })
  const fixture: AgentFixture = {
    root, tree, config, logs, daemon,
    async close () {
      await daemon.close()
      rmSync(root, { recursive: true, force: true })
    },
  }
  t.teardown(() => fixture.close())
  return fixture
}

/** A control request over the agent's unix socket, answered with its status and parsed JSON body. */
export function postControl (socketPath: string, path: string): Promise<{ status: number, body: unknown }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, path, method: 'POST' }, res => {
      let text = ''
      res.on('data', (b: Buffer) => { text += b.toString() })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as unknown }))
    })
    req.on('error', reject)
    req.end()
  })
}

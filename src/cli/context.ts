/**
 * What a command gets: the output, and where the state database and the control socket are.
 * The agent config is read lazily, only when an override is missing, so `--state-dir` and
 * `--socket` still work on a node whose config file is broken.
 */
import { resolve } from 'node:path'
import { loadConfig, type AgentConfig, type Env } from '../core/config.js'
import type { Output } from './output.js'

export const DEFAULT_CONFIG = '/etc/podsec/fim/agent.json'

export interface GlobalOptions {
  readonly config?: string
  readonly stateDir?: string
  readonly socket?: string
  readonly json?: boolean
}

export class CliContext {
  readonly out: Output
  readonly isJson: boolean
  /** This process, for pid locks; the clock, for report times and windows. */
  readonly pid: number
  readonly now: () => number
  readonly #env: Env
  readonly #cwd: string
  readonly #globals: GlobalOptions
  #config: AgentConfig | undefined

  constructor (opts: { out: Output, env: Env, cwd: string, globals: GlobalOptions, pid: number, now?: () => number }) {
    this.out = opts.out
    this.isJson = opts.globals.json === true
    this.pid = opts.pid
    this.now = opts.now ?? Date.now
    this.#env = opts.env
    this.#cwd = opts.cwd
    this.#globals = opts.globals
  }

  config (): AgentConfig {
    if (this.#config === undefined) {
      const path = this.#globals.config === undefined ? DEFAULT_CONFIG : resolve(this.#cwd, this.#globals.config)
      this.#config = loadConfig(path, this.#env, { isDefaultPath: this.#globals.config === undefined })
    }
    return this.#config
  }

  stateDir (): string {
    const dir = this.#globals.stateDir
    return dir === undefined ? this.config().stateDir : resolve(this.#cwd, dir)
  }

  socketPath (): string {
    const path = this.#globals.socket
    return path === undefined ? this.config().socketPath : resolve(this.#cwd, path)
  }
}

/**
 * Carries out the aggregator's directives (from the FileIntegrity selecting this node). The last
 * applied directive is kept in the cursors table and re-applied at start, so holdoff, gracePeriod
 * and the cluster's aide.conf survive a restart even while the aggregator is unreachable.
 *
 * Re-inits happen exactly once: the token a re-init carried out, and the id of the aide.conf the
 * baseline was taken with, are written in the same transaction that records the init scan
 * (recordFinished). A directive asks for a re-init only when its token is not the one carried out,
 * or its aide.conf is not the one the baseline was taken with; a restart therefore never repeats
 * one, and an init cut short by a stop (Interrupted) is owed and done again.
 */
import { createHash } from 'node:crypto'
import { mkdir, rename, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Logger } from '../core/log.js'
import type { Directive } from '../core/protocol.js'
import type { CursorStore } from './cursor-store.js'
import { OWN_CONFIG_ID, type AideConfigSource, type RuntimeSettings } from './runtime-settings.js'
import type { FinishedScan, Scanner } from './scanner.js'

export const DIRECTIVE_CURSORS = {
  applied: 'directive.applied',
  reinitDone: 'directive.reinitDone',
  baselineConfig: 'aide.baselineConfig',
} as const

export interface ApplierOptions {
  readonly settings: RuntimeSettings
  readonly scanner: Scanner
  readonly cursors: CursorStore
  readonly log: Logger
}

export class DirectiveApplier {
  readonly #o: ApplierOptions
  #applied: Directive | null
  /** The re-init asked for and not yet recorded, so a second directive does not queue another. */
  #owedKey: string | null = null

  constructor (opts: ApplierOptions) {
    this.#o = opts
    this.#applied = opts.cursors.get<Directive>(DIRECTIVE_CURSORS.applied)
  }

  get applied (): Directive | null {
    return this.#applied
  }

  /** Re-applies the stored directive (settings, and a re-init it still owes). */
  async restore (): Promise<void> {
    if (this.#applied !== null) await this.#apply(this.#applied)
  }

  async apply (d: Directive): Promise<void> {
    this.#o.log.info({ version: d.version, fileIntegrity: d.fileIntegrity, holdoff: d.holdoff, reinitToken: d.reinitToken, hasConfig: d.aideConfig !== null }, 'applying directive')
    await this.#apply(d)
    this.#o.cursors.set(DIRECTIVE_CURSORS.applied, d)
    this.#applied = d
  }

  async #apply (d: Directive): Promise<void> {
    const { settings, cursors, scanner, log } = this.#o
    const own = settings.own
    settings.update({
      isHeld: d.holdoff,
      isDebug: d.debug,
      gracePeriodMs: d.gracePeriod === undefined ? own.gracePeriodMs : d.gracePeriod * 1000,
      initialDelayMs: d.initialDelay === undefined ? own.initialDelayMs : d.initialDelay * 1000,
      maxBackups: d.maxBackups ?? own.maxBackups,
      aideConfig: await this.#configSource(d.aideConfig),
    })
    const source = settings.current.aideConfig
    const token = d.reinitToken !== null && d.reinitToken !== cursors.get<string>(DIRECTIVE_CURSORS.reinitDone) ? d.reinitToken : null
    const isConfigNew = source.id !== (cursors.get<string>(DIRECTIVE_CURSORS.baselineConfig) ?? OWN_CONFIG_ID)
    const key = `${token ?? ''}|${source.id}`
    if ((token === null && !isConfigNew) || key === this.#owedKey) return
    this.#owedKey = key
    log.info({ reinitToken: token, aideConfig: source.id, isConfigNew }, 're-init requested by the cluster')
    scanner.run('init', 'directive', { reinitToken: token }).catch((err: unknown) => log.error({ err }, 'directive re-init failed'))
  }

  /** The cluster's aide.conf goes into the state dir (0600), written whole before it is used. */
  async #configSource (text: string | null): Promise<AideConfigSource> {
    if (text === null) return this.#o.settings.own.aideConfig
    const id = `cluster:${createHash('sha256').update(text).digest('hex')}`
    const current = this.#o.settings.current.aideConfig
    if (current.id === id) return current
    const path = join(this.#o.scanner.paths.dir, 'cluster-aide.conf')
    await mkdir(this.#o.scanner.paths.dir, { recursive: true, mode: 0o700 })
    await writeFile(`${path}.new`, text, { mode: 0o600 })
    await rename(`${path}.new`, path)
    return { path, id, isFromCluster: true }
  }

  /** Runs inside the transaction recording an init: what it carried out, unless it was cut short. */
  recordFinished (f: FinishedScan): void {
    if (f.summary.kind !== 'init' || f.summary.condition === 'Interrupted') return
    const { cursors } = this.#o
    if (f.reinitToken !== null) cursors.set(DIRECTIVE_CURSORS.reinitDone, f.reinitToken)
    cursors.set(DIRECTIVE_CURSORS.baselineConfig, f.aideConfigId)
    this.#owedKey = null
  }
}

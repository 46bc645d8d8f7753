/**
 * Runs a daemon: starts it, turns SIGTERM/SIGINT into close(), and sets the exit code.
 * With main.ts, the only code that touches process signals and exit codes.
 */
import { isAppError } from './errors.js'
import type { Logger } from './log.js'

export interface Service {
  close (): Promise<void>
}

/** sysexits(3): systemd and admins read these. */
export const EXIT = {
  OK: 0,
  SOFTWARE: 70,
  UNAVAILABLE: 69,
  CONFIG: 78,
} as const

export function exitCodeFor (err: unknown): number {
  if (!isAppError(err)) return EXIT.SOFTWARE
  if (err.code === 'PFIM_CONFIG_INVALID' || err.code === 'PFIM_CONFIG_UNREADABLE' || err.code === 'PFIM_AGGREGATOR_CREDENTIALS' || err.code === 'PFIM_KUBECONFIG_INVALID') return EXIT.CONFIG
  if (err.code === 'PFIM_AIDE_MISSING') return EXIT.UNAVAILABLE
  return EXIT.SOFTWARE
}

export async function runService (log: Logger, start: () => Promise<Service>): Promise<void> {
  let service: Service
  try {
    service = await start()
  } catch (err) {
    log.fatal({ err, code: isAppError(err) ? err.code : undefined }, 'failed to start')
    process.exitCode = exitCodeFor(err)
    return
  }
  let closing: Promise<void> | null = null
  const stop = (signal: NodeJS.Signals): void => {
    if (closing !== null) return
    log.info({ signal }, 'stopping')
    closing = service.close().then(
      () => { log.info('stopped') },
      (err: unknown) => { log.error({ err }, 'error while stopping'); process.exitCode = EXIT.SOFTWARE },
    )
  }
  process.once('SIGTERM', stop)
  process.once('SIGINT', stop)
}

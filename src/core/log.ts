/** The only place loggers are created: pino JSON on stdout, which journald stores and rotates. */
import { pino, type Logger, type DestinationStream } from 'pino'
import type { LogLevel } from './config.js'

export type { Logger }

export function createLogger (opts: { level: LogLevel, name: string, destination?: DestinationStream }): Logger {
  return pino({ level: opts.level, name: opts.name, base: { pid: process.pid } }, opts.destination ?? pino.destination(1))
}

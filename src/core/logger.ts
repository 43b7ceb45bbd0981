import { type Logger, type LoggerOptions, pino } from 'pino';

export type { Logger } from 'pino';

/** The process logger: JSON lines on stderr, so stdout stays for the CLI's own output. */
export function createLogger(level = 'info', options: LoggerOptions = {}): Logger {
  return pino({ level, base: { service: 'meridian' }, ...options }, pino.destination(2));
}

/** A logger that drops everything: for tests and library use without a logger. */
export const silentLogger: Logger = pino({ level: 'silent' });

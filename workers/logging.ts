import { DefaultLogger, Runtime } from '@temporalio/worker';
import type { LogLevel } from '@temporalio/worker';
import pino from 'pino';

/** The process logger (pino, JSON lines on stderr). */
export function createLogger(level: string = 'info', name = 'mandate'): pino.Logger {
  return pino({ name, level }, pino.destination(2));
}

const TEMPORAL_LEVELS: Record<LogLevel, 'trace' | 'debug' | 'info' | 'warn' | 'error'> = {
  TRACE: 'trace',
  DEBUG: 'debug',
  INFO: 'info',
  WARN: 'warn',
  ERROR: 'error',
};

/** Routes the Temporal SDK's logs (including workflow and activity `log`) into pino. Once per process. */
export function installTemporalLogging(logger: pino.Logger): void {
  const level = (logger.level === 'silent' ? 'ERROR' : logger.level.toUpperCase()) as LogLevel;
  Runtime.install({
    logger: new DefaultLogger(level in TEMPORAL_LEVELS ? level : 'INFO', (entry) => {
      logger[TEMPORAL_LEVELS[entry.level]]({ ...entry.meta }, entry.message);
    }),
  });
}

import { pino, type Logger, type LevelWithSilent } from 'pino';
import { currentRequest } from './request-context.js';
import { currentTraceIds } from './tracing.js';

export type { Logger };

export function createLogger(service: string, level: LevelWithSilent = 'info'): Logger {
  return pino({
    level,
    base: { service },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    mixin() {
      const requestId = currentRequest()?.requestId;
      const ids = currentTraceIds();
      return requestId ? { requestId, ...ids } : (ids ?? {});
    },
  });
}

/** Logging, metrics and correlation ids: what operators use to see what Kontor does. */
export { createLogger, REDACTED_KEYS, type Logger, type CreateLoggerOptions } from './logger.ts';

/**
 * Structured JSON logs (pino): secrets redacted by key wherever they appear, and every line
 * passed through {@link maskSensitiveText}, so IBANs, API keys and tokens never reach a log.
 */
import { pino, type DestinationStream, type Logger, type LoggerOptions } from 'pino';
import { maskSensitiveText } from './mask.ts';

export type { Logger };

/** Log keys whose values are always replaced by "[redacted]". */
export const REDACTED_KEYS = [
  'password',
  'apiKey',
  'api_key',
  'key',
  'token',
  'accessToken',
  'access_token',
  'refreshToken',
  'client_secret',
  'clientSecret',
  'secret',
  'pepper',
  'authorization',
  'cookie',
  'privateKey',
  'signingKey',
];

const redactPaths = [
  ...REDACTED_KEYS.flatMap((k) => [k, `*.${k}`, `*.*.${k}`]),
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  'req.headers["idempotency-key"]',
  ...['headers', '*.headers'].flatMap((h) => [`${h}["idempotency-key"]`, `${h}["x-api-key"]`]),
];

export interface CreateLoggerOptions {
  level?: LoggerOptions['level'];
  /** Where to write; default stdout. Tests pass a stream to capture lines. */
  destination?: DestinationStream;
  base?: Record<string, unknown>;
}

/** Wraps a destination so that every line is masked before it is written. */
export function maskingDestination(inner: DestinationStream): DestinationStream {
  return { write: (line: string) => inner.write(maskSensitiveText(line)) };
}

/** Creates the process logger. */
export function createLogger(options: CreateLoggerOptions = {}): Logger {
  return pino(
    {
      level: options.level ?? 'info',
      base: { service: 'kontor', ...options.base },
      redact: { paths: redactPaths, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    maskingDestination(options.destination ?? pino.destination({ dest: 1, sync: false })),
  );
}

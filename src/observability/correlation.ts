/**
 * Correlation ids and W3C trace context: one id follows a request through the API, the audit
 * log, events and logs. An AsyncLocalStorage makes it reachable from code that has no request.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomBytes, randomUUID } from 'node:crypto';

/** What the current request or job carries. */
export interface CorrelationContext {
  correlationId: string;
  /** Our own W3C traceparent (the caller's trace id, our span id). */
  traceparent: string;
  /** Set once the caller is authenticated. */
  identityId?: string | undefined;
}

const storage = new AsyncLocalStorage<CorrelationContext>();

const CORRELATION_ID = /^[A-Za-z0-9._:-]{1,128}$/;
// W3C Trace Context §3.2: version "00", 32-hex trace id, 16-hex parent id, 2-hex flags; all-zero ids are invalid.
const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/** A caller's correlation id when it is safe to log and echo, else a new one. */
export function acceptCorrelationId(given: unknown): string {
  return typeof given === 'string' && CORRELATION_ID.test(given) ? given : randomUUID();
}

/** Continues the caller's trace with a new span id, or starts a new trace when the header is absent or invalid. */
export function continueTraceparent(given: unknown): string {
  const spanId = randomBytes(8).toString('hex');
  if (typeof given === 'string') {
    const m = TRACEPARENT.exec(given.trim().toLowerCase());
    if (m !== null && m[1] !== 'ff' && !/^0+$/.test(m[2]!) && !/^0+$/.test(m[3]!))
      return `00-${m[2]}-${spanId}-${m[4]}`;
  }
  return `00-${randomBytes(16).toString('hex')}-${spanId}-01`;
}

/** Runs `fn` with a correlation context. */
export function runWithCorrelation<T>(context: CorrelationContext, fn: () => T): T {
  return storage.run(context, fn);
}

/** The context of the current request or job, if any. */
export function currentCorrelation(): CorrelationContext | undefined {
  return storage.getStore();
}

/** The correlation id of the current request or job, if any. */
export function currentCorrelationId(): string | undefined {
  return storage.getStore()?.correlationId;
}

/** Logging, metrics and correlation ids: what operators use to see what Kontor does. */
export {
  createLogger,
  maskingDestination,
  REDACTED_KEYS,
  type Logger,
  type CreateLoggerOptions,
} from './logger.ts';
export { maskSensitiveText } from './mask.ts';
export {
  acceptCorrelationId,
  continueTraceparent,
  runWithCorrelation,
  currentCorrelation,
  currentCorrelationId,
  type CorrelationContext,
} from './correlation.ts';
export {
  getMetricsRegistry,
  useCounter,
  useGauge,
  useHistogram,
  httpRequestDuration,
  httpRequestsTotal,
  auditRecordsGauge,
  auditRecordsWritten,
  eventsPublishedTotal,
  eventsConsumedTotal,
  eventRetriesTotal,
  eventsReplayedTotal,
  consumerLagGauge,
  reportConsumerLag,
  deadLettersTotal,
  type ConsumerLagReader,
} from './metrics.ts';

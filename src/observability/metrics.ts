/**
 * Prometheus metrics: one shared registry that every module adds its metrics to (events,
 * consumers, dead letters…), served at GET /metrics.
 */
import {
  Counter,
  Gauge,
  Histogram,
  Registry,
  collectDefaultMetrics,
  type CounterConfiguration,
  type GaugeConfiguration,
  type HistogramConfiguration,
} from 'prom-client';

let registry: Registry | undefined;

/** The process-wide registry; created (with Node's default metrics) on first use. */
export function getMetricsRegistry(): Registry {
  if (registry === undefined) {
    registry = new Registry();
    collectDefaultMetrics({ register: registry, prefix: 'kontor_' });
  }
  return registry;
}

/** Returns the counter of that name, creating it on first use (safe to call from many modules and tests). */
export function useCounter<L extends string>(config: Omit<CounterConfiguration<L>, 'registers'>): Counter<L> {
  const existing = getMetricsRegistry().getSingleMetric(config.name);
  return (
    (existing as Counter<L> | undefined) ?? new Counter({ ...config, registers: [getMetricsRegistry()] })
  );
}

/** Returns the gauge of that name, creating it on first use. */
export function useGauge<L extends string>(config: Omit<GaugeConfiguration<L>, 'registers'>): Gauge<L> {
  const existing = getMetricsRegistry().getSingleMetric(config.name);
  return (existing as Gauge<L> | undefined) ?? new Gauge({ ...config, registers: [getMetricsRegistry()] });
}

/** Returns the histogram of that name, creating it on first use. */
export function useHistogram<L extends string>(
  config: Omit<HistogramConfiguration<L>, 'registers'>,
): Histogram<L> {
  const existing = getMetricsRegistry().getSingleMetric(config.name);
  return (
    (existing as Histogram<L> | undefined) ?? new Histogram({ ...config, registers: [getMetricsRegistry()] })
  );
}

/** HTTP request latency by method, route pattern and status. */
export function httpRequestDuration(): Histogram<'method' | 'route' | 'status_code'> {
  return useHistogram({
    name: 'kontor_http_request_duration_seconds',
    help: 'HTTP request latency in seconds',
    labelNames: ['method', 'route', 'status_code'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  });
}

/** HTTP responses by method, route pattern and status. */
export function httpRequestsTotal(): Counter<'method' | 'route' | 'status_code'> {
  return useCounter({
    name: 'kontor_http_requests_total',
    help: 'HTTP responses by status',
    labelNames: ['method', 'route', 'status_code'],
  });
}

/** Records in the audit log (the chain head's seq, read at scrape time). */
export function auditRecordsGauge(): Gauge {
  return useGauge({ name: 'kontor_audit_records', help: 'Records in the audit log (chain length)' });
}

/** Audit records appended by this process since it started (committed or not). */
export function auditRecordsWritten(): Counter {
  return useCounter({
    name: 'kontor_audit_records_written_total',
    help: 'Audit records appended by this process',
  });
}

/** Events appended to the outbox, by type (for the events module). */
export function eventsPublishedTotal(): Counter<'type'> {
  return useCounter({
    name: 'kontor_events_published_total',
    help: 'Events published',
    labelNames: ['type'],
  });
}

/** Events handled by a consumer, by consumer and outcome (for the events module). */
export function eventsConsumedTotal(): Counter<'consumer' | 'outcome'> {
  return useCounter({
    name: 'kontor_events_consumed_total',
    help: 'Events handled by consumers',
    labelNames: ['consumer', 'outcome'],
  });
}

/** Events a consumer has not yet settled (head seq minus its position), by consumer. */
export function consumerLagGauge(): Gauge<'consumer'> {
  return useGauge({
    name: 'kontor_consumer_lag_events',
    help: 'Events not yet settled by each consumer',
    labelNames: ['consumer'],
  });
}

/** Events moved to the dead-letter queue, by consumer. */
export function deadLettersTotal(): Counter<'consumer'> {
  return useCounter({
    name: 'kontor_dead_letters_total',
    help: 'Events dead-lettered after their last retry',
    labelNames: ['consumer'],
  });
}

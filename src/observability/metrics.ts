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

/** Events published by this process (counted when the publishing transaction commits), by type. */
export function eventsPublishedTotal(): Counter<'type'> {
  return useCounter({
    name: 'kontor_events_published_total',
    help: 'Events published (committed to the outbox) by this process',
    labelNames: ['type'],
  });
}

/**
 * Deliveries settled by a consumer, by consumer and outcome: `done` (effects committed), `skipped`
 * (already done, or dead-lettered) or `dead` (moved to dead letters).
 */
export function eventsConsumedTotal(): Counter<'consumer' | 'outcome'> {
  return useCounter({
    name: 'kontor_events_consumed_total',
    help: 'Deliveries settled by consumers, by outcome (done, skipped, dead)',
    labelNames: ['consumer', 'outcome'],
  });
}

/**
 * Failed tries of an event that will be tried again, by consumer and reason: `handler` (the
 * handler threw; uses an attempt) or `database` (an outage; uses none).
 */
export function eventRetriesTotal(): Counter<'consumer' | 'reason'> {
  return useCounter({
    name: 'kontor_event_retries_total',
    help: 'Failed tries of an event that are retried, by reason (handler, database)',
    labelNames: ['consumer', 'reason'],
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

/** Re-deliveries of a replay (of a dead letter or of a whole consumer) settled, by consumer and outcome. */
export function eventsReplayedTotal(): Counter<'consumer' | 'outcome'> {
  return useCounter({
    name: 'kontor_events_replayed_total',
    help: 'Replayed deliveries settled by consumers, by outcome (done, skipped, dead)',
    labelNames: ['consumer', 'outcome'],
  });
}

/** Reads the lag of one running consumer: events of its types not yet settled by it. */
export type ConsumerLagReader = () => Promise<{ consumer: string; pending: number }>;

const lagReaders = new Set<ConsumerLagReader>();

/**
 * Events not yet settled, by consumer, for the consumers running in this process: read from each
 * when the registry is scraped (a consumer whose read fails is left out of that scrape).
 */
export function consumerLagGauge(): Gauge<'consumer'> {
  return useGauge({
    name: 'kontor_consumer_lag_events',
    help: 'Events not yet settled by each consumer running in this process',
    labelNames: ['consumer'],
    async collect() {
      const lags = await Promise.allSettled([...lagReaders].map((read) => read()));
      this.reset();
      for (const lag of lags) {
        if (lag.status === 'fulfilled') this.set({ consumer: lag.value.consumer }, lag.value.pending);
      }
    },
  });
}

/** Adds a running consumer to {@link consumerLagGauge}; returns the function that removes it. */
export function reportConsumerLag(read: ConsumerLagReader): () => void {
  consumerLagGauge();
  lagReaders.add(read);
  return () => lagReaders.delete(read);
}

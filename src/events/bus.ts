/**
 * The buses that carry committed events from the outbox to consumers: the embedded one reads the
 * outbox table itself (`embedded-bus.ts`); the NATS one relays the outbox to a JetStream stream and
 * consumes through durable pull consumers (`nats-bus.ts`, `relay.ts`). Both run their consumers
 * the same way (`runner.ts`) and feed the same ConsumerProcessor (`consumer.ts`).
 */
import { AppError, ErrorCodes } from '../domain/index.ts';
import type { Db } from '../store/index.ts';
import type { ConsumerDefinition, ConsumerLag } from './consumer.ts';
import { startEmbeddedBus } from './embedded-bus.ts';
import { startNatsBus } from './nats-bus.ts';
import { startRetention, type RetentionSchedule } from './retention.ts';
import type { BusSettings } from './runner.ts';

/** Settings of the NATS JetStream bus. */
export interface NatsBusOptions {
  /** JetStream stream name (default KONTOR_EVENTS). */
  stream?: string;
  /** Subject prefix; an event is published on `<prefix>.<type>` (default kontor.events). */
  subjectPrefix?: string;
  /** Unacknowledged deliveries are redelivered after this long (default 30 s). */
  ackWaitMs?: number;
  /** Outbox rows relayed per round trip (default 1000). */
  relayBatch?: number;
  /** A relayed batch not acknowledged by the stream within this long is published again (default 10 s). */
  publishTimeoutMs?: number;
}

/** How {@link startEventBus} runs: which bus, how it polls, retention, where loop errors go. */
export interface EventBusOptions {
  /** `nats://host:4222` for NATS JetStream; empty, undefined or `embedded` for the in-process bus. */
  url?: string | undefined;
  /** Fallback poll when no NOTIFY arrives, e.g. after a lost connection (default 5 s). Not a busy poll. */
  pollIntervalMs?: number;
  nats?: NatsBusOptions;
  /**
   * Deletes old events from the log periodically once every consumer has passed them and no dead
   * letter refers to them (default: older than 30 days, checked every hour); false keeps them all.
   */
  retention?: RetentionSchedule | false;
  /** Errors of background loops (they keep running); default prints to stderr. */
  onError?: (error: unknown, where: string) => void;
}

/** A running consumer. */
export interface ConsumerHandle {
  readonly name: string;
  /** Deliveries accepted and not yet settled, right now. */
  readonly inFlight: number;
  /** Events of its types not yet settled by it. */
  readLag(): Promise<ConsumerLag>;
  stop(): Promise<void>;
}

/** A started bus. */
export interface EventBus {
  readonly kind: 'embedded' | 'nats';
  /** Starts a named durable consumer; it resumes from its stored position. */
  startConsumer(definition: ConsumerDefinition): Promise<ConsumerHandle>;
  /** Stops every consumer (and the relay) and releases connections; the database stays open. */
  close(): Promise<void>;
}

const defaultOnError = (error: unknown, where: string) => {
  console.error(`[kontor events] ${where}:`, error);
};

/** The options with their defaults, resolved once for every loop of the bus. */
function resolveSettings(options: EventBusOptions): BusSettings {
  const nats = options.nats ?? {};
  return {
    pollMs: options.pollIntervalMs ?? 5_000,
    onError: options.onError ?? defaultOnError,
    nats: {
      stream: nats.stream ?? 'KONTOR_EVENTS',
      subjectPrefix: nats.subjectPrefix ?? 'kontor.events',
      ackWaitMs: nats.ackWaitMs ?? 30_000,
      relayBatch: nats.relayBatch ?? 1_000,
      publishTimeoutMs: nats.publishTimeoutMs ?? 10_000,
    },
  };
}

/** Starts the bus named by `options.url`: NATS JetStream for `nats://…`, else the embedded bus. */
export async function startEventBus(db: Db, options: EventBusOptions = {}): Promise<EventBus> {
  const url = options.url ?? '';
  const embedded = url === '' || url === 'embedded';
  if (!embedded && !/^nats(\+tls)?:\/\//.test(url) && !url.startsWith('tls://')) {
    throw new AppError(
      ErrorCodes.CONFIG_INVALID,
      `KONTOR_BUS must be a nats:// URL or empty for the embedded bus (got "${url}")`,
    );
  }
  const settings = resolveSettings(options);
  const retention =
    options.retention === false
      ? undefined
      : startRetention(db, embedded ? 'embedded' : 'nats', options.retention ?? {}, settings.onError);
  try {
    const bus = embedded ? await startEmbeddedBus(db, settings) : await startNatsBus(db, url, settings);
    if (retention === undefined) return bus;
    const close = bus.close.bind(bus);
    return Object.assign(bus, {
      async close() {
        await retention.stop();
        await close();
      },
    });
  } catch (e) {
    await retention?.stop();
    throw e;
  }
}

/**
 * JetStream setup for the NATS bus: the connection, the stream the relay fills, and the durable
 * pull consumer of each Kontor consumer.
 */
import { connect, nanos, type NatsConnection } from '@nats-io/transport-node';
import {
  AckPolicy,
  DeliverPolicy,
  RetentionPolicy,
  StorageType,
  type Consumer,
  type JetStreamClient,
  type JetStreamManager,
} from '@nats-io/jetstream';
import { AppError, ErrorCodes } from '../domain/index.ts';

/** Connects to NATS; an unreachable server is a retryable EVENT_BUS_UNAVAILABLE. */
export async function connectNats(url: string): Promise<NatsConnection> {
  try {
    return await connect({ servers: url, name: 'kontor' });
  } catch (e) {
    throw new AppError(
      ErrorCodes.EVENT_BUS_UNAVAILABLE,
      `cannot connect to NATS at ${url}: ${(e as Error).message}`,
      { cause: e, retryable: true },
    );
  }
}

function isNotFound(e: unknown): boolean {
  const err = e as { code?: unknown; api_error?: { err_code?: number }; message?: string };
  return (
    err.api_error?.err_code === 10014 ||
    err.api_error?.err_code === 10059 ||
    /not found/i.test(err.message ?? '')
  );
}

/** Creates the stream of `<prefix>.>` subjects unless it exists. */
export async function ensureStream(jsm: JetStreamManager, stream: string, prefix: string): Promise<void> {
  try {
    await jsm.streams.info(stream);
  } catch (e) {
    if (!isNotFound(e)) throw e;
    await jsm.streams.add({
      name: stream,
      subjects: [`${prefix}.>`],
      storage: StorageType.File,
      retention: RetentionPolicy.Limits,
      // Relay retries after a crash republish with the same msgID; JetStream drops them within this window.
      duplicate_window: nanos(120_000),
    });
  }
}

/** A JetStream durable name: letters, digits, `_` and `-` only. */
export function durableName(consumer: string): string {
  return consumer.replace(/[^A-Za-z0-9_-]/g, '_');
}

/** What a Kontor consumer asks of its durable JetStream consumer. */
export interface DurableConsumerInput {
  stream: string;
  subjectPrefix: string;
  consumer: string;
  types: readonly string[];
  ackWaitMs: number;
  maxInFlight: number;
}

/**
 * Creates the durable pull consumer of a Kontor consumer, or updates the settings that may change
 * between starts (ack wait, filter, ack-pending bound); returns it.
 */
export async function ensureDurableConsumer(
  js: JetStreamClient,
  jsm: JetStreamManager,
  input: DurableConsumerInput,
): Promise<Consumer> {
  const durable = durableName(input.consumer);
  const { stream, subjectPrefix: prefix, types } = input;
  const config = {
    durable_name: durable,
    ack_policy: AckPolicy.Explicit,
    ack_wait: nanos(input.ackWaitMs),
    deliver_policy: DeliverPolicy.All,
    // One filter subject (servers before 2.10 know no filter_subjects); several types filter here.
    filter_subject: types.length === 1 ? `${prefix}.${types[0]}` : `${prefix}.>`,
    max_ack_pending: Math.max(1_000, input.maxInFlight * 2),
    // Retries and dead letters are ours (with backoff and a record); JetStream only redelivers after a crash.
    max_deliver: -1,
  };
  try {
    await jsm.consumers.info(stream, durable);
    await jsm.consumers.update(stream, durable, {
      ack_wait: config.ack_wait,
      filter_subject: config.filter_subject,
      max_ack_pending: config.max_ack_pending,
    });
  } catch (e) {
    if (!isNotFound(e)) throw e;
    await jsm.consumers.add(stream, config);
  }
  return js.consumers.get(stream, durable);
}

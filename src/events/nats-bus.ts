/**
 * The NATS JetStream bus: one relay moves the outbox to a stream; each consumer is a durable pull
 * consumer with explicit acks and ack-wait redelivery, feeding the same ConsumerProcessor.
 */
import {
  jetstream,
  jetstreamManager,
  type ConsumerMessages,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
} from '@nats-io/jetstream';
import type { Db } from '../store/index.ts';
import type { EventBus } from './bus.ts';
import type { ConsumerDefinition, ConsumerLag, Delivery } from './consumer.ts';
import { decodeCloudEvent } from './envelope.ts';
import { findReplayStart, positionOf } from './log-reader.ts';
import { connectNats, durableName, ensureDurableConsumer, ensureStream } from './nats-stream.ts';
import { toStoredEvent } from './outbox.ts';
import { Relay } from './relay.ts';
import { ConsumerRunner, runBus, type BusSettings } from './runner.ts';

/** The NATS consumer: a durable pull consumer with explicit acks, filtered to the consumer's types. */
class NatsRunner extends ConsumerRunner {
  readonly readsOutbox = false;
  readonly #js: JetStreamClient;
  readonly #jsm: JetStreamManager;
  readonly #unacked = new Set<JsMsg>();
  readonly #types: Set<string>;
  #messages: ConsumerMessages | undefined;
  #heartbeat: NodeJS.Timeout | undefined;

  constructor(
    db: Db,
    definition: ConsumerDefinition,
    settings: BusSettings,
    js: JetStreamClient,
    jsm: JetStreamManager,
  ) {
    super(db, definition, settings);
    this.#js = js;
    this.#jsm = jsm;
    this.#types = new Set(definition.types);
    this.processor.deferLaneStart = true;
  }

  protected async open(): Promise<void> {
    const { stream, subjectPrefix, ackWaitMs } = this.settings.nats;
    const maxInFlight = this.processor.definition.maxInFlight ?? 256;
    const consumer = await ensureDurableConsumer(this.#js, this.#jsm, {
      stream,
      subjectPrefix,
      consumer: this.name,
      types: this.processor.definition.types,
      ackWaitMs,
      maxInFlight,
    });
    this.#messages = await consumer.consume({ max_messages: Math.min(maxInFlight, 1_000) });
    // Deliveries waiting in a lane behind a retry must not time out and come back as duplicates.
    this.#heartbeat = setInterval(
      () => {
        for (const m of this.#unacked) m.working();
      },
      Math.max(100, Math.floor(ackWaitMs / 3)),
    );
  }

  protected async run(): Promise<void> {
    await Promise.all([this.#consume(this.#messages!), this.#control()]);
  }

  protected override async interrupt(): Promise<void> {
    clearInterval(this.#heartbeat);
    await this.#messages?.close().catch(() => undefined);
  }

  async #consume(messages: ConsumerMessages): Promise<void> {
    try {
      for await (const m of messages) {
        if (this.stopped) {
          m.nak();
          continue;
        }
        let delivery: Delivery;
        try {
          const event = decodeCloudEvent(m.string());
          if (!this.#types.has(event.type)) {
            m.ack();
            continue;
          }
          const seq = m.headers?.get('Kontor-Seq');
          delivery = {
            sequence: seq ? BigInt(seq) : 0n,
            event,
            settle: () => {
              this.#unacked.delete(m);
              m.ack();
            },
            abandon: () => {
              this.#unacked.delete(m);
              m.nak();
            },
            heartbeat: () => m.working(),
          };
        } catch (e) {
          // Not a Kontor envelope: no retry can make it one.
          this.onError(e, `consumer ${this.name}: undecodable message ${m.seq}`);
          m.term('undecodable');
          continue;
        }
        this.#unacked.add(m);
        await this.processor.submit(delivery);
      }
    } catch (e) {
      if (!this.stopped) this.onError(e, `consumer ${this.name}`);
    }
  }

  async #control(): Promise<void> {
    while (!this.stopped) {
      try {
        await this.runControl();
      } catch (e) {
        if (!this.stopped) this.onError(e, `consumer ${this.name} control`);
      }
      await this.waker.wait(this.pollMs);
      // The timer also re-checks, in case a control NOTIFY was missed.
      this.controlPending = true;
    }
  }

  protected async replayFrom(from: bigint): Promise<void> {
    // The database is the log of record: a replay reads it, not the stream (which may be trimmed).
    const last = await this.db.query<{ seq: bigint | null }>('SELECT max(seq) AS seq FROM kontor_events');
    const range = { fromSeq: from, untilSeq: BigInt(last.rows[0]?.seq ?? 0) };
    let after = await findReplayStart(this.db, from);
    while (after !== undefined && !this.stopped) {
      const rows = await this.fetchAfter(after, 500, range);
      if (rows.length === 0) break;
      for (const row of rows) {
        const stored = toStoredEvent(row);
        after = positionOf(row);
        await this.processor.submit({
          sequence: stored.sequence,
          event: stored.event,
          replay: true,
          settle: () => undefined,
        });
      }
    }
    await this.db.query(
      `UPDATE kontor_consumers SET replay_from_seq = NULL, updated_at = now() WHERE name = $1 AND replay_from_seq = $2`,
      [this.name, String(from)],
    );
  }

  async readLag(): Promise<ConsumerLag> {
    const info = await this.#jsm.consumers.info(this.settings.nats.stream, durableName(this.name));
    return {
      consumer: this.name,
      pending: info.num_pending + info.num_ack_pending,
      inFlight: this.processor.inFlight,
    };
  }
}

/** Starts the NATS bus at `url`: creates the stream if missing, runs the relay, consumes through JetStream. */
export async function startNatsBus(db: Db, url: string, settings: BusSettings): Promise<EventBus> {
  const nc = await connectNats(url);
  let jsm: JetStreamManager;
  try {
    jsm = await jetstreamManager(nc);
    await ensureStream(jsm, settings.nats.stream, settings.nats.subjectPrefix);
  } catch (e) {
    await nc.close();
    throw e;
  }
  const js = jetstream(nc);
  return runBus(db, settings, {
    kind: 'nats',
    createRunner: (definition) => new NatsRunner(db, definition, settings, js, jsm),
    loops: [new Relay(db, nc, settings)],
    close: () => nc.drain().catch(() => nc.close()),
  });
}

/** The CloudEvents 1.0 JSON envelope Kontor publishes, with the `traceparent` and `correlationid` extensions. */
import { z } from 'zod';

/** W3C Trace Context `traceparent`: version-traceid-parentid-flags, lowercase hex. */
export const traceparentSchema = z.string().regex(/^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/);

/** Versioned event type names: `kontor.<entity…>.<past-tense-verb or state>.v<N>`. */
export const eventTypeNameSchema = z.string().regex(/^kontor(\.[a-z0-9_-]+)+\.v[1-9][0-9]*$/);

/** The envelope as it travels in JSON (CloudEvents 1.0 structured mode). */
export const cloudEventSchema = z.object({
  specversion: z.literal('1.0'),
  id: z.string().min(1),
  source: z.string().min(1),
  type: z.string().min(1),
  subject: z.string().min(1).optional(),
  time: z.iso.datetime({ offset: true }),
  datacontenttype: z.literal('application/json'),
  data: z.unknown(),
  traceparent: traceparentSchema.optional(),
  correlationid: z.string().min(1).optional(),
});

/** One event in the CloudEvents 1.0 JSON envelope. */
export interface CloudEvent<D = unknown> {
  specversion: '1.0';
  id: string;
  source: string;
  type: string;
  subject?: string;
  time: string;
  datacontenttype: 'application/json';
  data: D;
  traceparent?: string;
  correlationid?: string;
}

/** An event as stored in the event log: the envelope plus its position. */
export interface StoredEvent<D = unknown> {
  /** Position in the log; strictly increasing in commit order. */
  sequence: bigint;
  event: CloudEvent<D>;
  /** True once the NATS relay has had it acknowledged by JetStream (always false on the embedded bus). */
  relayed: boolean;
  /**
   * When the relay marked it, for events relayed before the relay kept a position (2026-11);
   * null otherwise — `relayed` is the truth.
   */
  relayedAt: Date | null;
}

/** Serialises an envelope for the wire (NATS payload, HTTP body). */
export function encodeCloudEvent(event: CloudEvent): string {
  return JSON.stringify(event);
}

/** Parses and checks an envelope received from the wire. */
export function decodeCloudEvent(text: string): CloudEvent {
  return cloudEventSchema.parse(JSON.parse(text));
}

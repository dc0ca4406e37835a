/**
 * The event backbone: CloudEvents envelope, event catalog, transactional outbox, embedded and
 * NATS JetStream buses, idempotent consumers with retries, dead letters and replay.
 */
export {
  cloudEventSchema,
  decodeCloudEvent,
  encodeCloudEvent,
  eventTypeNameSchema,
  traceparentSchema,
  type CloudEvent,
  type StoredEvent,
} from './envelope.ts';
export {
  EventCatalog,
  builtInEventTypes,
  defaultCatalog,
  formatCatalog,
  paymentOrderEventType,
  type EventTypeDefinition,
  type EventTypeSummary,
} from './catalog.ts';
export {
  buildEvent,
  getEvent,
  listEvents,
  publish,
  publishMany,
  EVENTS_CHANNEL,
  type ListEventsInput,
  type ListEventsResult,
  type PublishInput,
  type PublishOptions,
} from './outbox.ts';
export {
  computeBackoff,
  type BackoffOptions,
  type BatchContext,
  type BatchEventHandler,
  type ConsumerContext,
  type ConsumerDefinition,
  type ConsumerLag,
  type EventHandler,
  type SettleOutcome,
} from './consumer.ts';
export {
  getDeadLetter,
  listConsumers,
  listDeadLetters,
  readLastSequence,
  replayDeadLetter,
  requestConsumerReplay,
  retireConsumer,
  type ConsumerStatus,
  type DeadLetter,
  type DeadLetterStatus,
  type ListDeadLettersInput,
  type ReplayConsumerInput,
} from './dead-letters.ts';
export {
  DEFAULT_RETENTION_MS,
  pruneEventLog,
  pruneIdempotencyRecords,
  type PruneInput,
  type RetentionOptions,
} from './retention.ts';
export {
  startEventBus,
  type ConsumerHandle,
  type EventBus,
  type EventBusOptions,
  type NatsBusOptions,
} from './bus.ts';

-- 0002: the event backbone. kontor_events is both the transactional outbox and the event log:
-- publishers insert into it inside their own transaction, so an event exists iff its business
-- write committed. seq numbers events but is allocated before commit, so concurrent publishers
-- commit out of seq order. Readers therefore follow (txid, seq) and only read rows of
-- transactions older than the oldest one of this database still running (LOG_HORIZON_SQL in
-- src/events/outbox.ts): that set can no longer grow, so a cursor never skips a late commit.
CREATE TABLE kontor_events (
  seq bigserial PRIMARY KEY,
  txid xid8 NOT NULL DEFAULT pg_current_xact_id(),
  id text NOT NULL UNIQUE,
  type text NOT NULL,
  source text NOT NULL,
  subject text,
  time timestamptz NOT NULL,
  datacontenttype text NOT NULL DEFAULT 'application/json',
  correlation_id text,
  traceparent text,
  data jsonb NOT NULL,
  -- Set once the NATS relay has had the event acknowledged by JetStream; unused by the embedded bus.
  relayed_at timestamptz,
  recorded_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX kontor_events_type_seq ON kontor_events (type, seq);
CREATE INDEX kontor_events_correlation_seq ON kontor_events (correlation_id, seq);
CREATE INDEX kontor_events_time ON kontor_events (time);
CREATE INDEX kontor_events_log_order ON kontor_events (txid, seq);
CREATE INDEX kontor_events_unrelayed ON kontor_events (txid, seq) WHERE relayed_at IS NULL;

-- One row per named durable consumer: its position in log order (every event with
-- (txid, seq) <= (position_txid, position) is settled for it) and a pending replay request.
CREATE TABLE kontor_consumers (
  name text PRIMARY KEY,
  position_txid bigint NOT NULL DEFAULT 0,
  position bigint NOT NULL DEFAULT 0,
  replay_from_seq bigint,
  replay_requested_at timestamptz,
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- Idempotency: a row here is written in the same transaction as the consumer's own effects, so
-- "effects applied" and "event marked done" commit or roll back together.
CREATE TABLE kontor_consumer_done (
  consumer text NOT NULL,
  event_id text NOT NULL,
  done_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (consumer, event_id)
);

-- Events a consumer gave up on after its last retry. status: dead → replaying → replayed (or dead again).
CREATE TABLE kontor_dead_letters (
  id bigserial PRIMARY KEY,
  consumer text NOT NULL,
  event_id text NOT NULL,
  event_seq bigint NOT NULL,
  event_type text NOT NULL,
  status text NOT NULL DEFAULT 'dead' CHECK (status IN ('dead', 'replaying', 'replayed')),
  attempts integer NOT NULL,
  attempted_at timestamptz[] NOT NULL,
  last_error text NOT NULL,
  last_error_stack text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  replayed_at timestamptz,
  UNIQUE (consumer, event_id)
);
CREATE INDEX kontor_dead_letters_status ON kontor_dead_letters (consumer, status);

-- 0003: identities with hashed API keys, idempotency keys of the public API, and the
-- append-only, hash-chained audit log with its signed checkpoints.

CREATE TABLE kontor_identities (
  id text PRIMARY KEY,
  name text NOT NULL UNIQUE,
  kind text NOT NULL CHECK (kind IN ('service', 'human')),
  scopes jsonb NOT NULL DEFAULT '[]',
  roles jsonb NOT NULL DEFAULT '[]',
  created_at timestamptz NOT NULL,
  created_by text NOT NULL,
  -- Set when the identity is revoked as a whole: every key and token of it stops at once.
  disabled_at timestamptz
);

-- Only an HMAC-SHA256 of each key (with a server pepper) is stored; see ADR 0007.
CREATE TABLE kontor_api_keys (
  id text PRIMARY KEY,
  identity_id text NOT NULL REFERENCES kontor_identities (id),
  key_hash text NOT NULL UNIQUE,
  -- The first characters of the key, so operators can tell keys apart without the secret.
  prefix text NOT NULL,
  created_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL,
  revoked_at timestamptz
);
CREATE INDEX kontor_api_keys_identity ON kontor_api_keys (identity_id);

-- One row per (identity, Idempotency-Key): the request's hash and, once done, its response.
CREATE TABLE kontor_idempotency_keys (
  identity_id text NOT NULL,
  key text NOT NULL,
  request_hash text NOT NULL,
  state text NOT NULL CHECK (state IN ('in_flight', 'done')),
  response_status integer,
  response_body text,
  response_content_type text,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (identity_id, key)
);
CREATE INDEX kontor_idempotency_keys_created ON kontor_idempotency_keys (created_at);

-- The audit log. seq has no gaps: it comes from kontor_audit_head, whose single row every
-- writer locks (SELECT … FOR UPDATE) until commit, so two writers can never fork the chain.
CREATE TABLE kontor_audit (
  seq bigint PRIMARY KEY,
  time timestamptz NOT NULL,
  actor text NOT NULL,
  action text NOT NULL,
  resource_type text NOT NULL,
  resource_id text,
  before_digest text,
  after_digest text,
  correlation_id text,
  details jsonb,
  prev_hash text NOT NULL,
  hash text NOT NULL UNIQUE
);
CREATE INDEX kontor_audit_actor ON kontor_audit (actor, seq);
CREATE INDEX kontor_audit_action ON kontor_audit (action, seq);
CREATE INDEX kontor_audit_resource ON kontor_audit (resource_type, resource_id, seq);
CREATE INDEX kontor_audit_time ON kontor_audit (time);

CREATE TABLE kontor_audit_head (
  singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  seq bigint NOT NULL,
  hash text NOT NULL
);
-- The genesis hash: 64 zeros.
INSERT INTO kontor_audit_head (seq, hash) VALUES (0, repeat('0', 64));

-- Ed25519 signatures over (seq, hash) of the chain head at some moment: non-repudiation.
CREATE TABLE kontor_audit_checkpoints (
  seq bigint PRIMARY KEY,
  hash text NOT NULL,
  signed_at timestamptz NOT NULL,
  key_id text NOT NULL,
  signature text NOT NULL
);

-- The database itself refuses to change history, whoever asks (only an owner who disables the
-- trigger first can, and the hash chain then shows it).
CREATE FUNCTION kontor_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP USING ERRCODE = 'insufficient_privilege';
END;
$$;

CREATE TRIGGER kontor_audit_append_only BEFORE UPDATE OR DELETE ON kontor_audit
  FOR EACH ROW EXECUTE FUNCTION kontor_refuse_change();
CREATE TRIGGER kontor_audit_no_truncate BEFORE TRUNCATE ON kontor_audit
  FOR EACH STATEMENT EXECUTE FUNCTION kontor_refuse_change();
CREATE TRIGGER kontor_audit_checkpoints_append_only BEFORE UPDATE OR DELETE ON kontor_audit_checkpoints
  FOR EACH ROW EXECUTE FUNCTION kontor_refuse_change();
CREATE TRIGGER kontor_audit_checkpoints_no_truncate BEFORE TRUNCATE ON kontor_audit_checkpoints
  FOR EACH STATEMENT EXECUTE FUNCTION kontor_refuse_change();

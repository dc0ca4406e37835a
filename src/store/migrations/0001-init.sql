-- 0001: the instance this database belongs to. Later migrations add the capabilities' tables.
CREATE TABLE kontor_instance (
  singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  instance_id text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  started_count bigint NOT NULL DEFAULT 0,
  last_started_at timestamptz
);

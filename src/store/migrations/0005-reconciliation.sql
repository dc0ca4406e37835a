-- 0005: the reconciliation flow's decision per posted bank statement line (at most one per line).
CREATE TABLE reconciliation_items (
  -- The statement line is the identity: a line is decided once, so a replay finds it and does nothing.
  line_id text PRIMARY KEY REFERENCES statement_lines (id),
  statement_row_id text NOT NULL REFERENCES bank_statements (id),
  bank_account_id text NOT NULL,
  entity_id text NOT NULL,
  status text NOT NULL CHECK (status IN ('auto_reconciled', 'proposed', 'exception', 'accepted', 'rejected', 'manually_matched')),
  confidence double precision NOT NULL,
  reason text,
  rule text,
  explanation text NOT NULL,
  -- [{itemId, itemNumber, amount: {amount, currency}}], signed like the bank line.
  allocations jsonb NOT NULL DEFAULT '[]',
  write_off jsonb,
  candidate_ids jsonb NOT NULL DEFAULT '[]',
  decided_by text,
  decided_at timestamptz,
  correlation_id text,
  -- Where Odoo stands: none (nothing to do), pending (to reconcile), reconciled, failed (retried).
  odoo_state text NOT NULL DEFAULT 'none' CHECK (odoo_state IN ('none', 'pending', 'reconciled', 'failed')),
  odoo_line_id bigint,
  odoo_attempts integer NOT NULL DEFAULT 0,
  odoo_error text,
  -- A write-off the engine proposed but Odoo was not asked to book (the connector cannot yet).
  write_off_skipped boolean NOT NULL DEFAULT false,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX reconciliation_items_queue ON reconciliation_items (status, created_at, line_id);
CREATE INDEX reconciliation_items_statement ON reconciliation_items (statement_row_id);
CREATE INDEX reconciliation_items_odoo ON reconciliation_items (odoo_state) WHERE odoo_state IN ('pending', 'failed');

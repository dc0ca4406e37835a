-- 0004: bank statement imports, their statements and their lines (each line once per account).
CREATE TABLE statement_imports (
  id text PRIMARY KEY,
  -- The same file twice is the same import: its sha256 is unique.
  content_sha256 text NOT NULL UNIQUE,
  file_name text,
  format text NOT NULL,
  source text NOT NULL CHECK (source IN ('api', 'folder', 'cli')),
  actor text NOT NULL,
  correlation_id text NOT NULL,
  status text NOT NULL CHECK (status IN ('received', 'posted', 'partially_posted')),
  summary jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  posted_at timestamptz
);

CREATE TABLE bank_statements (
  id text PRIMARY KEY,
  import_id text NOT NULL REFERENCES statement_imports (id),
  bank_account_id text NOT NULL,
  statement_id text NOT NULL,
  kind text NOT NULL,
  format text NOT NULL,
  currency char(3) NOT NULL,
  opening_balance bigint,
  opening_date date,
  closing_balance bigint,
  closing_date date,
  line_count integer NOT NULL,
  new_line_count integer NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX bank_statements_import ON bank_statements (import_id);
CREATE INDEX bank_statements_account ON bank_statements (bank_account_id, closing_date);

CREATE TABLE statement_lines (
  id text PRIMARY KEY,
  bank_account_id text NOT NULL,
  -- Stable identity of the entry within its account, the same in camt.052 and camt.053.
  entry_key text NOT NULL,
  statement_row_id text NOT NULL REFERENCES bank_statements (id),
  import_id text NOT NULL REFERENCES statement_imports (id),
  seq_in_statement integer NOT NULL,
  booking_date date NOT NULL,
  value_date date,
  amount bigint NOT NULL,
  currency char(3) NOT NULL,
  counterparty_name text,
  counterparty_iban text,
  remittance_info text,
  creditor_reference text,
  end_to_end_id text,
  line jsonb NOT NULL,
  odoo_status text NOT NULL DEFAULT 'pending' CHECK (odoo_status IN ('pending', 'posted', 'failed')),
  odoo_line_id bigint,
  odoo_error text,
  posted_at timestamptz,
  UNIQUE (bank_account_id, entry_key)
);
CREATE INDEX statement_lines_import ON statement_lines (import_id, seq_in_statement);
CREATE INDEX statement_lines_pending ON statement_lines (odoo_status) WHERE odoo_status <> 'posted';
CREATE INDEX statement_lines_e2e ON statement_lines (end_to_end_id) WHERE end_to_end_id IS NOT NULL;

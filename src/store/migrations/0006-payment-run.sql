-- 0006: payment orders (the payment-run flow), their transfers, the bills they pay, approvals and exceptions.
CREATE TABLE payment_orders (
  id text PRIMARY KEY,
  entity_id text NOT NULL,
  bank_account_id text NOT NULL,
  execution_date date NOT NULL,
  currency char(3) NOT NULL,
  state text NOT NULL CHECK (state IN ('draft', 'pending_approval', 'approved', 'released', 'sent', 'accepted',
    'partially_accepted', 'rejected', 'settled', 'cancelled')),
  created_by text NOT NULL,
  -- Minor units of `currency`; never a float.
  total bigint NOT NULL,
  line_count integer NOT NULL,
  -- Facts about the vendors read from Odoo at proposal time (age, bank account change), for the policy.
  vendor_facts jsonb NOT NULL DEFAULT '{}',
  due_by date NOT NULL,
  pain_version text NOT NULL,
  -- GrpHdr/MsgId: fixed at proposal, so the released file's name is known before it is written.
  message_id text NOT NULL UNIQUE,
  file_name text,
  file_sha256 text,
  file_xml text,
  released_by text,
  released_at timestamptz,
  cancel_reason text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX payment_orders_state ON payment_orders (state, created_at);

-- One transfer per vendor and execution date; the EndToEndId ties statuses and bank lines back to it.
CREATE TABLE payment_order_lines (
  end_to_end_id text PRIMARY KEY,
  order_id text NOT NULL REFERENCES payment_orders (id),
  seq integer NOT NULL,
  vendor_id text NOT NULL,
  vendor_name text NOT NULL,
  creditor_iban text NOT NULL,
  creditor_bic text,
  amount bigint NOT NULL,
  remittance text,
  creditor_reference text,
  status text NOT NULL DEFAULT 'proposed' CHECK (status IN ('proposed', 'pending', 'accepted', 'settled', 'rejected')),
  status_code text,
  status_reason text,
  -- Registration of the payment in Odoo after acceptance: none, pending (to do), registered.
  odoo_state text NOT NULL DEFAULT 'none' CHECK (odoo_state IN ('none', 'pending', 'registered')),
  odoo_payment_id bigint,
  odoo_error text,
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX payment_order_lines_order ON payment_order_lines (order_id, seq);

CREATE TABLE payment_order_bills (
  order_id text NOT NULL REFERENCES payment_orders (id),
  end_to_end_id text NOT NULL REFERENCES payment_order_lines (end_to_end_id),
  entity_id text NOT NULL,
  bill_id text NOT NULL,
  bill_number text NOT NULL,
  amount bigint NOT NULL,
  due_date date,
  -- True while the bill is held by this order; cancelling, a rejection or the payment releases it.
  open boolean NOT NULL DEFAULT true,
  PRIMARY KEY (order_id, bill_id)
);
-- A bill is in at most one open order: enforced here, not only in code (two concurrent proposals cannot both take it).
CREATE UNIQUE INDEX payment_order_bills_one_open ON payment_order_bills (entity_id, bill_id) WHERE open;

CREATE TABLE payment_order_approvals (
  order_id text NOT NULL REFERENCES payment_orders (id),
  approver_id text NOT NULL,
  approver_kind text NOT NULL,
  roles jsonb NOT NULL DEFAULT '[]',
  approved_at timestamptz NOT NULL,
  PRIMARY KEY (order_id, approver_id)
);

-- Things a person must look at: rejected transfers with the bank's reason in words.
CREATE TABLE payment_exceptions (
  id text PRIMARY KEY,
  order_id text NOT NULL REFERENCES payment_orders (id),
  end_to_end_id text,
  code text NOT NULL,
  reason text NOT NULL,
  bill_ids jsonb NOT NULL DEFAULT '[]',
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX payment_exceptions_order ON payment_exceptions (order_id);

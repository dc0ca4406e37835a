import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { type AppError, ErrorCodes } from '../../domain/index.ts';
import { mapOdooFault } from './errors.ts';
import type { Timer } from './resilience.ts';
import { type SandboxOdoo, startSandboxOdoo } from './sandbox/index.ts';
import { OdooTransport } from './transport.ts';

let sandbox: SandboxOdoo;
const slept: number[] = [];
const timer: Timer = {
  now: () => 1_700_000_000_000,
  sleep: async (ms) => void slept.push(ms),
  random: () => 0.5,
};

before(async () => {
  sandbox = await startSandboxOdoo();
});
after(() => sandbox.close());

const connect = (extra = {}) =>
  OdooTransport.connect(
    { url: sandbox.url, db: sandbox.db, login: sandbox.login, apiKey: sandbox.apiKey },
    { timer, ...extra },
  );

test('retries gateway failures with backoff and then succeeds', async () => {
  const transport = await connect();
  slept.length = 0;
  sandbox.injectFailures(2, 503);
  const count = await transport.call({
    model: 'res.partner',
    method: 'search_count',
    params: { domain: [] },
  });
  assert.ok(typeof count === 'number' && count > 0);
  assert.deepEqual(slept, [125, 250]);
  assert.equal(transport.stats().retries, 2);
});

test('opens the circuit after repeated gateway failures and fails fast', async () => {
  const transport = await connect({
    retry: { maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 1 },
    breaker: { failureThreshold: 2, openMs: 60_000 },
  });
  sandbox.injectFailures(2, 502);
  for (let i = 0; i < 2; i++) {
    await assert.rejects(
      transport.call({ model: 'res.partner', method: 'search_count', params: { domain: [] } }),
      (e: AppError) => e.code === ErrorCodes.ODOO_UNAVAILABLE && e.retryable,
    );
  }
  assert.equal(transport.stats().circuit, 'open');
  await assert.rejects(
    transport.call({ model: 'res.partner', method: 'search_count', params: { domain: [] } }),
    (e: AppError) => e.code === ErrorCodes.ODOO_CIRCUIT_OPEN,
  );
});

test('does not retry Odoo faults and keeps their message', async () => {
  const transport = await connect();
  slept.length = 0;
  await assert.rejects(
    transport.call({
      model: 'res.partner',
      method: 'search_read',
      params: { domain: [], fields: ['no_such_field'] },
    }),
    (e: AppError) => {
      assert.equal(e.code, ErrorCodes.ODOO_VALIDATION);
      assert.match(e.message, /Invalid field 'no_such_field'/);
      return true;
    },
  );
  assert.deepEqual(slept, []);
});

test('treats a JSON-RPC answer without a result key as null', async () => {
  const transport = await connect();
  const result = await transport.call({
    model: 'account.bank.statement.line',
    method: 'action_undo_reconciliation',
    ids: [],
    context: {},
  });
  assert.equal(result, null);
});

test('refuses a user without accounting rights with ODOO_ACCESS_ERROR', async () => {
  const transport = await OdooTransport.connect(
    { url: sandbox.url, db: sandbox.db, login: 'demo', password: 'demo' },
    { timer },
  );
  await assert.rejects(
    transport.call({
      model: 'account.move',
      method: 'search_read',
      params: { domain: [], fields: ['name'] },
    }),
    (e: AppError) => e.code === ErrorCodes.ODOO_ACCESS_ERROR && !e.retryable,
  );
});

test('maps Odoo exceptions to retry-aware codes', () => {
  const cases: Array<[string, string, boolean]> = [
    ['odoo.exceptions.AccessDenied', ErrorCodes.ODOO_ACCESS_DENIED, false],
    ['odoo.exceptions.AccessError', ErrorCodes.ODOO_ACCESS_ERROR, false],
    ['odoo.exceptions.UserError', ErrorCodes.ODOO_VALIDATION, false],
    ['odoo.exceptions.ValidationError', ErrorCodes.ODOO_VALIDATION, false],
    ['odoo.exceptions.MissingError', ErrorCodes.ODOO_MISSING_RECORD, false],
    ['psycopg2.errors.SerializationFailure', ErrorCodes.ODOO_UNAVAILABLE, true],
    ['builtins.RuntimeError', ErrorCodes.ODOO_FAULT, false],
  ];
  for (const [name, code, retryable] of cases) {
    const error = mapOdooFault({ name, message: 'boom' }, 'x.y');
    assert.equal(error.code, code, name);
    assert.equal(error.retryable, retryable, name);
    assert.match(error.message, /boom/);
  }
});

test('sends create values positionally, as Odoo JSON-RPC requires', async () => {
  const transport = await connect();
  const ids = await transport.call({
    model: 'res.partner',
    method: 'create',
    params: { vals_list: [{ name: 'Positional GmbH' }] },
    context: {},
  });
  assert.ok(Array.isArray(ids) && ids.length === 1);
});

test('finishes a reconciliation that crashed after re-pointing the suspense item', async () => {
  const { OdooClient } = await import('./client.ts');
  const { money } = await import('../../domain/index.ts');
  const client = await OdooClient.connect(
    { url: sandbox.url, db: sandbox.db, login: sandbox.login, apiKey: sandbox.apiKey },
    { timer },
  );
  const companyId = sandbox.seed.companyId;
  const [invoice] = await client.listOpenItems(companyId, { kinds: ['out_invoice'] });
  const created = await client.createStatementLines(companyId, [
    {
      journalId: sandbox.seed.bankJournalId,
      bankAccount: sandbox.seed.bankIban,
      statementId: 'crash',
      entryRef: '1',
      date: '2026-11-22',
      amount: invoice!.residual,
      paymentRef: 'x',
      partnerId: invoice!.partnerId!,
    },
  ]);
  const lineId = created.outcomes[0]!.id!;
  const [open] = await client.listOpenLines(companyId, [invoice!.id]);
  const [st] = await client.readStatementLines(companyId, [lineId]);
  const items = (await client.execute(companyId, {
    model: 'account.move.line',
    method: 'search_read',
    params: { domain: [['move_id', '=', st!.moveId]], fields: ['account_id'] },
  })) as Array<{ id: number; account_id: [number, string] }>;
  const suspense = items.find((i) => i.account_id[1].includes('Suspense'))!;
  // The crash: the re-point was committed, the reconcile call never happened.
  await client.execute(companyId, {
    model: 'account.move.line',
    method: 'write',
    ids: [suspense.id],
    params: { vals: { account_id: open!.accountId } },
  });
  await client.reconcileStatementLine(companyId, { statementLineId: lineId, moveLineIds: [open!.id] });
  const [paid] = await client.readMoves(companyId, [invoice!.id]);
  assert.equal(paid!.residual.amount, 0n);
  assert.equal(money(0n, 'EUR').amount, 0n);
});

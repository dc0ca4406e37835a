// End to end against the sandbox Odoo over REST: open bill → order → two human approvals (the
// creator's refused) → release → file in the outbox → pain.002 → bill paid in Odoo (residual 0,
// in payment) → camt.054 debit line with the EndToEndId → payment matched, bill paid, line reconciled.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseConfig } from '../src/config/index.ts';
import {
  createOdooReconciliationLedger,
  OdooClient,
  startSandboxOdoo,
  type SandboxOdoo,
} from '../src/connectors/odoo/index.ts';
import { startKontor, type RunningKontor } from '../src/main.ts';
import { createLogger } from '../src/observability/index.ts';
import { makePain002 } from './support/pain002.ts';

const IBAN = 'DE89370400440532013000';

/** A minimal camt.054.001.08 debit/credit notification (no balances, as banks send them). */
function makeCamt054(input: {
  iban: string;
  currency: string;
  id: string;
  date: string;
  entries: { ref: string; amount: string; endToEndId?: string; name?: string }[];
}): string {
  const entries = input.entries
    .map((e) => {
      const credit = !e.amount.startsWith('-');
      const abs = e.amount.replace('-', '');
      const party = credit ? 'Dbtr' : 'Cdtr';
      return `<Ntry><Amt Ccy="${input.currency}">${abs}</Amt><CdtDbtInd>${credit ? 'CRDT' : 'DBIT'}</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts><BookgDt><Dt>${input.date}</Dt></BookgDt><ValDt><Dt>${input.date}</Dt></ValDt><AcctSvcrRef>${e.ref}</AcctSvcrRef><BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>${credit ? 'RCDT' : 'ICDT'}</Cd><SubFmlyCd>ESCT</SubFmlyCd></Fmly></Domn></BkTxCd><NtryDtls><TxDtls><Refs>${e.endToEndId === undefined ? '' : `<EndToEndId>${e.endToEndId}</EndToEndId>`}</Refs><Amt Ccy="${input.currency}">${abs}</Amt><CdtDbtInd>${credit ? 'CRDT' : 'DBIT'}</CdtDbtInd>${e.name === undefined ? '' : `<RltdPties><${party}><Pty><Nm>${e.name}</Nm></Pty></${party}></RltdPties>`}</TxDtls></NtryDtls></Ntry>`;
    })
    .join('');
  return `<?xml version="1.0" encoding="UTF-8"?><Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.054.001.08"><BkToCstmrDbtCdtNtfctn><GrpHdr><MsgId>${input.id}</MsgId><CreDtTm>${input.date}T12:00:00+01:00</CreDtTm></GrpHdr><Ntfctn><Id>${input.id}</Id><CreDtTm>${input.date}T12:00:00+01:00</CreDtTm><Acct><Id><IBAN>${input.iban}</IBAN></Id><Ccy>${input.currency}</Ccy></Acct>${entries}</Ntfctn></BkToCstmrDbtCdtNtfctn></Document>`;
}

async function waitFor<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const started = Date.now();
  while (Date.now() - started < timeoutMs) {
    const value = await check();
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('payment run end to end (REST → sandbox Odoo)', () => {
  let dir: string;
  let odoo: SandboxOdoo;
  let kontor: RunningKontor;
  const keys: Record<string, string> = {};
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kontor-payrun-e2e-'));
    odoo = await startSandboxOdoo();
    const config = parseConfig(
      `entities:\n  - {id: demo, name: Kontor Demo GmbH, country: DE, baseCurrency: EUR, odooCompanyId: 1}\nbankAccounts:\n  - {id: demo-eur, entity: demo, iban: ${IBAN}, bic: COBADEFFXXX, currency: EUR, odooJournal: BNK1, outbox: ${join(dir, 'bank-out')}}\napprovalPolicy:\n  bands: [{currency: EUR, from: "0", approvals: 2}]\n`,
    );
    kontor = await startKontor({
      config,
      env: {
        KONTOR_DATA_DIR: join(dir, 'data'),
        KONTOR_PORT: '0',
        KONTOR_XSD_DIR: new URL('../../shared/fixtures/xsd/', import.meta.url).pathname,
        ODOO_URL: odoo.url,
        ODOO_DB: odoo.db,
        ODOO_USER: odoo.login,
        ODOO_API_KEY: odoo.apiKey,
      },
      logger: createLogger({ level: 'silent' }),
    });
    const identities = kontor.services.security!.identities;
    const make = async (name: string, kind: 'human' | 'service', scopes: string[]) =>
      (keys[name] = (await identities.create({ name, kind, scopes, actor: 'test' })).key.apiKey);
    await make('clerk', 'human', ['payment-orders:write', 'payment-orders:read', 'payment-orders:approve']);
    await make('alice', 'human', ['payment-orders:approve', 'payment-orders:read']);
    await make('bob', 'human', ['payment-orders:approve', 'payment-orders:admin']);
    await make('bank', 'service', ['payments:write', 'statements:write', 'statements:read']);
    await make('auditor', 'human', ['reconciliation:read']);
  });
  after(async () => {
    await kontor?.stop();
    await odoo?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function call(who: string, method: string, path: string, body?: unknown, type = 'application/json') {
    const res = await fetch(`${kontor.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${keys[who]}`,
        ...(body === undefined ? {} : { 'content-type': type }),
      },
      ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
    const text = await res.text();
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- response bodies are checked by the assertions below
    let json: any;
    try {
      json = JSON.parse(text);
    } catch {
      json = text;
    }
    return { status: res.status, json };
  }

  it('pays an open vendor bill from proposal to residual 0 in Odoo', async () => {
    const proposed = await call('clerk', 'POST', '/v1/payment-orders', {
      bankAccountId: 'demo-eur',
      dueBy: '2099-12-31',
    });
    assert.equal(proposed.status, 201, JSON.stringify(proposed.json));
    const id = proposed.json.orderId as string;
    assert.equal(proposed.json.billCount, 2);
    assert.equal((await call('clerk', 'POST', `/v1/payment-orders/${id}/submit`)).status, 200);
    const policy = await call('alice', 'GET', `/v1/payment-orders/${id}/policy`);
    assert.equal(policy.json.requiredApprovals, 2);
    const own = await call('clerk', 'POST', `/v1/payment-orders/${id}/approve`);
    assert.equal(own.status, 403);
    assert.equal(own.json.error.code, 'SOD_CREATOR_CANNOT_APPROVE');
    assert.equal((await call('bank', 'POST', `/v1/payment-orders/${id}/approve`)).status, 403);
    assert.equal(
      (await call('alice', 'POST', `/v1/payment-orders/${id}/approve`)).json.state,
      'pending_approval',
    );
    assert.equal((await call('bob', 'POST', `/v1/payment-orders/${id}/approve`)).json.state, 'approved');
    const released = await call('clerk', 'POST', `/v1/payment-orders/${id}/release`);
    assert.equal(released.status, 200, JSON.stringify(released.json));
    const path = join(dir, 'bank-out', released.json.fileName as string);
    assert.ok(existsSync(path));
    const file = await call('alice', 'GET', `/v1/payment-orders/${id}/file`);
    assert.equal(file.json, readFileSync(path, 'utf8'));
    const order = (await call('alice', 'GET', `/v1/payment-orders/${id}`)).json;
    const report = makePain002(
      order.messageId,
      order.lines.map((l: { endToEndId: string }) => ({ endToEndId: l.endToEndId, status: 'ACSC' })),
    );
    const applied = await call('bank', 'POST', '/v1/payment-status-reports', report, 'application/xml');
    assert.equal(applied.status, 200, JSON.stringify(applied.json));
    assert.equal(applied.json.registered, 1);
    assert.deepEqual(applied.json.orders, [{ orderId: id, state: 'settled' }]);
    // The same report again changes nothing, in Kontor or in Odoo.
    assert.equal(
      (await call('bank', 'POST', '/v1/payment-status-reports', report, 'application/xml')).json.registered,
      0,
    );

    const client = await OdooClient.connect({
      url: odoo.url,
      db: odoo.db,
      login: odoo.login,
      apiKey: odoo.apiKey,
    });
    const billIds = order.lines.flatMap((l: { bills: { billId: string }[] }) =>
      l.bills.map((b) => Number(b.billId)),
    );
    const moves = await client.readMoves(1, billIds);
    assert.deepEqual(
      moves.map((m) => m.residual.amount),
      billIds.map(() => 0n),
    );
    // Odoo 18 Community: paid already (no 'in_payment' without account_accountant).
    assert.deepEqual(
      moves.map((m) => m.paymentState),
      billIds.map(() => 'paid'),
    );

    // The bank's debit notification for the same EndToEndId settles the payment with the bank line.
    const paid = order.lines[0] as { endToEndId: string; amount: { amount: string; currency: string } };
    const ledger = createOdooReconciliationLedger(client);
    const registered = (await ledger.findRegisteredPayments(1, [paid.endToEndId])).get(paid.endToEndId);
    assert.ok(registered, 'the pain.002 registered the payment under its EndToEndId');
    assert.equal(registered.state, 'in_process');
    const camt = makeCamt054({
      iban: IBAN,
      currency: 'EUR',
      id: `NTF-${id}`,
      date: new Date().toISOString().slice(0, 10),
      entries: [
        { ref: `DEBIT-${id}`, amount: `-${paid.amount.amount}`, endToEndId: paid.endToEndId, name: 'Vendor' },
      ],
    });
    const uploaded = await call('bank', 'POST', '/v1/statements?filename=debit.xml', camt, 'application/xml');
    assert.equal(uploaded.status, 201, JSON.stringify(uploaded.json));
    const recon = kontor.services.reconciliation!;
    const item = await waitFor('the debit line reconciled with the payment', async () => {
      const page = await recon.listExceptions({ statuses: ['auto_reconciled'], limit: 500 });
      return page.data.find((i) => i.rule === 'payment-end-to-end-id' && i.odoo.state === 'reconciled');
    });
    assert.match(
      item.explanation,
      new RegExp(`EndToEndId ${paid.endToEndId} matched payment ${registered.name}`),
    );
    assert.deepEqual(
      item.allocations.map((a) => a.itemId),
      [`payment:${registered.paymentId}`],
    );
    const read = await call('auditor', 'GET', `/v1/reconciliation/exceptions/${item.id}`);
    assert.equal(read.json.status, 'auto_reconciled');
    const after = (await ledger.findRegisteredPayments(1, [paid.endToEndId])).get(paid.endToEndId)!;
    assert.equal(after.state, 'paid');
    assert.equal(after.matched, true);
    assert.deepEqual(
      (await client.readMoves(1, billIds)).map((m) => m.paymentState),
      billIds.map(() => 'paid'),
    );
    const [line] = await client.readStatementLines(1, [item.odoo.statementLineId!]);
    assert.equal(line!.isReconciled, true);
    assert.equal(line!.amount.amount, -registered.amount.amount);
    const event = await kontor.db.query<{ data: { invoiceIds: string[] } }>(
      `SELECT data FROM kontor_events WHERE type = 'kontor.reconciliation.matched.v1' AND data->>'statementLineId' = $1`,
      [item.id],
    );
    assert.deepEqual(event.rows[0]!.data.invoiceIds.map(Number).sort(), [...billIds].sort());
  });
});

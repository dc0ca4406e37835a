// End to end: a camt.053 paying seeded sandbox invoices by RF reference is imported, posted and
// reconciled in Odoo (residuals zero, matched events), a replay does nothing, and the exception
// queue takes a person's decisions (accept, reject, manual match) with scopes enforced.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { composeIBAN } from 'ibantools';
import { parseConfig } from '../src/config/index.ts';
import {
  createRfReference,
  OdooClient,
  startSandboxOdoo,
  type OdooOpenItem,
  type SandboxOdoo,
} from '../src/connectors/odoo/index.ts';
import { money } from '../src/domain/index.ts';
import { startKontor, type RunningKontor } from '../src/main.ts';
import { createLogger } from '../src/observability/index.ts';
import { makeCamt } from './support/camt.ts';
import { runKontor } from './support/process.ts';

const IBAN = 'DE89370400440532013000';
const year = new Date().toISOString().slice(0, 4);
const deco = composeIBAN({ countryCode: 'DE', bban: '500105175407324931' })!;
const azure = composeIBAN({ countryCode: 'NL', bban: 'INGB0001234567' })!;
const gemini = composeIBAN({ countryCode: 'AT', bban: '1904300234573201' })!;

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const started = Date.now();
  while (Date.now() - started < timeoutMs) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

interface Item {
  id: string;
  status: string;
  reason: string | null;
  explanation: string;
  candidateIds: string[];
  allocations: { itemId: string }[];
  line: { amount: { amount: string } };
  odoo: { state: string; error: string | null; statementLineId: number | null; writeOffSkipped: boolean };
  ageSeconds?: number;
}

describe('reconciliation end to end (camt.053 → sandbox Odoo → reconciled)', () => {
  let dir: string;
  let odoo: SandboxOdoo;
  let client: OdooClient;
  let company: number;
  let kontor: RunningKontor;
  let writer: string;
  let reader: string;
  let open: OdooOpenItem[];
  const byName = (name: string) => open.find((i) => i.name === name)!;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kontor-recon-'));
    odoo = await startSandboxOdoo();
    client = await OdooClient.connect({ url: odoo.url, db: odoo.db, login: odoo.login, apiKey: odoo.apiKey });
    company = (await client.listCompanies())[0]!.id;
    open = await client.listOpenItems(company);
    const config = parseConfig(
      `entities:\n  - {id: demo, name: Demo, country: DE, baseCurrency: EUR, odooCompanyId: ${company}}\nbankAccounts:\n  - {id: demo-eur, entity: demo, iban: ${IBAN}, currency: EUR, odooJournal: BNK1}\n`,
    );
    kontor = await startKontor({
      config,
      env: {
        KONTOR_DATA_DIR: join(dir, 'data'),
        KONTOR_PORT: '0',
        ODOO_URL: odoo.url,
        ODOO_DB: odoo.db,
        ODOO_USER: odoo.login,
        ODOO_API_KEY: odoo.apiKey,
      },
      logger: createLogger({ level: 'silent' }),
    });
    const create = async (name: string, scopes: string[]) =>
      (await kontor.services.security!.identities.create({ name, kind: 'service', scopes, actor: 'test' }))
        .key.apiKey;
    writer = await create('clerk', [
      'statements:write',
      'statements:read',
      'reconciliation:read',
      'reconciliation:write',
    ]);
    reader = await create('auditor', ['reconciliation:read']);
  });
  after(async () => {
    await kontor?.stop();
    await odoo?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const api = (path: string, key: string, body?: unknown) =>
    fetch(`${kontor.url}${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: {
        authorization: `Bearer ${key}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  const item = async (id: string): Promise<Item> =>
    (await (await api(`/v1/reconciliation/exceptions/${id}`, writer)).json()) as Item;

  let statementRowId: string;
  let lineIds: Map<string, string>;

  it('imports, posts and auto-reconciles the lines that pay invoices by RF reference', async () => {
    const file = makeCamt({
      iban: IBAN,
      statementId: 'RECON-1',
      entries: [
        {
          ref: 'R1',
          amount: '19250.00',
          date: `${year}-11-20`,
          name: 'Deco Addict',
          iban: deco,
          remittance: createRfReference(`INV${year}00001`),
        },
        {
          ref: 'R2',
          amount: '249.50',
          date: `${year}-11-20`,
          name: 'Azure Interior',
          iban: azure,
          remittance: createRfReference(`INV${year}00002`),
        },
        {
          ref: 'R3',
          amount: '4175.00',
          date: `${year}-11-20`,
          name: 'Gemini Furniture',
          iban: gemini,
          remittance: `Payment ${createRfReference(`INV${year}00003`)}`,
        },
        { ref: 'R4', amount: '123.45', date: `${year}-11-20`, name: 'Someone', remittance: 'thanks' },
        { ref: 'R5', amount: '-999.00', date: `${year}-11-20`, name: 'Lumber Inc', remittance: 'bill' },
        { ref: 'R6', amount: '50.00', date: `${year}-11-20`, name: 'Walk-in', remittance: 'cash deposit' },
      ],
    });
    const r = await fetch(`${kontor.url}/v1/statements?filename=recon.xml`, {
      method: 'POST',
      headers: { authorization: `Bearer ${writer}`, 'content-type': 'application/xml' },
      body: file,
    });
    assert.equal(r.status, 201);
    const rows = async () =>
      (
        await kontor.db.query<{ status: string; odoo_state: string }>(
          `SELECT status, odoo_state FROM reconciliation_items`,
        )
      ).rows;
    await waitFor('all six lines to be decided and applied', async () => {
      const all = await rows();
      return all.length === 6 && all.every((x) => x.odoo_state !== 'pending');
    });
    const lines = await kontor.db.query<{ id: string; entry_key: string; statement_row_id: string }>(
      `SELECT id, entry_key, statement_row_id FROM statement_lines ORDER BY seq_in_statement`,
    );
    statementRowId = lines.rows[0]!.statement_row_id;
    lineIds = new Map(lines.rows.map((l, i) => [`R${i + 1}`, l.id]));

    for (const ref of ['R1', 'R2', 'R3']) {
      const it = await item(lineIds.get(ref)!);
      assert.equal(it.status, 'auto_reconciled', `${ref}: ${it.explanation}`);
      assert.equal(it.odoo.state, 'reconciled', `${ref}: ${it.odoo.error}`);
    }
    const moves = await client.readMoves(company, [
      byName(`INV/${year}/00001`).id,
      byName(`INV/${year}/00002`).id,
      byName(`INV/${year}/00003`).id,
    ]);
    for (const m of moves) assert.equal(m.residual.amount, 0n, `${m.name} is paid in Odoo`);

    const events = await kontor.db.query<{ n: bigint }>(
      `SELECT count(*) AS n FROM kontor_events WHERE type = 'kontor.reconciliation.matched.v1'`,
    );
    assert.equal(events.rows[0]!.n, 3n);
    const audit = await kontor.db.query<{ n: bigint }>(
      `SELECT count(*) AS n FROM kontor_audit WHERE action = 'reconciliation.reconciled'`,
    );
    assert.equal(audit.rows[0]!.n, 3n);
  });

  it('does nothing on a replay', async () => {
    const again = await kontor.services.reconciliation!.reconcileStatement(statementRowId);
    assert.deepEqual(
      {
        auto: again.autoMatched,
        proposed: again.proposed,
        exceptions: again.exceptions,
        odoo: again.reconciledInOdoo,
      },
      { auto: 0, proposed: 0, exceptions: 0, odoo: 0 },
    );
    assert.equal(again.alreadyDecided, 6);
    const events = await kontor.db.query<{ n: bigint }>(
      `SELECT count(*) AS n FROM kontor_events WHERE type = 'kontor.reconciliation.matched.v1'`,
    );
    assert.equal(events.rows[0]!.n, 3n);
  });

  it('queues the rest with reason and age, filterable, and pages by cursor', async () => {
    const r = await api('/v1/reconciliation/exceptions?account=demo-eur&limit=2', reader);
    assert.equal(r.status, 200);
    const page = (await r.json()) as { data: Item[]; hasMore: boolean; nextCursor: string | null };
    assert.equal(page.data.length, 2);
    assert.equal(page.hasMore, true);
    const next = (await (
      await api(`/v1/reconciliation/exceptions?account=demo-eur&limit=2&cursor=${page.nextCursor}`, reader)
    ).json()) as { data: Item[]; hasMore: boolean };
    const all = [...page.data, ...next.data];
    assert.equal(all.length, 3);
    assert.equal(new Set(all.map((i) => i.id)).size, 3);
    assert.ok(all.every((i) => typeof i.ageSeconds === 'number' && i.reason !== null));
    const cash = all.find((i) => i.id === lineIds.get('R6'))!;
    assert.equal(cash.status, 'exception');
    const byReason = (await (
      await api(`/v1/reconciliation/exceptions?reason=${cash.reason}`, reader)
    ).json()) as { data: Item[] };
    assert.ok(byReason.data.some((i) => i.id === cash.id));
    assert.ok(byReason.data.every((i) => i.reason === cash.reason));
    const none = (await (await api('/v1/reconciliation/exceptions?entity=elsewhere', reader)).json()) as {
      data: Item[];
    };
    assert.equal(none.data.length, 0);
  });

  it('refuses decisions without reconciliation:write', async () => {
    const r = await api(`/v1/reconciliation/exceptions/${lineIds.get('R6')}/reject`, reader, {});
    assert.equal(r.status, 403);
    assert.equal((await item(lineIds.get('R6')!)).status, 'exception');
  });

  it('accepts a proposal (amount only) and reconciles it in Odoo, audited with the identity', async () => {
    const id = lineIds.get('R4')!;
    const before = await item(id);
    assert.equal(before.status, 'proposed', before.explanation);
    const r = await api(`/v1/reconciliation/exceptions/${id}/accept`, writer, {});
    assert.equal(r.status, 200);
    const after = (await r.json()) as Item;
    assert.equal(after.status, 'accepted');
    assert.equal(after.odoo.state, 'reconciled', after.odoo.error ?? '');
    const [inv] = await client.readMoves(company, [byName(`INV/${year}/00004`).id]);
    assert.equal(inv!.residual.amount, 0n);
    const audit = await kontor.db.query<{ actor: string; correlation_id: string | null }>(
      `SELECT actor, correlation_id FROM kontor_audit WHERE action = 'reconciliation.accepted' AND resource_id = $1`,
      [id],
    );
    assert.equal(audit.rows.length, 1);
    assert.notEqual(audit.rows[0]!.actor, 'anonymous');
    assert.ok(audit.rows[0]!.correlation_id);
    assert.equal((await api(`/v1/reconciliation/exceptions/${id}/accept`, writer, {})).status, 409);
  });

  it('matches an exception by hand: 400 when the amounts do not add up, reconciled when they do', async () => {
    const id = lineIds.get('R5')!;
    const bill = byName(`BILL/${year}/00002`);
    const wrong = await api(`/v1/reconciliation/exceptions/${id}/match`, writer, {
      itemIds: [String(byName(`BILL/${year}/00001`).id)],
    });
    assert.equal(wrong.status, 400);
    assert.notEqual((await item(id)).status, 'manually_matched');
    const r = await api(`/v1/reconciliation/exceptions/${id}/match`, writer, { itemIds: [String(bill.id)] });
    assert.equal(r.status, 200, await r.clone().text());
    const matched = (await r.json()) as Item & { writeOff: unknown };
    assert.equal(matched.status, 'manually_matched');
    assert.equal(matched.odoo.state, 'reconciled', matched.odoo.error ?? '');
    const [after] = await client.readMoves(company, [bill.id]);
    // 999.00 paid on 999.99: the 0.99 is within the bank-charges tolerance and booked on bank fees
    // (a credit: the bill is settled for less than its amount).
    assert.equal(after!.residual.amount, 0n);
    assert.equal(matched.odoo.writeOffSkipped, false);
    const [line] = await client.readStatementLines(company, [matched.odoo.statementLineId!]);
    assert.equal(line!.isReconciled, true);
    const fees = (await client.execute(company, {
      model: 'account.move.line',
      method: 'search_read',
      params: { domain: [['move_id', '=', line!.moveId]], fields: ['account_id', 'balance'] },
    })) as { account_id: [number, string]; balance: number }[];
    assert.deepEqual(
      fees.filter((f) => f.account_id[1].includes('Bank Fees')).map((f) => f.balance),
      [-0.99],
    );
    const audit = await kontor.db.query<{ n: bigint }>(
      `SELECT count(*) AS n FROM kontor_audit WHERE action = 'reconciliation.matched_manually' AND resource_id = $1`,
      [id],
    );
    assert.equal(audit.rows[0]!.n, 1n);
  });

  it('undoes a reconciliation: Odoo reopened, write-off gone, line back in the queue, audited, idempotent', async () => {
    const id = lineIds.get('R5')!;
    const bill = byName(`BILL/${year}/00002`);
    const statementLineId = (await item(id)).odoo.statementLineId!;
    assert.equal((await api(`/v1/reconciliation/lines/${id}/undo`, reader, {})).status, 403);
    const r = await api(`/v1/reconciliation/lines/${id}/undo`, writer, {});
    assert.equal(r.status, 200, await r.clone().text());
    const undone = (await r.json()) as Item;
    assert.equal(undone.status, 'proposed');
    assert.equal(undone.odoo.state, 'none');
    assert.deepEqual(
      undone.allocations.map((a) => a.itemId),
      [String(bill.id)],
    );
    const [reopened] = await client.readMoves(company, [bill.id]);
    assert.equal(reopened!.residual.amount, bill.residual.amount);
    const [line] = await client.readStatementLines(company, [statementLineId]);
    assert.equal(line!.isReconciled, false);
    const items = (await client.execute(company, {
      model: 'account.move.line',
      method: 'search_count',
      params: { domain: [['move_id', '=', line!.moveId]] },
    })) as number;
    assert.equal(items, 2, 'liquidity and suspense only: the write-off item is gone');
    const undoneEvents = async () =>
      (
        await kontor.db.query<{ id: string; data: { actor: string; status: string } }>(
          `SELECT id, data FROM kontor_events WHERE type = 'kontor.reconciliation.undone.v1' AND data->>'statementLineId' = $1`,
          [id],
        )
      ).rows;
    assert.equal((await undoneEvents()).length, 1);
    assert.equal((await undoneEvents())[0]!.data.status, 'proposed');
    // Again: nothing more happens.
    const again = await api(`/v1/reconciliation/lines/${id}/undo`, writer, {});
    assert.equal(again.status, 200);
    assert.equal(((await again.json()) as Item).status, 'proposed');
    assert.equal((await undoneEvents()).length, 1);
    const audit = await kontor.db.query<{ actor: string; correlation_id: string | null }>(
      `SELECT actor, correlation_id FROM kontor_audit WHERE action = 'reconciliation.undone' AND resource_id = $1`,
      [id],
    );
    assert.equal(audit.rows.length, 1);
    assert.notEqual(audit.rows[0]!.actor, 'anonymous');
    assert.ok(audit.rows[0]!.correlation_id);
    // Accepted again: reconciled again with the write-off, and a second matched event.
    const accepted = await api(`/v1/reconciliation/exceptions/${id}/accept`, writer, {});
    assert.equal(accepted.status, 200, await accepted.clone().text());
    assert.equal(((await accepted.json()) as Item).odoo.state, 'reconciled');
    const [paidAgain] = await client.readMoves(company, [bill.id]);
    assert.equal(paidAgain!.residual.amount, 0n);
    const matched = await kontor.db.query<{ id: string }>(
      `SELECT id FROM kontor_events WHERE type = 'kontor.reconciliation.matched.v1' AND data->>'statementLineId' = $1 ORDER BY seq`,
      [id],
    );
    assert.deepEqual(
      matched.rows.map((e) => e.id),
      [`matched-${id}`, `matched-${id}-1`],
    );
  });

  it('rejects an exception; it leaves the queue and stays open in Odoo', async () => {
    const id = lineIds.get('R6')!;
    const r = await api(`/v1/reconciliation/exceptions/${id}/reject`, writer, {
      note: 'cash, booked by hand',
    });
    assert.equal(r.status, 200);
    assert.equal(((await r.json()) as Item).status, 'rejected');
    const queue = (await (await api('/v1/reconciliation/exceptions', reader)).json()) as { data: Item[] };
    assert.ok(queue.data.every((i) => i.id !== id));
    const rejected = (await (await api('/v1/reconciliation/exceptions?status=rejected', reader)).json()) as {
      data: Item[];
    };
    assert.deepEqual(
      rejected.data.map((i) => i.id),
      [id],
    );
  });

  it('checks balances: bank closing equals baseline + Odoo journal, no line on one side only', async () => {
    const report = await kontor.services.reconciliation!.check(`${year}-12-31`);
    const account = report.accounts[0]!;
    assert.deepEqual(account.missingInOdoo, []);
    assert.deepEqual(account.unknownToKontor, []);
    assert.equal(account.difference?.amount, '0.00');
    assert.equal(report.ok, true);
    const earlier = await kontor.services.reconciliation!.check(`${year}-01-01`);
    assert.equal(earlier.accounts[0]!.bankClosing, null);
  });
});

describe('kontor reconcile check --date (CLI, external sandbox Odoo)', () => {
  it('reports a balanced account with exit 0, and a journal line Kontor does not know with exit 1', async () => {
    const odoo = await startSandboxOdoo();
    const dir = mkdtempSync(join(tmpdir(), 'kontor-recon-cli-'));
    try {
      const configFile = join(dir, 'kontor.yaml');
      writeFileSync(
        configFile,
        `dataDir: ${join(dir, 'data')}\nentities:\n  - {id: demo, name: Demo, country: DE, baseCurrency: EUR, odooCompanyId: 1}\nbankAccounts:\n  - {id: demo-eur, entity: demo, iban: ${IBAN}, currency: EUR, odooJournal: BNK1}\n`,
      );
      const env = {
        KONTOR_LOG_LEVEL: 'error',
        ODOO_URL: odoo.url,
        ODOO_DB: odoo.db,
        ODOO_USER: odoo.login,
        ODOO_API_KEY: odoo.apiKey,
      };
      const file = join(dir, 'stmt.xml');
      writeFileSync(
        file,
        makeCamt({
          iban: IBAN,
          statementId: 'CLI-1',
          entries: [{ ref: 'C1', amount: '12.00', date: `${year}-11-20`, remittance: 'misc' }],
        }),
      );
      const imported = await runKontor(['import', '-c', configFile, file], env, dir);
      assert.equal(imported.code, 0, imported.stderr);
      const unknown = await runKontor(['reconcile', 'undo', '-c', configFile, 'no-such-line'], env, dir);
      assert.notEqual(unknown.code, 0);
      assert.match(unknown.stderr, /no reconciliation item no-such-line/);
      const ok = await runKontor(
        ['reconcile', 'check', '-c', configFile, '--date', `${year}-12-31`],
        env,
        dir,
      );
      assert.equal(ok.code, 0, ok.stdout + ok.stderr);
      assert.match(ok.stdout, /: OK/);
      assert.match(ok.stdout, /difference {5}0\.00 EUR/);

      // A line booked in Odoo's journal by someone else: Odoo has a line Kontor has not.
      const client = await OdooClient.connect({
        url: odoo.url,
        db: odoo.db,
        login: odoo.login,
        apiKey: odoo.apiKey,
      });
      const journal = (await client.listBankJournals(1)).find((j) => j.code === 'BNK1')!;
      const manual = await client.createStatementLines(1, [
        {
          journalId: journal.id,
          bankAccount: 'by-hand',
          statementId: 'manual',
          entryRef: 'M1',
          date: `${year}-11-20`,
          amount: money(500n, 'EUR'),
          paymentRef: 'typed in Odoo',
        },
      ]);
      const json = await runKontor(
        ['reconcile', 'check', '-c', configFile, '--date', `${year}-12-31`, '--json'],
        env,
        dir,
      );
      assert.equal(json.code, 1, json.stderr);
      const report = JSON.parse(json.stdout) as {
        ok: boolean;
        accounts: {
          unknownToKontor: { odooLineId: number }[];
          missingInOdoo: unknown[];
          difference: { amount: string };
        }[];
      };
      assert.equal(report.ok, false);
      assert.deepEqual(
        report.accounts[0]!.unknownToKontor.map((l) => l.odooLineId),
        [manual.outcomes[0]!.id],
      );
      assert.deepEqual(report.accounts[0]!.missingInOdoo, []);
      assert.equal(report.accounts[0]!.difference.amount, '-5.00');
    } finally {
      await odoo.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

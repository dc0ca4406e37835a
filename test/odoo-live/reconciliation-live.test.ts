// The reconciliation adapter against a real Odoo (ODOO_URL, ODOO_DB, ODOO_USER, ODOO_API_KEY or
// ODOO_PASSWORD set; else skipped): open items, partner index, reconcile (full and partial), a
// replay seen as already reconciled, undo, and the journal lines of the completeness check.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../../src/config/index.ts';
import { createOdooReconciliationLedger, OdooClient } from '../../src/connectors/odoo/index.ts';
import { formatMoney, money, type LedgerReconciliation } from '../../src/domain/index.ts';
import { startKontor } from '../../src/main.ts';
import { createLogger } from '../../src/observability/index.ts';
import { makeCamt } from '../support/camt.ts';

const { ODOO_URL, ODOO_DB, ODOO_USER, ODOO_API_KEY, ODOO_PASSWORD, ODOO_COMPANY_ID } = process.env;

if (ODOO_URL && ODOO_DB && ODOO_USER && (ODOO_API_KEY || ODOO_PASSWORD)) {
  describe(`reconciliation adapter, live ${ODOO_URL}`, () => {
    const connect = () =>
      OdooClient.connect({
        url: ODOO_URL,
        db: ODOO_DB,
        login: ODOO_USER,
        ...(ODOO_API_KEY ? { apiKey: ODOO_API_KEY } : { password: ODOO_PASSWORD! }),
      });

    test('reconciles a line with an invoice (full, then partial), sees a replay as done, and undoes', async () => {
      const client = await connect();
      const companyId = ODOO_COMPANY_ID ? Number(ODOO_COMPANY_ID) : (await client.listCompanies())[0]!.id;
      const ledger = createOdooReconciliationLedger(client);
      const [journal] = await client.listBankJournals(companyId);
      assert.ok(journal, 'the target needs a bank journal');
      const items = await ledger.listOpenItems(companyId);
      assert.ok(items.length > 0);
      const invoice = items.find(
        (i) =>
          i.kind === 'customer_invoice' &&
          i.partnerId !== '' &&
          i.residual.currency === journal.currency &&
          i.residual.amount === i.amount.amount,
      );
      assert.ok(invoice, 'the target needs an unpaid customer invoice in the journal currency');
      assert.ok((await ledger.listPartnersByIban(companyId)) instanceof Map);
      const run = `${Date.now()}`;

      for (const [label, amount] of [
        ['full', invoice.residual.amount],
        ['partial', invoice.residual.amount / 2n],
      ] as const) {
        const created = await client.createStatementLines(companyId, [
          {
            journalId: journal.id,
            bankAccount: 'kontor-live-recon',
            statementId: run,
            entryRef: `${label}-${invoice.id}`,
            date: new Date().toISOString().slice(0, 10),
            amount: money(amount, journal.currency),
            paymentRef: invoice.paymentReference ?? invoice.number,
            partnerId: Number(invoice.partnerId),
          },
        ]);
        const statementLineId = created.outcomes[0]!.id!;
        const request: LedgerReconciliation = {
          companyId,
          statementLineId,
          allocations: [{ itemId: invoice.id, amount: money(amount, journal.currency) }],
        };
        assert.equal((await ledger.reconcileLine(request)).status, 'reconciled');
        const [after] = await client.readMoves(companyId, [Number(invoice.id)]);
        assert.equal(after!.residual.amount, invoice.residual.amount - amount, label);
        assert.equal((await ledger.reconcileLine(request)).status, 'already_reconciled');
        await ledger.undoReconciliation(companyId, statementLineId);
        const [reopened] = await client.readMoves(companyId, [Number(invoice.id)]);
        assert.equal(reopened!.residual.amount, invoice.residual.amount, `${label} undone`);

        const lines = await ledger.listJournalLines(companyId, journal.code, '2999-12-31');
        assert.ok(lines.some((l) => l.id === statementLineId));
      }
    });

    test('a camt.053 paying an invoice by its payment reference is reconciled in Odoo, once', async () => {
      const client = await connect();
      const companyId = ODOO_COMPANY_ID ? Number(ODOO_COMPANY_ID) : (await client.listCompanies())[0]!.id;
      const journal = (await client.listBankJournals(companyId)).find((j) => j.code !== undefined)!;
      const candidates = (await client.listOpenItems(companyId, { kinds: ['out_invoice'] })).filter(
        (i) =>
          i.partnerId !== undefined &&
          i.paymentReference !== undefined &&
          i.residual.currency === journal.currency &&
          i.residual.amount === i.total.amount,
      );
      // The last one: the connector contract takes the first, and both may run at once.
      const invoice = candidates.at(-1);
      assert.ok(invoice, 'the target needs an unpaid customer invoice with a payment reference');
      const dir = mkdtempSync(join(tmpdir(), 'kontor-live-recon-'));
      const iban = 'DE89370400440532013000';
      const kontor = await startKontor({
        config: parseConfig(
          `entities:\n  - {id: live, name: Live, country: DE, baseCurrency: ${journal.currency}, odooCompanyId: ${companyId}}\nbankAccounts:\n  - {id: live-bank, entity: live, iban: ${iban}, currency: ${journal.currency}, odooJournal: ${journal.code}}\n`,
        ),
        env: {
          KONTOR_DATA_DIR: join(dir, 'data'),
          ODOO_URL,
          ODOO_DB,
          ODOO_USER,
          ...(ODOO_API_KEY ? { ODOO_API_KEY } : { ODOO_PASSWORD }),
        },
        listen: false,
        logger: createLogger({ level: 'silent' }),
      });
      let odooLineId: number | undefined;
      try {
        const summary = await kontor.services.statements!.importFile({
          content: Buffer.from(
            makeCamt({
              iban,
              currency: journal.currency,
              statementId: `LIVE-RECON-${Date.now()}`,
              entries: [
                {
                  ref: `LR-${invoice.id}-${Date.now()}`,
                  amount: formatMoney(invoice.residual),
                  date: new Date().toISOString().slice(0, 10),
                  name: invoice.partnerName ?? 'Customer',
                  remittance: invoice.paymentReference!,
                },
              ],
            }),
          ),
          source: 'api',
          actor: 'live-test',
        });
        // A hub built without listening runs no background loops: post and reconcile explicitly.
        const statementId = summary.statements[0]!.id;
        await kontor.services.statements!.postPending();
        await kontor.services.reconciliation!.reconcileStatement(statementId);
        const rowOf = async () =>
          (
            await kontor.db.query<{
              status: string;
              odoo_state: string;
              odoo_line_id: bigint;
              explanation: string;
            }>(`SELECT status, odoo_state, odoo_line_id, explanation FROM reconciliation_items`)
          ).rows[0];
        const started = Date.now();
        while (Date.now() - started < 120_000) {
          const r = await rowOf();
          if (r !== undefined && r.odoo_state !== 'pending') break;
          await new Promise((resolve) => setTimeout(resolve, 200));
        }
        const row = await rowOf();
        assert.ok(row, 'the line was decided');
        odooLineId = Number(row.odoo_line_id);
        assert.equal(row.status, 'auto_reconciled', row.explanation);
        assert.equal(row.odoo_state, 'reconciled');
        const [paid] = await client.readMoves(companyId, [invoice.id]);
        assert.equal(paid!.residual.amount, 0n);
        const replay = await kontor.services.reconciliation!.reconcileStatement(statementId);
        assert.equal(replay.alreadyDecided, 1);
        assert.equal(replay.autoMatched + replay.reconciledInOdoo, 0);
      } finally {
        // Leave the shared Odoo as it was: the invoice open again.
        if (odooLineId !== undefined)
          await client.undoReconciliation(companyId, odooLineId).catch(() => undefined);
        await kontor.stop();
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
} else {
  test(
    'reconciliation adapter, live',
    { skip: 'set ODOO_URL, ODOO_DB, ODOO_USER and ODOO_API_KEY or ODOO_PASSWORD to run it' },
    () => {},
  );
}

// The reconciliation adapter against a real Odoo (ODOO_URL, ODOO_DB, ODOO_USER, ODOO_API_KEY or
// ODOO_PASSWORD set; else skipped): open items, partner index, reconcile (full and partial), a
// replay seen as already reconciled, undo, and the journal lines of the completeness check.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createOdooReconciliationLedger, OdooClient } from '../../src/connectors/odoo/index.ts';
import { money } from '../../src/domain/index.ts';

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
        const request = {
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
  });
} else {
  test(
    'reconciliation adapter, live',
    { skip: 'set ODOO_URL, ODOO_DB, ODOO_USER and ODOO_API_KEY or ODOO_PASSWORD to run it' },
    () => {},
  );
}

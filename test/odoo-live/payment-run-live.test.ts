// The payment run against a real Odoo (ODOO_URL, ODOO_DB, ODOO_USER, ODOO_API_KEY or ODOO_PASSWORD
// set; else skipped): a fresh vendor with an IBAN and a posted EUR bill → order → two approvals →
// release → pain.002 → the bill's residual is 0 in Odoo, and a replay registers nothing new.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { parseConfig } from '../../src/config/index.ts';
import { OdooClient } from '../../src/connectors/odoo/index.ts';
import { startKontor } from '../../src/main.ts';
import { createLogger } from '../../src/observability/index.ts';
import { makePain002 } from '../support/pain002.ts';

const { ODOO_URL, ODOO_DB, ODOO_USER, ODOO_API_KEY, ODOO_PASSWORD } = process.env;

if (ODOO_URL && ODOO_DB && ODOO_USER && (ODOO_API_KEY || ODOO_PASSWORD)) {
  describe(`payment run, live ${ODOO_URL}`, () => {
    test('pays a fresh vendor bill end to end and the residual drops to 0', async () => {
      const client = await OdooClient.connect({
        url: ODOO_URL,
        db: ODOO_DB,
        login: ODOO_USER,
        ...(ODOO_API_KEY ? { apiKey: ODOO_API_KEY } : { password: ODOO_PASSWORD! }),
      });
      const company = (await client.listCompanies()).find((c) => c.currency === 'EUR');
      assert.ok(company, 'the target needs a EUR company');
      const journal = (await client.listBankJournals(company.id)).find((j) => j.currency === 'EUR');
      assert.ok(journal, 'the target needs a EUR bank journal');
      const run = Date.now().toString(36);
      const partnerId = (await client.execute(company.id, {
        model: 'res.partner',
        method: 'create',
        params: {
          vals_list: [{ name: `Kontor Live Vendor ${run}`, is_company: true, company_id: company.id }],
        },
      })) as number[];
      await client.execute(company.id, {
        model: 'res.partner.bank',
        method: 'create',
        params: { vals_list: [{ partner_id: partnerId[0], acc_number: 'DE02120300000000202051' }] },
      });
      const billIds = (await client.execute(company.id, {
        model: 'account.move',
        method: 'create',
        params: {
          vals_list: [
            {
              move_type: 'in_invoice',
              partner_id: partnerId[0],
              invoice_date: '2026-11-01',
              invoice_date_due: '2026-11-15',
              ref: `LIVE-${run}`,
              invoice_line_ids: [
                [0, 0, { name: `live payment run ${run}`, quantity: 1, price_unit: 123.45 }],
              ],
            },
          ],
        },
      })) as number[];
      await client.execute(company.id, { model: 'account.move', method: 'action_post', ids: billIds });

      const dir = mkdtempSync(join(tmpdir(), 'kontor-payrun-live-'));
      const kontor = await startKontor({
        config: parseConfig(
          `entities:\n  - {id: live, name: Kontor Live GmbH, country: DE, baseCurrency: EUR, odooCompanyId: ${company.id}}\nbankAccounts:\n  - {id: live-eur, entity: live, iban: DE89370400440532013000, currency: EUR, odooJournal: ${journal.id}}\napprovalPolicy:\n  bands: [{currency: EUR, from: "0", approvals: 2}]\n`,
        ),
        listen: false,
        env: {
          KONTOR_DATA_DIR: join(dir, 'data'),
          KONTOR_XSD_DIR: new URL('../../../shared/fixtures/xsd/', import.meta.url).pathname,
          ODOO_URL,
          ODOO_DB,
          ODOO_USER,
          ...(ODOO_API_KEY ? { ODOO_API_KEY } : { ODOO_PASSWORD }),
        },
        logger: createLogger({ level: 'silent' }),
      });
      try {
        const p = kontor.services.paymentOrders!;
        const proposed = await p.propose({ bankAccountId: 'live-eur', dueBy: '2099-12-31', actor: 'clerk' });
        const order = await p.get(proposed.orderId);
        const line = order.lines.find((l) => l.bills.some((b) => b.billId === String(billIds[0])));
        assert.ok(line, 'the fresh bill is in the order');
        await p.submit({ orderId: order.id, actor: 'clerk' });
        await assert.rejects(
          p.approve({ orderId: order.id, approver: { id: 'clerk', kind: 'human', roles: [] } }),
        );
        await p.approve({ orderId: order.id, approver: { id: 'alice', kind: 'human', roles: [] } });
        assert.equal(
          (await p.approve({ orderId: order.id, approver: { id: 'bob', kind: 'human', roles: [] } })).state,
          'approved',
        );
        const released = await p.release({ orderId: order.id, actor: 'clerk' });
        assert.equal(released.fileName, `${order.messageId}.xml`);
        const report = makePain002(
          order.messageId,
          order.lines.map((l) => ({ endToEndId: l.endToEndId, status: 'ACSC' })),
        );
        const applied = await p.applyStatusReport({ xml: report, actor: 'bank' });
        assert.deepEqual(applied.registrationFailures, []);
        assert.equal((await p.applyStatusReport({ xml: report, actor: 'bank' })).registered, 0);
        const [bill] = await client.readMoves(company.id, billIds);
        assert.equal(bill!.residual.amount, 0n, `bill ${bill!.name} is ${bill!.paymentState}`);
      } finally {
        await kontor.stop();
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
}

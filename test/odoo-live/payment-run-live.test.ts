// The payment run against a real Odoo (ODOO_URL, ODOO_DB, ODOO_USER, ODOO_API_KEY or ODOO_PASSWORD
// set; else skipped): a fresh vendor with an IBAN and a posted EUR bill → order → two approvals →
// release → pain.002 → the bill's residual is 0 in Odoo, and a replay registers nothing new → a
// camt.054 debit line with the EndToEndId is reconciled with the registered payment (paid, matched).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { parseConfig } from '../../src/config/index.ts';
import { createOdooReconciliationLedger, OdooClient } from '../../src/connectors/odoo/index.ts';
import { startKontor } from '../../src/main.ts';
import { createLogger } from '../../src/observability/index.ts';
import { makePain002 } from '../support/pain002.ts';

const { ODOO_URL, ODOO_DB, ODOO_USER, ODOO_API_KEY, ODOO_PASSWORD } = process.env;

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
        // Community 18 has no 'in_payment' (that is account_accountant's): the bill is paid already.
        assert.equal(bill!.paymentState, 'paid');

        // The bank's debit notification carries the same EndToEndId: the payment is matched with it.
        const ledger = createOdooReconciliationLedger(client);
        const registered = (await ledger.findRegisteredPayments(company.id, [line.endToEndId])).get(
          line.endToEndId,
        );
        assert.ok(registered, 'the payment is found by its EndToEndId');
        // Odoo 18: in_process, then paid once matched; Odoo 17 keeps `posted` and says it with is_matched.
        assert.ok(['in_process', 'posted'].includes(registered.state), registered.state);
        assert.equal(registered.matched, false);
        const summary = await kontor.services.statements!.importFile({
          content: Buffer.from(
            makeCamt054({
              iban: 'DE89370400440532013000',
              currency: 'EUR',
              id: `LIVE-NTF-${run}`,
              date: new Date().toISOString().slice(0, 10),
              entries: [
                {
                  ref: `LIVE-DEBIT-${run}`,
                  amount: `-${line.amount.amount}`,
                  endToEndId: line.endToEndId,
                  name: `Kontor Live Vendor ${run}`,
                },
              ],
            }),
          ),
          source: 'api',
          actor: 'live-test',
        });
        await kontor.services.statements!.postPending();
        const result = await kontor.services.reconciliation!.reconcileStatement(summary.statements[0]!.id);
        assert.equal(result.autoMatched, 1);
        assert.equal(result.reconciledInOdoo, 1);
        const [item] = (
          await kontor.services.reconciliation!.listExceptions({ statuses: ['auto_reconciled'] })
        ).data;
        assert.ok(item);
        assert.equal(item.rule, 'payment-end-to-end-id');
        assert.match(
          item.explanation,
          new RegExp(`EndToEndId ${line.endToEndId} matched payment ${registered.name}`),
        );
        const after = (await ledger.findRegisteredPayments(company.id, [line.endToEndId])).get(
          line.endToEndId,
        )!;
        assert.ok(['paid', 'posted'].includes(after.state), after.state);
        assert.equal(after.matched, true);
        const [settled] = await client.readMoves(company.id, billIds);
        assert.equal(settled!.paymentState, 'paid');
        const [statementLine] = await client.readStatementLines(company.id, [item.odoo.statementLineId!]);
        assert.equal(statementLine!.isReconciled, true);
        // A replay finds the line decided and calls Odoo for nothing.
        const replay = await kontor.services.reconciliation!.reconcileStatement(summary.statements[0]!.id);
        assert.equal(replay.autoMatched + replay.reconciledInOdoo, 0);
      } finally {
        await kontor.stop();
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
}

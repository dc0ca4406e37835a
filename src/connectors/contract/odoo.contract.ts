/**
 * The behaviours every Odoo connection must show, sandbox or real: auth, named-field reads, batched
 * idempotent writes, replay after a crash, isolated validation errors, reconciliation with undo and
 * multi-company isolation. Register it with a factory that connects a client.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { type AppError, ErrorCodes, money } from '../../domain/index.ts';
import {
  createOdooReconciliationLedger,
  type OdooBankJournal,
  type OdooClient,
  type OdooCredentials,
  type StatementLineInput,
} from '../odoo/index.ts';

/** How the suite reaches one Odoo. */
export interface OdooContractTarget {
  name: string;
  /** Connects a client; `override` replaces credentials (used to try bad ones). */
  connect(override?: Partial<OdooCredentials>): Promise<OdooClient>;
  /** The legal entity's company; defaults to the first company with a bank journal. */
  companyId?: number;
  close?(): Promise<void>;
}

/** Registers the Odoo connector contract tests for one target. */
export function registerOdooContract(setup: () => Promise<OdooContractTarget>): void {
  describe('Odoo connector contract', () => {
    let target: OdooContractTarget;
    let client: OdooClient;
    let companyId: number;
    let journal: OdooBankJournal;
    const run = randomUUID();
    const today = new Date().toISOString().slice(0, 10);

    const line = (
      entryRef: string,
      cents: bigint,
      extra: Partial<StatementLineInput> = {},
    ): StatementLineInput => ({
      journalId: journal.id,
      bankAccount: journal.accountNumber ?? `journal-${journal.id}`,
      statementId: `contract-${run}`,
      entryRef,
      date: today,
      amount: money(cents, journal.currency),
      paymentRef: `Kontor contract ${entryRef}`,
      ...extra,
    });

    before(async () => {
      target = await setup();
      client = await target.connect();
      const companies = await client.listCompanies();
      for (const company of companies) {
        if (target.companyId !== undefined && company.id !== target.companyId) continue;
        const [first] = await client.listBankJournals(company.id);
        if (first) {
          companyId = company.id;
          journal = first;
          break;
        }
      }
      assert.ok(journal, 'the target needs a company with a bank journal');
    });

    after(async () => {
      await target?.close?.();
    });

    test('authenticates with good credentials and reports the server version', () => {
      assert.ok(client.uid > 0);
      assert.ok(client.version.major >= 16, `version ${client.version.serverVersion}`);
    });

    test('refuses bad credentials with a non-retryable ODOO_ACCESS_DENIED', async () => {
      await assert.rejects(
        target.connect({ apiKey: 'not-a-valid-key', password: 'not-a-valid-key' }),
        (error: AppError) => {
          assert.equal(error.code, ErrorCodes.ODOO_ACCESS_DENIED);
          assert.equal(error.retryable, false);
          return true;
        },
      );
    });

    test('reads reference data with named fields only', async () => {
      const companies = await client.listCompanies();
      assert.ok(companies.some((c) => c.id === companyId && c.currency.length === 3));
      const currencies = await client.listCurrencies(companyId);
      assert.ok(currencies.some((c) => c.code === journal.currency));
      const rates = await client.listCurrencyRates(companyId);
      assert.ok(
        rates.every((r) => /^\d+(\.\d+)?(e-?\d+)?$/.test(r.rate) && /^\d{4}-\d{2}-\d{2}$/.test(r.date)),
      );
      const partners = await client.listPartners(companyId, { limit: 5 });
      assert.ok(partners.length > 0 && partners.every((p) => typeof p.name === 'string'));
      assert.deepEqual(Object.keys(partners[0]!).sort(), ['email', 'id', 'isCompany', 'name', 'vat']);
      const banks = await client.listPartnerBanks(companyId);
      assert.ok(banks.every((b) => b.accountNumber.length > 0 && b.partnerId > 0));
      const accounts = await client.listAccounts(companyId);
      assert.ok(accounts.some((a) => a.accountType === 'asset_receivable' && a.reconcile));
      assert.ok(accounts.some((a) => a.accountType === 'liability_payable'));
      const analytic = await client.listAnalyticAccounts(companyId);
      assert.ok(Array.isArray(analytic));
      assert.ok(journal.suspenseAccountId !== undefined);
    });

    test('lists open items as Money with residual, reference, due date and partner', async () => {
      const items = await client.listOpenItems(companyId);
      assert.ok(items.length > 0, 'the target needs posted open invoices or bills');
      for (const item of items) {
        assert.equal(item.state, 'posted');
        assert.ok(item.residual.amount > 0n);
        assert.ok(item.residual.amount <= item.total.amount);
        assert.ok(['out_invoice', 'in_invoice', 'out_refund', 'in_refund'].includes(item.kind));
      }
      assert.ok(
        items.some((i) => i.kind === 'out_invoice' && i.partnerId !== undefined && i.dueDate !== undefined),
      );
    });

    test('writes statement lines in batches and a re-sent batch creates nothing new', async () => {
      const lines = [1n, 2n, 3n, 4n, 5n].map((n) => line(`idem-${n}`, 1000n + n));
      const first = await client.createStatementLines(companyId, lines, { batchSize: 2 });
      assert.equal(first.created, 5);
      assert.equal(first.failed, 0);
      const count = await client.countStatementLines(companyId, journal.id);
      const second = await client.createStatementLines(companyId, lines, { batchSize: 2 });
      assert.equal(second.created, 0);
      assert.equal(second.existing, 5);
      assert.deepEqual(
        second.outcomes.map((o) => o.id),
        first.outcomes.map((o) => o.id),
      );
      assert.equal(await client.countStatementLines(companyId, journal.id), count);
      const read = await client.readStatementLines(
        companyId,
        first.outcomes.map((o) => o.id!),
      );
      assert.deepEqual(
        read.map((r) => r.amount.amount),
        [1001n, 1002n, 1003n, 1004n, 1005n],
      );
      assert.ok(read.every((r) => r.journalId === journal.id && !r.isReconciled));
    });

    test('replays a batch after a simulated crash without duplicates', async () => {
      const lines = [1n, 2n, 3n, 4n, 5n, 6n].map((n) => line(`crash-${n}`, 2000n + n));
      const before = await client.countStatementLines(companyId, journal.id);
      // The "crash": the first half reached Odoo, then the process died before recording the answer.
      const partial = await client.createStatementLines(companyId, lines.slice(0, 3));
      const replay = await client.createStatementLines(companyId, lines);
      assert.deepEqual(
        replay.outcomes.map((o) => o.status),
        ['existing', 'existing', 'existing', 'created', 'created', 'created'],
      );
      assert.deepEqual(
        replay.outcomes.slice(0, 3).map((o) => o.id),
        partial.outcomes.map((o) => o.id),
      );
      assert.equal(await client.countStatementLines(companyId, journal.id), before + 6);
    });

    test('isolates an invalid record of a batch and keeps the rest', async () => {
      const lines = [1n, 2n, 3n, 4n, 5n].map((n) =>
        line(`bad-${n}`, 3000n + n, n === 3n ? { partnerId: 999_999_999 } : {}),
      );
      const result = await client.createStatementLines(companyId, lines, { batchSize: 5 });
      assert.equal(result.created, 4);
      assert.equal(result.failed, 1);
      const failed = result.outcomes[2]!;
      assert.equal(failed.status, 'failed');
      assert.match(failed.error ?? '', /999999999/);
      assert.ok(result.outcomes.filter((o) => o.status === 'created').every((o) => typeof o.id === 'number'));
      const again = await client.createStatementLines(companyId, lines, { batchSize: 5 });
      assert.equal(again.existing, 4);
      assert.equal(again.failed, 1);
    });

    test('creates and posts payments idempotently', async () => {
      const [partner] = (await client.listOpenItems(companyId, { kinds: ['in_invoice'] })).filter(
        (i) => i.partnerId !== undefined,
      );
      assert.ok(partner, 'the target needs an open vendor bill');
      const input = {
        key: `contract-${run}-pay-1`,
        paymentType: 'outbound' as const,
        partnerType: 'supplier' as const,
        partnerId: partner.partnerId!,
        journalId: journal.id,
        amount: money(1234n, journal.currency),
        date: today,
        memo: `Kontor contract ${run}`,
      };
      const first = await client.createPayments(companyId, [input]);
      assert.equal(first.created, 1);
      const second = await client.createPayments(companyId, [input]);
      assert.equal(second.existing, 1);
      assert.equal(second.outcomes[0]!.id, first.outcomes[0]!.id);
      const [payment] = await client.readPayments(companyId, [first.outcomes[0]!.id!]);
      assert.ok(payment && payment.state !== 'draft', `payment state ${payment?.state}`);
      assert.equal(payment.amount.amount, 1234n);
    });

    test('reconciles a statement line with an open invoice and undoes it', async () => {
      const invoices = await client.listOpenItems(companyId, { kinds: ['out_invoice'] });
      const invoice = invoices.find(
        (i) =>
          i.partnerId !== undefined &&
          i.residual.currency === journal.currency &&
          i.residual.amount === i.total.amount,
      );
      assert.ok(invoice, 'the target needs an unpaid customer invoice in the journal currency');
      const created = await client.createStatementLines(companyId, [
        line(`rec-${invoice.id}`, invoice.residual.amount, {
          partnerId: invoice.partnerId!,
          paymentRef: invoice.paymentReference ?? invoice.name,
        }),
      ]);
      const statementLineId = created.outcomes[0]!.id!;
      const openLines = await client.listOpenLines(companyId, [invoice.id]);
      assert.ok(openLines.length > 0);
      await client.reconcileStatementLine(companyId, {
        statementLineId,
        moveLineIds: openLines.map((l) => l.id),
      });
      const [paid] = await client.readMoves(companyId, [invoice.id]);
      assert.equal(paid!.residual.amount, 0n);
      assert.ok(['paid', 'in_payment'].includes(paid!.paymentState), paid!.paymentState);
      const [reconciled] = await client.readStatementLines(companyId, [statementLineId]);
      assert.equal(reconciled!.isReconciled, true);
      await assert.rejects(
        client.reconcileStatementLine(companyId, {
          statementLineId,
          moveLineIds: openLines.map((l) => l.id),
        }),
        (e: AppError) => e.code === ErrorCodes.CONFLICT,
      );

      await client.undoReconciliation(companyId, statementLineId);
      const [reopened] = await client.readMoves(companyId, [invoice.id]);
      assert.equal(reopened!.residual.amount, invoice.residual.amount);
      assert.equal(reopened!.paymentState, 'not_paid');
      const [undone] = await client.readStatementLines(companyId, [statementLineId]);
      assert.equal(undone!.isReconciled, false);

      // A run that stopped after re-pointing the suspense item and before the reconcile (Odoo then
      // already reports the line as reconciled) is finished by the next call, not refused.
      const reopenedLines = await client.listOpenLines(companyId, [invoice.id]);
      const counterpart = (await client.execute(companyId, {
        model: 'account.move.line',
        method: 'search_read',
        params: {
          domain: [
            ['move_id', '=', undone!.moveId],
            ['account_id', '!=', reopenedLines[0]!.accountId],
            ['reconciled', '=', false],
            ['balance', `${invoice.total.amount > 0n ? '<' : '>'}`, 0],
          ],
          fields: ['id'],
        },
      })) as { id: number }[];
      assert.equal(counterpart.length, 1, 'one suspense item');
      await client.execute(companyId, {
        model: 'account.move.line',
        method: 'write',
        ids: [counterpart[0]!.id],
        params: { vals: { account_id: reopenedLines[0]!.accountId, partner_id: invoice.partnerId } },
      });
      await client.reconcileStatementLine(companyId, {
        statementLineId,
        moveLineIds: reopenedLines.map((l) => l.id),
      });
      const [finished] = await client.readMoves(companyId, [invoice.id]);
      assert.equal(finished!.residual.amount, 0n);
      await client.undoReconciliation(companyId, statementLineId);
    });

    test('books a bank-charges write-off in the same reconciliation: residual 0, line reconciled, replay and undo', async () => {
      const ledger = createOdooReconciliationLedger(client);
      const unpaid = (await client.listOpenItems(companyId, { kinds: ['out_invoice'] })).filter(
        (i) =>
          i.partnerId !== undefined &&
          i.residual.currency === journal.currency &&
          i.residual.amount === i.total.amount &&
          i.residual.amount > 1000n,
      );
      // Not the first one: the plain reconciliation test above takes that, and tests may run at once.
      const invoice = unpaid[1] ?? unpaid[0];
      assert.ok(invoice, 'the target needs an unpaid customer invoice in the journal currency');
      const fee = 150n;
      const created = await client.createStatementLines(companyId, [
        line(`wo-${invoice.id}`, invoice.residual.amount - fee, {
          partnerId: invoice.partnerId!,
          paymentRef: invoice.paymentReference ?? invoice.name,
        }),
      ]);
      const statementLineId = created.outcomes[0]!.id!;
      const request = {
        companyId,
        statementLineId,
        allocations: [{ itemId: String(invoice.id), amount: invoice.residual }],
        writeOff: { amount: money(-fee, journal.currency), account: 'bank-charges' },
      };
      try {
        assert.deepEqual(await ledger.reconcileLine(request), {
          status: 'reconciled',
          writeOffSkipped: false,
        });
        const [paid] = await client.readMoves(companyId, [invoice.id]);
        assert.equal(paid!.residual.amount, 0n);
        assert.ok(['paid', 'in_payment'].includes(paid!.paymentState), paid!.paymentState);
        const [reconciled] = await client.readStatementLines(companyId, [statementLineId]);
        assert.equal(reconciled!.isReconciled, true);
        assert.equal(reconciled!.residual.amount, 0n);
        const items = (await client.execute(companyId, {
          model: 'account.move.line',
          method: 'search_read',
          params: { domain: [['move_id', '=', reconciled!.moveId]], fields: ['account_id', 'balance'] },
        })) as { account_id: [number, string]; balance: number }[];
        const fees = items.filter((i) => i.balance === Number(fee) / 100);
        assert.equal(fees.length, 1, JSON.stringify(items));
        assert.match(fees[0]!.account_id[1], /bank fees/i);
        // A replay books nothing twice.
        assert.equal((await ledger.reconcileLine(request)).status, 'already_reconciled');
        assert.equal(
          await client.execute(companyId, {
            model: 'account.move.line',
            method: 'search_count',
            params: { domain: [['move_id', '=', reconciled!.moveId]] },
          }),
          items.length,
        );
      } finally {
        await client.undoReconciliation(companyId, statementLineId);
      }
      const [reopened] = await client.readMoves(companyId, [invoice.id]);
      assert.equal(reopened!.residual.amount, invoice.residual.amount);
      const [undone] = await client.readStatementLines(companyId, [statementLineId]);
      assert.equal(undone!.isReconciled, false);
      assert.equal(undone!.residual.amount, -(invoice.residual.amount - fee));
    });

    test('finds a registered payment by its key and reconciles a debit line with its outstanding item', async () => {
      const ledger = createOdooReconciliationLedger(client);
      const bill = (await client.listOpenItems(companyId, { kinds: ['in_invoice'] })).find(
        (b) => b.partnerId !== undefined,
      );
      assert.ok(bill, 'the target needs an open vendor bill');
      const key = `E2E-contract-${run}`;
      const paid = await client.createPayments(companyId, [
        {
          key,
          paymentType: 'outbound',
          partnerType: 'supplier',
          partnerId: bill.partnerId!,
          journalId: journal.id,
          amount: money(4321n, journal.currency),
          date: today,
          memo: `Kontor contract ${key}`,
        },
      ]);
      const paymentId = paid.outcomes[0]!.id!;
      const found = await ledger.findRegisteredPayments(companyId, [key, `${key}-unknown`]);
      assert.equal(found.size, 1);
      const payment = found.get(key)!;
      assert.equal(payment.paymentId, paymentId);
      assert.equal(payment.amount.amount, 4321n);
      assert.equal(payment.outbound, true);
      assert.equal(payment.matched, false);
      // Odoo 18 has in_process → paid; Odoo 17 keeps `posted` and says it with is_matched.
      assert.ok(['in_process', 'posted'].includes(payment.state), payment.state);
      const created = await client.createStatementLines(companyId, [
        line(`pay-${key}`, -4321n, { partnerId: bill.partnerId!, paymentRef: key }),
      ]);
      const statementLineId = created.outcomes[0]!.id!;
      const request = {
        companyId,
        statementLineId,
        allocations: [{ itemId: `payment:${paymentId}`, amount: money(-4321n, journal.currency) }],
      };
      assert.equal((await ledger.reconcileLine(request)).status, 'reconciled');
      const [after] = await client.readPayments(companyId, [paymentId]);
      assert.ok(['paid', 'posted'].includes(after!.state), after!.state);
      assert.equal((await ledger.findRegisteredPayments(companyId, [key])).get(key)!.matched, true);
      const [reconciled] = await client.readStatementLines(companyId, [statementLineId]);
      assert.equal(reconciled!.isReconciled, true);
      assert.equal((await ledger.reconcileLine(request)).status, 'already_reconciled');
      await ledger.undoReconciliation(companyId, statementLineId);
      const [reopened] = await client.readPayments(companyId, [paymentId]);
      assert.equal(reopened!.state, payment.state);
      assert.equal((await ledger.findRegisteredPayments(companyId, [key])).get(key)!.matched, false);
      const [undone] = await client.readStatementLines(companyId, [statementLineId]);
      assert.equal(undone!.isReconciled, false);
    });

    test('keeps companies isolated through allowed_company_ids', async (t) => {
      const other = (await client.listCompanies()).find((c) => c.id !== companyId);
      if (!other) {
        t.skip('the user has access to one company only');
        return;
      }
      const own = await client.listBankJournals(companyId);
      const theirs = await client.listBankJournals(other.id);
      assert.ok(own.every((j) => j.companyId === companyId));
      assert.ok(theirs.every((j) => j.companyId === other.id));
      const theirJournal = theirs[0];
      if (!theirJournal) return;
      assert.ok(!own.some((j) => j.id === theirJournal.id));
      const ownItems = new Set((await client.listOpenItems(companyId)).map((i) => i.id));
      assert.ok((await client.listOpenItems(other.id)).every((i) => !ownItems.has(i.id)));
      await assert.rejects(
        client.execute(companyId, {
          model: 'account.journal',
          method: 'read',
          ids: [theirJournal.id],
          params: { fields: ['name'] },
        }),
        (e: AppError) => e.code === ErrorCodes.ODOO_ACCESS_ERROR && !e.retryable,
      );
      const crossed = await client.createStatementLines(companyId, [
        line('cross-company', 500n, { journalId: theirJournal.id }),
      ]);
      assert.equal(crossed.failed, 1);
      assert.equal(crossed.created, 0);
    });
  });
}

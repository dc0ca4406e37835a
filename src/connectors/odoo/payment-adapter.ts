/**
 * The Odoo side of the payment run's {@link VendorPayables} port: open vendor bills with the
 * vendor's bank account, and outbound payments registered against bills, once per EndToEndId
 * (the payment's external id), then reconciled with the bills so their residual drops.
 */
import { electronicFormatIBAN } from 'ibantools';
import {
  ConflictError,
  type OpenVendorBill,
  type VendorPayables,
  type VendorPaymentRegistration,
} from '../../domain/index.ts';
import type { OdooClient } from './client.ts';
import { createJournalResolver } from './journal-resolver.ts';

type Row = Record<string, unknown>;

function m2oId(value: unknown): number | undefined {
  return Array.isArray(value) && typeof value[0] === 'number' ? value[0] : undefined;
}

function odooDate(value: unknown): Date | undefined {
  // Odoo datetimes are UTC text "YYYY-MM-DD HH:MM:SS".
  return typeof value === 'string' && value !== '' ? new Date(`${value.replace(' ', 'T')}Z`) : undefined;
}

/** Implements {@link VendorPayables} over an Odoo client. */
export function createOdooVendorPayables(client: OdooClient): VendorPayables {
  const journalId = createJournalResolver(client);

  /** Reads optional audit fields; an Odoo (or sandbox) without them gives no dates rather than failing the run. */
  async function readDates(companyId: number, model: string, ids: number[]): Promise<Map<number, Row>> {
    if (ids.length === 0) return new Map();
    try {
      const rows = (await client.execute(companyId, {
        model,
        method: 'read',
        ids,
        params: { fields: ['create_date', 'write_date'] },
      })) as Row[];
      return new Map(rows.map((r) => [r.id as number, r]));
    } catch {
      // Missing dates make the policy fail closed (vendor facts unknown), which is the safe side.
      return new Map();
    }
  }

  async function payableLines(companyId: number, domain: unknown[]): Promise<Row[]> {
    return (await client.execute(companyId, {
      model: 'account.move.line',
      method: 'search_read',
      params: {
        domain: [...domain, ['account_type', '=', 'liability_payable'], ['reconciled', '=', false]],
        fields: ['move_id', 'amount_residual'],
      },
    })) as Row[];
  }

  return {
    async listOpenVendorBills({ companyId, currency, dueBy }) {
      const items = (await client.listOpenItems(companyId, { kinds: ['in_invoice'] })).filter(
        (b) =>
          b.state === 'posted' &&
          b.residual.amount > 0n &&
          b.residual.currency === currency &&
          (b.dueDate ?? b.invoiceDate ?? '') <= dueBy,
      );
      const partnerIds = [...new Set(items.flatMap((b) => (b.partnerId === undefined ? [] : [b.partnerId])))];
      const banks = partnerIds.length === 0 ? [] : await client.listPartnerBanks(companyId, { partnerIds });
      const partnerDates = await readDates(companyId, 'res.partner', partnerIds);
      const bankDates = await readDates(
        companyId,
        'res.partner.bank',
        banks.map((b) => b.id),
      );
      return items.flatMap((b): OpenVendorBill[] => {
        if (b.partnerId === undefined) return [];
        // Prefer an account in the bill's currency; Odoo keeps several per vendor.
        const own = banks.filter((k) => k.partnerId === b.partnerId);
        const bank = own.find((k) => k.currency === currency) ?? own[0];
        const iban = bank === undefined ? undefined : electronicFormatIBAN(bank.accountNumber);
        const changed = bank === undefined ? undefined : bankDates.get(bank.id);
        const created = partnerDates.get(b.partnerId)?.create_date;
        const bankChangedAt = odooDate(changed?.write_date) ?? odooDate(changed?.create_date);
        const vendorCreatedAt = odooDate(created);
        return [
          {
            billId: String(b.id),
            number: b.name,
            vendorId: String(b.partnerId),
            vendorName: b.partnerName ?? `partner ${b.partnerId}`,
            amountDue: b.residual,
            ...(b.invoiceDate === undefined ? {} : { billDate: b.invoiceDate }),
            ...(b.dueDate === undefined ? {} : { dueDate: b.dueDate }),
            // Vendor bills carry the vendor's reference in `ref` or `payment_reference`.
            ...((b.paymentReference ?? b.ref) === undefined
              ? {}
              : { paymentReference: (b.paymentReference ?? b.ref)! }),
            ...(iban === undefined || iban === null ? {} : { vendorIban: iban }),
            ...(vendorCreatedAt === undefined ? {} : { vendorCreatedAt }),
            ...(bankChangedAt === undefined ? {} : { bankAccountChangedAt: bankChangedAt }),
          },
        ];
      });
    },

    async registerVendorPayment(input: VendorPaymentRegistration) {
      const { companyId } = input;
      const journal = await journalId(companyId, input.journal);
      const result = await client.createPayments(companyId, [
        {
          key: input.endToEndId,
          paymentType: 'outbound',
          partnerType: 'supplier',
          partnerId: Number(input.vendorId),
          journalId: journal,
          amount: input.amount,
          date: input.date,
          memo: input.memo,
        },
      ]);
      const outcome = result.outcomes[0];
      if (outcome?.id === undefined)
        throw new ConflictError(
          `Odoo did not create the payment ${input.endToEndId}: ${outcome?.error ?? 'no outcome'}`,
        );
      const paymentId = outcome.id;
      const [payment] = (await client.execute(companyId, {
        model: 'account.payment',
        method: 'read',
        ids: [paymentId],
        params: { fields: ['move_id'] },
      })) as Row[];
      const moveId = m2oId(payment?.move_id);
      if (moveId === undefined) return { paymentId };
      const paymentLines = await payableLines(companyId, [['move_id', '=', moveId]]);
      // Already reconciled on an earlier attempt: the payment's payable line is no longer open.
      if (paymentLines.length === 0) return { paymentId };
      const billLines = await payableLines(companyId, [['move_id', 'in', input.billIds.map(Number)]]);
      if (billLines.length === 0) return { paymentId };
      await client.execute(companyId, {
        model: 'account.move.line',
        method: 'reconcile',
        ids: [...paymentLines, ...billLines].map((l) => l.id as number),
      });
      return { paymentId };
    },
  };
}
